// connectionMetrics(): one connection's traffic, frames and queue figures, as an Observable and plain snapshots.
import { Observable, Subject, Subscription, tap } from 'rxjs';
import type { MonoTypeOperatorFunction } from 'rxjs';
import { sendStats } from '../core/sendTo';
import type { SendStats } from '../core/sendTo';
import type { Connection } from '../types';

/**
 * The figures of one connection at one moment; a plain object, safe to log or serialise.
 *
 * @example
 * ```ts
 * import { connectionMetrics, type Connection, type ConnectionSnapshot } from 'rxnet';
 *
 * declare const conn: Connection;
 * const s: ConnectionSnapshot = connectionMetrics(conn).snapshot();
 * console.log(`#${s.id} in ${s.bytesRead} B, out ${s.bytesWritten} B, ${s.queued} queued`);
 * ```
 */
export interface ConnectionSnapshot {
  /** The connection's `id`. */
  readonly id: number;
  /** False once the connection has closed (the figures are then final). */
  readonly open: boolean;
  /** Bytes read from the peer (`connection.bytesRead`). */
  readonly bytesRead: number;
  /** Bytes written to the socket (`connection.bytesWritten`). */
  readonly bytesWritten: number;
  /** Frames counted by `countFramesIn()`. */
  readonly framesIn: number;
  /** Frames counted by `countFramesOut()`. */
  readonly framesOut: number;
  /** Times the socket's buffer reached its high-water mark (`writable$` went false). */
  readonly notWritable: number;
  /** Values the sink handed to `write()` (from `send`). */
  readonly written: number;
  /** Values waiting in the sink's queue now (from `send`). */
  readonly queued: number;
  /** The longest the sink's queue has been (from `send`). */
  readonly peakQueued: number;
  /** Values the sink's drop policy dropped (from `send`). */
  readonly dropped: number;
}

/**
 * Metrics of one connection; see {@link connectionMetrics}.
 *
 * @example
 * ```ts
 * import { connectionMetrics, decodeLines, sendTo, type Connection, type ConnectionMetrics } from 'rxnet';
 *
 * declare const conn: Connection;
 * const m: ConnectionMetrics = connectionMetrics(conn);
 * conn.data$.pipe(decodeLines({ includeDelimiter: true }), m.countFramesIn(), sendTo(conn, { stats: m.send })).subscribe();
 * m.metrics$.subscribe({ complete: () => console.log('final', m.snapshot()) });
 * ```
 */
export interface ConnectionMetrics {
  /** The connection measured. */
  readonly connection: Connection;
  /** Pass as `sendTo(conn, { stats: m.send })` (or `hub.join(conn, in$, { stats: m.send })`) to count its queue. */
  readonly send: SendStats;
  /**
   * A snapshot at once, then one after every chunk read, write flushed, frame counted and
   * writability change, and a last one when the connection closes; then completes. Throttle it
   * (`auditTime(1000)`) to log it.
   */
  readonly metrics$: Observable<ConnectionSnapshot>;
  /** The figures now. */
  snapshot(): ConnectionSnapshot;
  /** Mirrors the source and counts each value as a frame read: put it after the framer. */
  countFramesIn<T>(): MonoTypeOperatorFunction<T>;
  /** Mirrors the source and counts each value as a frame written: put it in front of the sink. */
  countFramesOut<T>(): MonoTypeOperatorFunction<T>;
}

