// sendTo(): the flow-controlled sink that writes values to a connection, honouring 'drain'.
import { Observable } from 'rxjs';
import type { OperatorFunction, Subscription } from 'rxjs';
import { ConnectionClosedError, InvalidArgumentError, QueueOverflowError, checkInteger } from '../errors';
import type { Chunk, Connection, Holdable } from '../types';

/** What a sink does with a value that arrives while its queue holds `highWaterMark` values. */
export type OverflowPolicy = 'error' | 'drop-oldest' | 'drop-newest';

/** Counters a sink keeps up to date when given a `stats` object; read them any time. */
export interface SendStats {
  /** Values waiting in the queue now. */
  queued: number;
  /** The largest `queued` seen: never above `highWaterMark`. */
  peakQueued: number;
  /** Values handed to `connection.write()`. */
  written: number;
  /** Values dropped by a `drop-oldest` or `drop-newest` policy. */
  dropped: number;
  /** Times the sink had to wait for `'drain'`. */
  waits: number;
}

/** Creates a zeroed {@link SendStats} to pass as `sendTo(conn, { stats })`. */
export function sendStats(): SendStats {
  return { queued: 0, peakQueued: 0, written: 0, dropped: 0, waits: 0 };
}

/** Options of {@link sendTo}. */
export interface SendOptions {
  /** Most values that may wait while the connection is not writable (default 1024). */
  highWaterMark?: number;
  /** What happens to a value beyond `highWaterMark` (default `'error'`: QueueOverflowError). */
  overflow?: OverflowPolicy;
  /**
   * A connection whose reading is held while this sink waits for drain (or holds a queue), and
   * released when it has caught up: an echo or proxy then runs in bounded memory whatever the
   * peers' speeds. Usually the connection the values come from.
   */
  pauseSource?: Holdable;
  /** End the connection (FIN after the last byte) when the source completes (default true). */
  end?: boolean;
  /** Counters to keep up to date, e.g. from {@link sendStats}. */
  stats?: SendStats;
}

/**
 * Writes every value of the source to `connection`, waiting for `'drain'` whenever `write()`
 * returns false; the result emits nothing and completes once everything written was flushed
 * to the kernel (and, with `end`, the FIN was sent).
 *
 * ```
 * source:    --a--b--c--d-----|
 * writable:  T-----F--------T-----
 * written:   --a--b--------cd----   (c, d wait in the queue while not writable)
 * result:    -----------------------|   (after the last write was flushed)
 * ```
 *
 * While waiting, values queue up to `highWaterMark`; past it the `overflow` policy applies.
 * With `pauseSource`, that connection stops reading while this sink waits, so the queue stays
 * near empty. Errors: the source's error; QueueOverflowError; WriteAfterEndError when the
 * connection was already ended; ConnectionClosedError (or the socket's error) when the
 * connection closes before everything was flushed. Unsubscribing leaves the connection open.
 *
 * @example
 * ```ts
 * import { listen, sendTo } from 'rxnet';
 * import { mergeMap } from 'rxjs';
 *
 * // An echo server in bounded memory: reading pauses while the peer is slow to read.
 * listen({ port: 7, host: '127.0.0.1' })
 *   .pipe(mergeMap((conn) => conn.data$.pipe(sendTo(conn, { pauseSource: conn }))))
 *   .subscribe();
 * ```
 */
export function sendTo<T extends Chunk>(connection: Connection, options: SendOptions = {}): OperatorFunction<T, never> {
  const highWaterMark = checkInteger('highWaterMark', options.highWaterMark ?? 1024, 1);
  const overflow = options.overflow ?? 'error';
  if (overflow !== 'error' && overflow !== 'drop-oldest' && overflow !== 'drop-newest') {
    throw new InvalidArgumentError('overflow', `expected 'error', 'drop-oldest' or 'drop-newest', got ${String(overflow)}`);
  }
  const end = options.end ?? true;
  const pauseSource = options.pauseSource;
  const stats = options.stats;

  return (source) =>
    new Observable<never>((subscriber) => {
      // A ring would save the occasional shift(); the queue is short because the source is held.
      let queue: T[] = [];
      let sourceDone = false;
      let finishing = false;
      let release: (() => void) | undefined;
      let writabilitySub: Subscription | undefined;

      const hold = () => {
        if (pauseSource && !release) release = pauseSource.holdReading();
      };
      const unhold = () => {
        const r = release;
        release = undefined;
        if (r) r();
      };
      const fail = (error: unknown) => {
        unhold();
        subscriber.error(error);
      };
      const write = (value: T): boolean => {
        if (stats) stats.written++;
        if (connection.write(value)) return true;
        if (stats) stats.waits++;
        hold();
        return false;
      };
      const setQueued = () => {
        if (!stats) return;
        stats.queued = queue.length;
        if (queue.length > stats.peakQueued) stats.peakQueued = queue.length;
      };
      const finish = () => {
        if (finishing) return;
        finishing = true;
        unhold();
        const done = (error?: Error | null) => (error ? subscriber.error(error) : subscriber.complete());
        try {
          if (end || connection.writeEnded) connection.end(undefined, done);
          // An empty write's callback runs once every earlier write was flushed.
          else connection.write(EMPTY, done);
        } catch (error) {
          subscriber.error(error);
        }
      };
      const flush = () => {
        try {
          while (queue.length > 0 && connection.writable) {
            const value = queue.shift()!;
            setQueued();
            write(value);
          }
        } catch (error) {
          fail(error);
          return;
        }
        if (queue.length === 0 && connection.writable) {
          unhold();
          if (sourceDone) finish();
        }
      };

      writabilitySub = connection.writable$.subscribe({
        next: (writable) => {
          if (writable) flush();
        },
        error: (error) => fail(error),
        complete: () => {
          if (!subscriber.closed) fail(new ConnectionClosedError(connection.id, queue.length));
        },
      });

      const sourceSub = source.subscribe({
        next: (value) => {
          if (finishing || subscriber.closed) return;
          try {
            if (queue.length === 0 && connection.writable) {
              write(value);
              return;
            }
            if (connection.writeEnded) {
              write(value); // throws WriteAfterEndError
              return;
            }
            if (queue.length >= highWaterMark) {
              if (overflow === 'error') {
                fail(new QueueOverflowError(highWaterMark));
                return;
              }
              if (stats) stats.dropped++;
              if (overflow === 'drop-newest') return;
              queue.shift();
            }
            queue.push(value);
            setQueued();
            hold();
          } catch (error) {
            fail(error);
          }
        },
        error: (error) => fail(error),
        complete: () => {
          sourceDone = true;
          if (queue.length === 0 && (connection.writable || connection.writeEnded)) finish();
        },
      });

      return () => {
        sourceSub.unsubscribe();
        writabilitySub?.unsubscribe();
        writabilitySub = undefined;
        unhold();
        queue = [];
      };
    });
}

const EMPTY = Buffer.alloc(0);
