// The udp workload's servers in Node: a hand-written `dgram` echo and rxnet's, each run as its own process.
//   node udppeers.js KIND      prints "listening PORT"; exits on SIGTERM
import * as dgram from 'dgram';
import { mergeMap } from 'rxjs';
import { bindUdp, sendDatagrams } from '../lib';

/**
 * The Node servers: `dgram` as one writes it by hand; `rxnet` as bindUdp's docs write an echo
 * (`messages$.pipe(sendDatagrams(socket))`), `rxnet-send` as UdpSocket's docs do (`mergeMap` over
 * `socket.send(d.data, d)`, a Promise per datagram).
 */
export const UDP_NODE_KINDS = ['dgram', 'rxnet', 'rxnet-send'] as const;
export type UdpNodeKind = (typeof UDP_NODE_KINDS)[number];

/**
 * Receive and send buffers asked of the kernel by both servers alike (it caps them at
 * net.core.rmem_max / wmem_max): a window of 256 datagrams of 1 KiB overflows Linux's default
 * 208 KiB while a server is behind, and the run would measure loss rather than throughput.
 */
export const UDP_BUFFER_BYTES = 4 * 1024 * 1024;

/** A server of the workload, bound. */
export interface UdpServer {
  readonly port: number;
  close(): void;
}

/** Starts a `kind` echo on 127.0.0.1:0. */
export function serve(kind: UdpNodeKind): Promise<UdpServer> {
  if (kind === 'dgram') {
    return new Promise((resolve, reject) => {
      const socket = dgram.createSocket({
        type: 'udp4',
        recvBufferSize: UDP_BUFFER_BYTES,
        sendBufferSize: UDP_BUFFER_BYTES,
      });
      socket.once('error', reject);
      socket.on('message', (msg, rinfo) => socket.send(msg, rinfo.port, rinfo.address));
      socket.bind(0, '127.0.0.1', () => {
        socket.removeListener('error', reject);
        // A refused send is the client's loss, not the server's end.
        socket.on('error', () => {});
        resolve({ port: socket.address().port, close: () => socket.close() });
      });
    });
  }
  return new Promise((resolve, reject) => {
    // Every datagram goes back to its sender.
    const subscription = bindUdp({
      type: 'udp4',
      port: 0,
      address: '127.0.0.1',
      recvBufferSize: UDP_BUFFER_BYTES,
      sendBufferSize: UDP_BUFFER_BYTES,
      bound: (address) => resolve({ port: address.port, close: () => subscription.unsubscribe() }),
    })
      .pipe(
        mergeMap((socket) =>
          kind === 'rxnet'
            ? socket.messages$.pipe(sendDatagrams(socket))
            : socket.messages$.pipe(mergeMap((d) => socket.send(d.data, d))),
        ),
      )
      .subscribe({ error: reject });
  });
}

async function main(argv: string[]): Promise<void> {
  const kind = argv[0] as UdpNodeKind;
  if (!UDP_NODE_KINDS.includes(kind)) throw new Error(`usage: udppeers.js ${UDP_NODE_KINDS.join('|')}`);
  const { port } = await serve(kind);
  // Exit (rather than die) on the runner's SIGTERM, so that node --cpu-prof writes its profile.
  process.once('SIGTERM', () => process.exit(0));
  console.log(`listening ${port}`);
}

if (require.main === module) {
  main(process.argv.slice(2)).catch((error: Error) => {
    console.error(error.message);
    process.exitCode = 1;
  });
}
