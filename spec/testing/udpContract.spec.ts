// The UdpSocket contract (spec/support/udpContract.ts) on MemoryDatagramNetwork sockets; its real-socket half is in spec/integration.
import { VirtualTimeScheduler } from 'rxjs';
import { MemoryDatagramNetwork } from '../../lib/testing';
import { udpContract } from '../support/udpContract';

// A clock nobody advances: the contract is about what send and bind refuse, not about deliveries.
const network = new MemoryDatagramNetwork({ scheduler: new VirtualTimeScheduler() });

udpContract('MemoryDatagramNetwork', (options) => network.bind(options));
