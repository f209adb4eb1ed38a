// Reactive twin of the seed's client (000): three named connections, each writes once and prints the reply.
import { Observable, concat, forkJoin, ignoreElements, map, mergeMap, of, take, tap } from 'rxjs';
import { connect, sendTo } from '../lib';
import { Log, consoleLog, demoArgs, stopOnSignal } from './support';

export const NAMED_MESSAGES: ReadonlyArray<readonly [string, string]> = [
  ['Dwarves', 'More Axes'],
  ['Elves', 'More Arrows'],
  ['Hobbits', 'More Pipe Weed'],
];

/**
 * One named client: connect, write the message with drain handling (sendTo), print the first
 * reply, then end; completes when the connection has closed.
 */
export function namedClient(name: string, message: string, port: number, host: string, log: Log): Observable<string> {
  return connect({ port, host }).pipe(
    mergeMap((conn) => {
      log(name + ' Connected: ');
      log(` local = ${conn.localAddress}:${conn.localPort}`);
      log(` remote = ${conn.remoteAddress}:${conn.remotePort}`);
      const reply = conn.data$.pipe(
        take(1),
        map((chunk) => chunk.toString('utf8')),
        tap((text) => {
          log(name + ' From Server: ' + text);
          conn.end();
        }),
      );
      const write = of(message).pipe(sendTo(conn, { end: false }), ignoreElements());
      return concat(write, reply).pipe(tap({ complete: () => log(name + ' Client disconnected') }));
    }),
    tap({ complete: () => log('Socket Closed') }),
  );
}

/** The three named clients at once; emits their replies by name when all three have closed. */
export function namedClients(
  port: number,
  host = 'localhost',
  log: Log = consoleLog,
): Observable<Record<string, string>> {
  return forkJoin(
    Object.fromEntries(NAMED_MESSAGES.map(([name, message]) => [name, namedClient(name, message, port, host, log)])),
  );
}

export async function main(argv: string[]): Promise<void> {
  const { port, values } = demoArgs(argv, 8107, { host: { type: 'string' } });
  const subscription = namedClients(port, (values.host as string | undefined) ?? 'localhost').subscribe({
    error: (error) => {
      console.log('Socket Error: ', error.code ?? '', error.message);
      process.exitCode = 1;
    },
  });
  stopOnSignal(subscription);
}

if (require.main === module) void main(process.argv.slice(2));
