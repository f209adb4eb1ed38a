// Metrics: per-connection and per-server traffic and queue figures, as Observables and plain snapshots.
import { Observable, Subject, Subscription, defer, map, startWith, tap } from 'rxjs';
import type { MonoTypeOperatorFunction, NextObserver } from 'rxjs';
import { sendStats } from '../core/sendTo';
import type { SendStats } from '../core/sendTo';
import type { BoundAddress, ServerEvent } from '../core/listen';
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
 * The figures of a server and all the connections it accepted; a plain object.
 *
 * @example
 * ```ts
 * import { interval, map } from 'rxjs';
 * import { serverMetrics, type ServerSnapshot } from 'rxnet';
 *
 * const m = serverMetrics();
 * interval(10_000)
 *   .pipe(map((): ServerSnapshot => m.snapshot()))
 *   .subscribe((s) => console.log(`${s.open} open (peak ${s.peakOpen}), ${s.bytesRead} B in, ${s.messagesDropped} dropped`));
 * ```
 */
export interface ServerSnapshot {
  /** Where the server listens, once it does; undefined before and after. */
  readonly address: BoundAddress | undefined;
  /** True between `listening` and `close`. */
  readonly listening: boolean;
  /** True once graceful shutdown has begun. */
  readonly shuttingDown: boolean;
  /** Connections open now. */
  readonly open: number;
  /** The most connections open at once. */
  readonly peakOpen: number;
  /** Connections accepted in all. */
  readonly accepted: number;
  /** Connections refused over `maxConnections` (`drop` events). */
  readonly dropped: number;
  /** Server `error` events. */
  readonly errors: number;
  /** TLS clients that failed or timed out in their handshake (`tlsClientError` events); each was destroyed. */
  readonly tlsClientErrors: number;
  /** Bytes read, summed over every connection known to the metrics, open or closed. */
  readonly bytesRead: number;
  /** Bytes written, summed over every connection known to the metrics, open or closed. */
  readonly bytesWritten: number;
  /** Frames counted by the connections' `countFramesIn()`, in all. */
  readonly framesIn: number;
  /** Frames counted by the connections' `countFramesOut()`, in all. */
  readonly framesOut: number;
  /** Times any connection's socket buffer reached its high-water mark, in all. */
  readonly notWritable: number;
  /** Values the connections' sinks wrote, in all. */
  readonly written: number;
  /** Values dropped by the connections' sinks, in all. */
  readonly messagesDropped: number;
  /** The longest any connection's sink queue has been. */
  readonly peakQueued: number;
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
 * Metrics of a server; see {@link serverMetrics}.
 *
 * @example
 * ```ts
 * import { listen, serverMetrics, type ServerMetrics } from 'rxnet';
 *
 * const m: ServerMetrics = serverMetrics();
 * listen({ port: 8107, events: m.events }).subscribe((conn) => conn.data$.subscribe());
 * process.on('SIGUSR2', () => console.log(m.snapshot()));
 * ```
 */
export interface ServerMetrics {
  /** Pass as `listen({ events: m.events })`: the metrics follow the server from its events. */
  readonly events: NextObserver<ServerEvent>;
  /** The current snapshot at once, then a new one after every server event. Never completes. */
  readonly metrics$: Observable<ServerSnapshot>;
  /** The figures now, the open connections' traffic read live. */
  snapshot(): ServerSnapshot;
  /**
   * The metrics of a connection of this server, created on its `connection` event (or now):
   * use its `countFramesIn/Out()` and `send` so frames and queues add up in the server's figures.
   */
  connection(connection: Connection): ConnectionMetrics;
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

class ConnectionMeter implements ConnectionMetrics {
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

type Summed = 'bytesRead' | 'bytesWritten' | 'framesIn' | 'framesOut' | 'notWritable' | 'written' | 'dropped';
type Totals = { -readonly [K in Summed]: number };

/**
 * Keeps the figures of a server: connections open, at peak, accepted and dropped, and the
 * traffic and queue figures of all its connections, open or closed; as an Observable and a
 * plain snapshot. It follows the server through `listen({ events: m.events })`.
 *
 * ```
 * server events:  L---c-----c-----d----D------x         L listening, c connection, d disconnect,
 * metrics$:      sS---S-----S-----S----S------S         D drop, x close; s at subscribe
 *     open:       0   1     2     1    1      1         (S after each event)
 * ```
 *
 * Limits: the server's figures add up each connection's (see {@link connectionMetrics}) once it
 * is known from a `connection` event or {@link ServerMetrics.connection}; a closed connection's
 * final figures are kept as sums, the connection itself is forgotten. Frames and queue figures
 * count only where its `countFramesIn/Out()` and `send` are used. `metrics$` never completes;
 * sample it with `interval(ms).pipe(map(() => m.snapshot()))` for steady export.
 *
 * @example
 * ```ts
 * import { listen, sendTo, serverMetrics, serveEach } from 'rxnet';
 *
 * const m = serverMetrics();
 * m.metrics$.subscribe((s) => console.log(`open ${s.open} accepted ${s.accepted} read ${s.bytesRead} B`));
 * listen({ port: 8107, events: m.events })
 *   .pipe(serveEach((conn) => conn.data$.pipe(sendTo(conn, { stats: m.connection(conn).send }))))
 *   .subscribe();
 * ```
 */
export function serverMetrics(): ServerMetrics {
  return new ServerMeter();
}

class ServerMeter implements ServerMetrics {
  readonly events: NextObserver<ServerEvent>;
  readonly metrics$: Observable<ServerSnapshot>;
  private readonly open = new Map<number, ConnectionMeter>();
  private readonly closed: Totals = {
    bytesRead: 0,
    bytesWritten: 0,
    framesIn: 0,
    framesOut: 0,
    notWritable: 0,
    written: 0,
    dropped: 0,
  };
  private closedPeakQueued = 0;
  private address: BoundAddress | undefined = undefined;
  private shuttingDown = false;
  private openCount = 0;
  private peakOpen = 0;
  private accepted = 0;
  private droppedConnections = 0;
  private errors = 0;
  private tlsClientErrors = 0;
  private readonly changes = new Subject<void>();

