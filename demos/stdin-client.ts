// Reactive twin of the seed's "simple client" (003): forwards stdin to the server and prints replies.
import { Observable, concat, ignoreElements, merge, mergeMap, of, tap } from 'rxjs';
import type { Readable } from 'stream';
import { connect, fromReadable, sendTo } from '../lib';
import { Log, consoleLog, demoArgs, stopOnSignal } from './support';

/**
 * Connects, says the seed's first line, then forwards `input` (held back while the connection
 * is not writable); prints what comes back; half-closes when `input` ends; completes on close.
 */
export function stdinClient(port: number, host: string, input: Readable, log: Log = consoleLog): Observable<never> {
  const source = fromReadable(input);
  return connect({ port, host }).pipe(
    mergeMap((conn) => {
      log('client-> connected to server');
      const outbound = concat(of('Who needs a browser to communicate?'), source.data$).pipe(
        sendTo(conn, { pauseSource: source }),
      );
      const inbound = conn.data$.pipe(tap((chunk) => log('client-> ' + chunk.toString('utf8'))));
      return merge(outbound, inbound).pipe(ignoreElements());
    }),
    tap({ complete: () => log('client-> connection is closed') }),
  );
}

export async function main(argv: string[]): Promise<void> {
  const { port, values } = demoArgs(argv, 3000, { host: { type: 'string' } });
  const subscription = stdinClient(port, (values.host as string | undefined) ?? 'localhost', process.stdin).subscribe({
    error: (error) => {
      console.error('client-> error', error.code ?? '', error.message);
      process.exitCode = 1;
    },
    complete: () => process.stdin.destroy(),
  });
  stopOnSignal(subscription, () => process.stdin.destroy());
}

if (require.main === module) void main(process.argv.slice(2));
