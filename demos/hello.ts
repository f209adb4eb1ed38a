// Reactive twin of the seed's hello-world server (003): greets every connection on 23452.
import { Observable, ignoreElements, merge, of } from 'rxjs';
import { listen, sendTo, serveEach } from '../lib';
import type { BoundAddress } from '../lib';
import { Log, consoleLog, demoArgs, stopOnSignal } from './support';

export const GREETING = '[tcp/ip] hello world!\n';

/** Greets each client, then ends its side once the client has ended (or at shutdown); a failing client is dropped. */
export function helloServer(
  port: number,
  listening?: (address: BoundAddress) => void,
  log: Log = consoleLog,
): Observable<never> {
  // The server speaks first, and a client that only listens is served: no first-byte deadline.
  return listen({ port, listening, firstByteTimeout: 0 }).pipe(
    serveEach((conn) => merge(of(GREETING), conn.data$.pipe(ignoreElements())).pipe(sendTo(conn)), {
      onError: (error: any, conn) => log(`connection ${conn.id} failed: ${error.code ?? error.message}`),
    }),
  );
}

export async function main(argv: string[], log: Log = consoleLog): Promise<void> {
  const { port } = demoArgs(argv, 23452);
  log('start tcp~~~');
  const subscription = helloServer(port, (a) => log('listening on ' + JSON.stringify(a)), log).subscribe({
    error: (error) => {
      console.error(error.code ?? '', error.message);
      process.exitCode = 1;
    },
  });
  stopOnSignal(subscription);
}

if (require.main === module) void main(process.argv.slice(2));
