// Node stream interop: a Readable as a holdable Observable source of chunks.
import { Observable } from 'rxjs';
import type { Readable } from 'stream';
import { addListeners } from './internal/listeners';
import type { Holdable } from './types';

/** A Node `Readable` seen as chunks plus the means to hold its reading back. */
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