  constructor() {
    this.events = { next: (event) => this.onEvent(event) };
    this.metrics$ = defer(() =>
      this.changes.pipe(
        startWith(undefined),
        map(() => this.snapshot()),
      ),
    );
  }

  connection(connection: Connection): ConnectionMetrics {
    const known = this.open.get(connection.id);
    if (known) return known;
    const meter = new ConnectionMeter(connection, sendStats());
    this.open.set(connection.id, meter);
    meter.onClose((final) => {
      this.open.delete(connection.id);
      const c = this.closed;
      c.bytesRead += final.bytesRead;
      c.bytesWritten += final.bytesWritten;
      c.framesIn += final.framesIn;
      c.framesOut += final.framesOut;
      c.notWritable += final.notWritable;
      c.written += final.written;
      c.dropped += final.dropped;
      this.closedPeakQueued = Math.max(this.closedPeakQueued, final.peakQueued);
    });
    return meter;
  }

  snapshot(): ServerSnapshot {
    const t: Totals = { ...this.closed };
    let peakQueued = this.closedPeakQueued;
    for (const meter of this.open.values()) {
      const s = meter.snapshot();
      t.bytesRead += s.bytesRead;
      t.bytesWritten += s.bytesWritten;
      t.framesIn += s.framesIn;
      t.framesOut += s.framesOut;
      t.notWritable += s.notWritable;
      t.written += s.written;
      t.dropped += s.dropped;
      if (s.peakQueued > peakQueued) peakQueued = s.peakQueued;
    }
    return {
      address: this.address,
      listening: this.address !== undefined,
      shuttingDown: this.shuttingDown,
      open: this.openCount,
      peakOpen: this.peakOpen,
      accepted: this.accepted,
      dropped: this.droppedConnections,
      errors: this.errors,
      tlsClientErrors: this.tlsClientErrors,
      bytesRead: t.bytesRead,
      bytesWritten: t.bytesWritten,
      framesIn: t.framesIn,
      framesOut: t.framesOut,
      notWritable: t.notWritable,
      written: t.written,
      messagesDropped: t.dropped,
      peakQueued,
    };
  }

  private onEvent(event: ServerEvent): void {
    switch (event.type) {
      case 'listening':
        this.address = event.address;
        break;
      case 'connection':
        this.accepted++;
        this.setOpen(event.open);
        this.connection(event.connection);
        break;
      case 'disconnect':
        this.setOpen(event.open);
        break;
      case 'drop':
        this.droppedConnections++;
        this.setOpen(event.open);
        break;
      case 'shutdown':
        this.shuttingDown = true;
        this.setOpen(event.open);
        break;
      case 'close':
        this.address = undefined;
        break;
      case 'error':
        this.errors++;
        break;
      case 'tlsClientError':
        this.tlsClientErrors++;
        break;
    }
    if (this.changes.observed) this.changes.next();
  }

  private setOpen(open: number): void {
    this.openCount = open;
    if (open > this.peakOpen) this.peakOpen = open;
  }
}