/**
 * Keeps the figures of one connection: bytes read and written, frames in and out, how often
 * its socket buffer was full, and its sink's queue; as an Observable and a plain snapshot.
 *
 * ```
 * data$:      --[5 B]-------[3 B]------------close
 * metrics$:   s-s-----------s----------------s|     s = { bytesRead: 0, 5, 8, 8 (open: false) }
 * ```
 *
 * Bytes come from the connection's own counters; frames only from the `countFramesIn/Out()`
 * operators; queue figures only from a sink given `send` as its stats. Watching costs nothing
 * until `metrics$` is subscribed (then one snapshot per chunk); the metrics follow `writable$`
 * until the connection closes, and hold no resource after.
 *
 * @example
 * ```ts
 * import { auditTime } from 'rxjs';
 * import { connectionMetrics, decodeLines, listen, sendTo, serveEach } from 'rxnet';
 *
 * listen({ port: 8107 })
 *   .pipe(
 *     serveEach((conn) => {
 *       const m = connectionMetrics(conn);
 *       m.metrics$.pipe(auditTime(1000)).subscribe((s) => console.log(JSON.stringify(s)));
 *       return conn.data$.pipe(decodeLines({ includeDelimiter: true }), m.countFramesIn(), m.countFramesOut(),
 *         sendTo(conn, { stats: m.send }));
 *     }),
 *   )
 *   .subscribe();
 * ```
 */
export function connectionMetrics(
  connection: Connection,
  options: {
    /** Counters to use as `send` (e.g. ones a sink already updates); fresh ones when omitted. */
    send?: SendStats;
  } = {},
): ConnectionMetrics {
  return new ConnectionMeter(connection, options.send ?? sendStats());
}

/** @internal The metrics of one connection; {@link serverMetrics} keeps one per open connection. */
export class ConnectionMeter implements ConnectionMetrics {
  readonly metrics$: Observable<ConnectionSnapshot>;
  private framesIn = 0;
  private framesOut = 0;
  private notWritable = 0;
  private isOpen = true;
  private final: ConnectionSnapshot | undefined = undefined;
  private readonly changes = new Subject<void>();
  private readonly closeCallbacks: Array<(final: ConnectionSnapshot) => void> = [];

  constructor(
    readonly connection: Connection,
    readonly send: SendStats,
  ) {
    const watch = connection.writable$.subscribe({
      next: (writable) => {
        if (!writable) this.notWritable++;
        this.changed();
      },
      error: () => this.close(),
      complete: () => this.close(),
    });
    if (!this.isOpen) watch.unsubscribe();

    this.metrics$ = new Observable<ConnectionSnapshot>((subscriber) => {
      subscriber.next(this.snapshot());
      if (!this.isOpen) {
        subscriber.complete();
        return;
      }
      const subscription = new Subscription();
      // changes completes right after the last snapshot, when the connection has closed.
      subscription.add(
        this.changes.subscribe({
          next: () => subscriber.next(this.snapshot()),
          complete: () => subscriber.complete(),
        }),
      );
      subscription.add(
        connection.events$.subscribe((event) => {
          if (event.type === 'data' || event.type === 'written') subscriber.next(this.snapshot());
        }),
      );
      return subscription;
    });
  }

  snapshot(): ConnectionSnapshot {
    if (this.final) return this.final;
    const c = this.connection;
    const s = this.send;
    return {
      id: c.id,
      open: this.isOpen,
      bytesRead: c.bytesRead,
      bytesWritten: c.bytesWritten,
      framesIn: this.framesIn,
      framesOut: this.framesOut,
      notWritable: this.notWritable,
      written: s.written,
      queued: s.queued,
      peakQueued: s.peakQueued,
      dropped: s.dropped,
    };
  }

  countFramesIn<T>(): MonoTypeOperatorFunction<T> {
    return counter(() => {
      this.framesIn++;
      this.changed();
    });
  }

  countFramesOut<T>(): MonoTypeOperatorFunction<T> {
    return counter(() => {
      this.framesOut++;
      this.changed();
    });
  }

  /** Runs `callback` with the final snapshot once the connection has closed (at once if it has). */
  onClose(callback: (final: ConnectionSnapshot) => void): void {
    if (this.final) callback(this.final);
    else this.closeCallbacks.push(callback);
  }

  private changed(): void {
    if (this.changes.observed) this.changes.next();
  }

  private close(): void {
    if (!this.isOpen) return;
    this.isOpen = false;
    this.final = this.snapshot();
    this.changed();
    this.changes.complete();
    for (const callback of this.closeCallbacks.splice(0)) callback(this.final);
  }
}

function counter<T>(count: () => void): MonoTypeOperatorFunction<T> {
  return tap(count);
}
