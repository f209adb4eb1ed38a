// A UDP echo server on 9007: every datagram goes back to its sender (`nc -u 127.0.0.1 9007` talks to it).
import { isIPv6 } from 'net';
import { Observable, switchMap, tap } from 'rxjs';
import { bindUdp, sendDatagrams } from '../lib';
import type { DatagramSendStats, UdpSocket } from '../lib';
import { Log, consoleLog, demoArgs, integerFlag, stopOnSignal } from './support';

export interface UdpEchoOptions {
  port: number;
  /** Bind address (default 127.0.0.1; an IPv6 address binds a udp6 socket). */
  host?: string;
  /**
   * Datagrams per second echoed to one sender after a burst of as many (default 1000; 0: no limit).
   * An echo answers whoever a datagram claims to come from: the limit keeps a forged sender from
   * turning it against a third party at full speed.
   */
  rate?: number;
  /** Log every datagram (default true). */
  verbose?: boolean;
  log?: Log;
  /** Told the bound address (the real port when 0 was asked for). */
  bound?: (address: UdpSocket['local']) => void;
  /** Counters of the echoes sent, dropped (more than 1,024 awaiting the kernel) and refused. */
  stats?: DatagramSendStats;
}

/** The echo: binds, then sends every datagram back where it came from until unsubscribed. */
export function udpEcho(options: UdpEchoOptions): Observable<never> {
  const log = options.log ?? consoleLog;
  const host = options.host ?? '127.0.0.1';
  const rate = options.rate ?? 1000;
  return bindUdp({
    type: isIPv6(host) ? 'udp6' : 'udp4',
    port: options.port,
    address: host,
    rateLimit: rate > 0 ? { burst: rate, perSecond: rate } : undefined,
    bound: (address) => {
      log('udp-echo listening: ' + JSON.stringify(address));
      options.bound?.(address);
    },
  }).pipe(
    // A received datagram carries its sender's address: sent as it is, it goes back there. A send the
    // kernel refuses loses that echo (counted), as UDP may; the echo goes on.
    switchMap((socket) =>
      socket.messages$.pipe(
        tap((d) => options.verbose !== false && log(`${d.size} B from ${d.address}:${d.port}`)),
        sendDatagrams(socket, { stats: options.stats }),
      ),
    ),
  );
}

export async function main(argv: string[]): Promise<void> {
  const { port, values } = demoArgs(argv, 9007, {
    host: { type: 'string' },
    rate: { type: 'string' },
    quiet: { type: 'boolean' },
  });
  const rate = values.rate === undefined ? undefined : integerFlag('--rate', values.rate, 0);
  const subscription = udpEcho({
    port,
    host: values.host as string | undefined,
    rate,
    verbose: values.quiet !== true,
  }).subscribe({
    error: (error) => {
      console.error('udp-echo failed:', error.code ?? '', error.message);
      process.exitCode = 1;
    },
  });
  stopOnSignal(subscription, () => console.log('udp-echo stopped'));
}

if (require.main === module) void main(process.argv.slice(2));
