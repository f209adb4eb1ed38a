// open(): connect() for async/await code: resolves with a connection that lives until it is closed.
import { connect } from './connect';
import type { ConnectOptions } from './connect';
import type { Connection } from '../types';

/**
 * Opens a client connection and resolves with it once connected; the connection lives until it
 * is ended or destroyed (or the peer closes it), whatever the caller awaits meanwhile. It is the
 * way in for `async` code: `await firstValueFrom(connect(options))` unsubscribes once the first
 * value came, which destroys the socket it just got.
 *
 * ```
 * await open(o)  ──connecting──▶ conn          conn.write(...) … conn.end()   (closed by you or the peer)
 * refused        ──connecting──▶ rejects        ECONNREFUSED (Node's `code`), ConnectTimeoutError, TlsHandshakeError
 * ```
 *
 * After it resolves, a failure of the connection (a reset) shows on the connection's own streams
 * (`data$` errors, `events$` tells `error` and `close`, `closeReason`), not on the promise. Abort
 * through `options.signal`: before the connection is made the promise rejects with the signal's
 * reason; after, the connection is destroyed.
 *
 * @example
 * ```ts
 * import { firstValueFrom, toArray } from 'rxjs';
 * import { decodeLines, open } from 'rxnet';
 *
 * async function ask(question: string): Promise<string[]> {
 *   const conn = await open({ host: '127.0.0.1', port: 8107, timeout: 2000 });
 *   const answers = firstValueFrom(conn.data$.pipe(decodeLines(), toArray()));
 *   conn.end(`${question}\n`); // the server answers and ends
 *   return (await answers).map((line) => line.toString());
 * }
 * ```
 */
export function open(options: ConnectOptions): Promise<Connection> {
  // connect() checks its options when called: a bad one throws here, synchronously, as it does there.
  const connection$ = connect(options);
  return new Promise<Connection>((resolve, reject) => {
    let opened = false;
    // The subscription is kept until the connection closes (connect completes or errors then).
    connection$.subscribe({
      next: (connection) => {
        opened = true;
        resolve(connection);
      },
      // After the connection was made, its failure is told on its own streams.
      error: (error: unknown) => {
        if (!opened) reject(error);
      },
    });
  });
}
