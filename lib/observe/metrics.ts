// serverMetrics(): a server's connections and the summed figures of all of them, as an Observable and plain snapshots.
import { Observable, Subject, defer, map, startWith } from 'rxjs';
import type { NextObserver } from 'rxjs';
import { sendStats } from '../core/sendTo';
import type { BoundAddress, ServerEvent } from '../core/ServerEvent';
import { DROP_REASONS } from '../admission/Admission';
import type { DropReason } from '../admission/Admission';
import type { Connection } from '../types';
import { ConnectionMeter } from './connectionMetrics';
import type { ConnectionMetrics, ConnectionSnapshot } from './connectionMetrics';

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
  /** Connections refused (`drop` events), for every reason. */
  readonly dropped: number;
  /** Connections refused, by reason: `max-connections`, `max-per-address`, `accept-rate`, `denied`, `untrusted-proxy`, `proxy-header`. */
  readonly drops: Readonly<Record<DropReason, number>>;
  /** Connections destroyed for missing a deadline of `listen` (`deadline` events), by deadline. */
  readonly deadlines: {
    /** Destroyed with `FirstByteTimeoutError`. */
    readonly firstByte: number;
    /** Destroyed with `FrameTimeoutError`. */
    readonly frame: number;
  };
  /** Times `listen({ shaping })` held a connection back (`throttle` events), by side. */
  readonly throttles: {
    /** Reading paused. */
    readonly read: number;
    /** Writes held. */
    readonly write: number;
  };
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

/** The connection figures a server adds up. */
const SUMMED = ['bytesRead', 'bytesWritten', 'framesIn', 'framesOut', 'notWritable', 'written', 'dropped'] as const;
type Totals = { -readonly [K in (typeof SUMMED)[number]]: number };

function addUp(totals: Totals, snapshot: ConnectionSnapshot): void {
  for (const key of SUMMED) totals[key] += snapshot[key];
}

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
  private readonly drops = Object.fromEntries(DROP_REASONS.map((r) => [r, 0])) as Record<DropReason, number>;
  private readonly deadlines = { firstByte: 0, frame: 0 };
  private readonly throttles = { read: 0, write: 0 };
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
      addUp(this.closed, final);
      this.closedPeakQueued = Math.max(this.closedPeakQueued, final.peakQueued);
    });
    return meter;
  }

  snapshot(): ServerSnapshot {
    const t: Totals = { ...this.closed };
    let peakQueued = this.closedPeakQueued;
    for (const meter of this.open.values()) {
      const s = meter.snapshot();
      addUp(t, s);
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
      drops: { ...this.drops },
      deadlines: { ...this.deadlines },
      throttles: { ...this.throttles },
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
      case 'upgrade':
        // The plain connection's figures are closed; the TLS one's count from here.
        this.connection(event.connection);
        break;
      case 'drop':
        this.droppedConnections++;
        this.drops[event.reason]++;
        this.setOpen(event.open);
        break;
      case 'deadline':
        if (event.deadline === 'first-byte') this.deadlines.firstByte++;
        else this.deadlines.frame++;
        break;
      case 'throttle':
        this.throttles[event.direction]++;
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
