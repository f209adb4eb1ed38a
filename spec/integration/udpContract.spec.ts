// The UdpSocket contract (spec/support/udpContract.ts) on bindUdp's sockets over loopback; its memory half is in spec/testing.
import { bindUdp } from '../../lib/udp/bindUdp';
import { probeUdpLoopback } from '../support/udp';
import { udpContract } from '../support/udpContract';

const { ipv6 } = probeUdpLoopback();

udpContract('bindUdp', (options) => bindUdp(options), { udp6: ipv6 === true ? undefined : ipv6 });
