// Reactive twin of the seed's hello-world server (003): greets every connection on 23452.
import { Observable, ignoreElements, merge, mergeMap, of } from 'rxjs';
import { listen, sendTo } from '../lib';
import type { BoundAddress } from '../lib';
import { Log, consoleLog, demoArgs, stopOnSignal } from './support';

export const GREETING = '[tcp/ip] hello world!\n';

/** Greets each client, then ends its side once the client has ended (or at shutdown). */
export function helloServer(port: number, listening?: (address: BoundAddress) => void): Observable<never> {
  return listen({ port, listening }).pipe(
    mergeMap((conn) => merge(of(GREETING), conn.data$.pipe(ignoreElements())).pipe(sendTo(conn))),
  );
}

export async function main(argv: string[], log: Log = consoleLog): Promise<void> {
  const { port } = demoArgs(argv, 23452);
  log('start tcp~~~');
  const subscription = helloServer(port, (a) => log('listening on ' + JSON.stringify(a))).subscribe({
    error: (error) => {
      console.error(error.code ?? '', error.message);
      process.exitCode = 1;
    },
  });
  stopOnSignal(subscription);
}

if (require.main === module) void main(process.argv.slice(2));
