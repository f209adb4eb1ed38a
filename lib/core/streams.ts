// Node stream interop: a Readable as a holdable source, a Connection as a Duplex stream.
import { Buffer } from 'buffer';
import { Observable } from 'rxjs';
import type { Subscription } from 'rxjs';
import { Duplex } from 'stream';
import type { Readable } from 'stream';
import { addListeners } from '../util/listeners';
import type { Connection, Holdable } from '../types';

/**
 * A Node `Readable` seen as chunks plus the means to hold its reading back; made by {@link fromReadable}.
 *
 * @example
 * ```ts
 * import { createReadStream } from 'fs';
 * import { fromReadable, sendTo, type Connection, type ReadableSource } from 'rxnet';
 *
 * declare const conn: Connection;
 * // Upload a file no faster than the peer reads it.
 * const file: ReadableSource = fromReadable(createReadStream('backup.tar'));
 * file.data$.pipe(sendTo(conn, { pauseSource: file })).subscribe();
 * ```
 */
export interface ReadableSource extends Holdable {
  /** The stream's chunks; completes on `'end'`, errors on `'error'`. Subscribe once. */
  readonly data$: Observable<Buffer>;
}

/**
 * Adapts a Node `Readable` (stdin, a file, a zlib stream) so a sink can hold it back:
 * `src.data$.pipe(sendTo(conn, { pauseSource: src }))` pauses the stream while the connection
 * is not writable, as `readable.pipe()` would.
 *
 * ```
 * readable:  --chunk--chunk--end
 * data$:     --c------c------|
 * ```
 *
 * @example
 * ```ts
 * import { connect, fromReadable, sendTo } from 'rxnet';
 * import { mergeMap } from 'rxjs';
 *
 * const stdin = fromReadable(process.stdin);
 * connect({ port: 3000, host: '127.0.0.1' })
 *   .pipe(mergeMap((conn) => stdin.data$.pipe(sendTo(conn, { pauseSource: stdin }))))
 *   .subscribe();
 * ```
 */
export function fromReadable(readable: Readable): ReadableSource {
  let holds = 0;
  let subscribed = false;
  const update = () => {
    if (subscribed && holds === 0) readable.resume();
    else readable.pause();
  };
  const data$ = new Observable<Buffer>((subscriber) => {
    const remove = addListeners(readable, {
      data: (chunk: Buffer | string) => subscriber.next(typeof chunk === 'string' ? Buffer.from(chunk) : chunk),
      end: () => subscriber.complete(),
      error: (error: Error) => subscriber.error(error),
    });
    subscribed = true;
    update();
    return () => {
      subscribed = false;
      remove();
      update();
    };
  });
  return {
    data$,
    holdReading() {
      holds++;
      update();
      let released = false;
      return () => {
        if (released) return;
        released = true;
        holds--;
        update();
      };
    },
  };
}

/**
 * A Node `Duplex` view of a connection, for `stream.pipeline()` with Node streams such as
 * `zlib`, with backpressure both ways: the readable side holds the connection's reading while
 * the consumer does not read (`push()` returned false), and the writable side completes each
 * write only once the connection flushed it, so a fast producer waits.
 *
 * ```
 * connection.data$ ──> duplex (readable side) ──> gunzip ──> …
 * … ──> gzip ──> duplex (writable side) ──> connection.write(); end() on finish
 * ```
 *
 * Ending the writable side ends the connection (FIN after the last byte); destroying the
 * duplex destroys the connection. Use one view per connection.
 *
 * @example
 * ```ts
 * import { pipeline } from 'stream/promises';
 * import { createGunzip } from 'zlib';
 * import { createWriteStream } from 'fs';
 * import { asDuplex, connect } from 'rxnet';
 *
 * connect({ port: 9000, host: '127.0.0.1' }).subscribe((conn) => {
 *   void pipeline(asDuplex(conn), createGunzip(), createWriteStream('download.bin'));
 * });
 * ```
 */
export function asDuplex(connection: Connection): Duplex {
  let subscription: Subscription | undefined;
  let release: (() => void) | undefined;
  const unhold = () => {
    const r = release;
    release = undefined;
    if (r) r();
  };
  const duplex: Duplex = new Duplex({
    read() {
      unhold();
      subscription ??= connection.data$.subscribe({
        next: (chunk) => {
          if (!duplex.push(chunk) && !release) release = connection.holdReading();
        },
        complete: () => duplex.push(null),
        error: (error) => duplex.destroy(error),
      });
    },
    write(chunk: Buffer, _encoding, callback) {
      try {
        connection.write(chunk, (error) => callback(error ?? null));
      } catch (error) {
        callback(error as Error);
      }
    },
    final(callback) {
      connection.end(undefined, (error) => callback(error ?? null));
    },
    destroy(error, callback) {
      subscription?.unsubscribe();
      unhold();
      if (error) connection.destroy(error);
      else if (!connection.closed) connection.destroy();
      callback(error);
    },
  });
  return duplex;
}
