// Hub: a broadcast group over live connections, each member behind its own bounded outbound queue.
import { Observable, Subject, Subscription, defer, filter, map, startWith } from 'rxjs';
import { InvalidArgumentError, QueueOverflowError, SlowMemberError } from '../errors';
import { DEFAULT_SEND_HIGH_WATER_MARK_BYTES, sendStats, sendTo } from '../core/sendTo';
import type { SendStats } from '../core/sendTo';
import type { Chunk, Connection } from '../types';
import type { Backplane } from './backplane';
import type { HubEvent, HubLeaveReason, HubMember } from './HubEvent';
import { checkLimit } from '../util/validate';

/**
 * What a hub does with a member whose queue is full (`highWaterMark` messages, or the next one
 * would take it past `highWaterMarkBytes`):
 * `'disconnect'` destroys that member's connection with a {@link SlowMemberError} (IRC's
 * "SendQ exceeded"); `'drop-oldest'` / `'drop-newest'` drop one of that member's messages.
 *
 * @example
 * ```ts
 * import { Hub, type SlowMemberPolicy } from 'rxnet';
 *
 * // Live prices: a slow reader should see the latest ones, not be cut off.
 * const overflow: SlowMemberPolicy = 'drop-oldest';
 * const prices = new Hub<string>({ highWaterMark: 32, overflow });
 * ```
 */
export type SlowMemberPolicy = 'disconnect' | 'drop-oldest' | 'drop-newest';

/**
 * Options of {@link Hub}.
 *
 * @example
 * ```ts
 * import { Hub, type HubOptions } from 'rxnet';
 *
 * const options: HubOptions = { highWaterMark: 256, overflow: 'disconnect' };
 * const hub = new Hub<Buffer>(options);
 * ```
 */
export interface HubOptions {
  /** Most messages that may wait for one member while its socket is not writable (default 1024; `Infinity`: no limit). */
  readonly highWaterMark?: number;
  /**
   * Most bytes that may wait for one member while its socket is not writable (default 1 MiB;
   * `Infinity`: no limit); one message larger than that may still wait alone.
   */
  readonly highWaterMarkBytes?: number;
  /** What happens past `highWaterMark` (default `'disconnect'`: no message is lost silently). */
  readonly overflow?: SlowMemberPolicy;
  /**
   * Makes this hub one room with the hubs of other servers: members' messages are also published
   * on it, and what other servers publish goes to every member here (see `Backplane`; its
   * `events$` tell degraded/back). Without it, the hub is in-process only.
   */
  readonly backplane?: Backplane;
}

/**
 * Options of {@link Hub.join}.
 *
 * @example
 * ```ts
 * import { Hub, connectionMetrics, listen, serveEach } from 'rxnet';
 *
 * // Count each member's queue in its connection metrics.
 * const hub = new Hub<Buffer>();
 * listen({ port: 1337 })
 *   .pipe(serveEach((conn) => hub.join(conn, conn.data$, { stats: connectionMetrics(conn).send })))
 *   .subscribe();
 * ```
 */
export interface JoinOptions {
  /**
   * Counters of this member's queue to keep up to date (e.g. a `ConnectionMetrics`' `send`);
   * a fresh {@link sendStats} when omitted. Also readable as `member.stats`.
   */
  readonly stats?: SendStats;
}

interface Entry<T> {
  readonly member: HubMember;
  readonly outbound: Subject<T>;
  /** Leaves the hub (once); the member then gets nothing more. */
  leave(reason: HubLeaveReason, error?: unknown, goodbye?: T): void;
}

/**
 * A broadcast group over live connections, the reactive form of the tutorials' chat's `clients` array:
 * a connection joins while its `join()` is subscribed and leaves when it closes, so no one keeps
 * a list; every message a member sends goes to every other member, and the server can send to
 * all or to one by id.
 *
 * ```
 * hub.join(a, a$), hub.join(b, b$), hub.join(c, c$)
 * a$:        --x-----------|          a's peer ends: a leaves ('ended'), its FIN follows its queue
 * b$:        -------y---------
 * to a:      -------y
 * to b:      --x--------------
 * to c:      --x----y---------        c never gets its own messages back
 * events$:   (jjj)--------l---        join ×3, leave a
 * ```
 *
 * Each member writes through its own `sendTo` sink: its messages wait in its own queue of at
 * most `highWaterMark` messages and `highWaterMarkBytes` bytes while its socket is not writable,
 * so a stalled reader never delays the others, and its memory is bounded (the socket's own
 * buffer, plus at most that queue). Past the mark the `overflow` policy applies to that member
 * alone: `'disconnect'` (default) emits `disconnected-slow` and destroys its connection with a
 * {@link SlowMemberError}; `'drop-oldest'` / `'drop-newest'` drop one of its messages and emit
 * `dropped`. Messages are written as given, so one Buffer broadcast to a thousand members is
 * never copied.
 *
 * Limits and end of stream: a member's failures never reach the others nor the `join()`
 * Observable, which only ever completes (once its connection has closed): they are told as its
 * `leave` event. The hub itself holds no resource and never completes.
 *
 * @example
 * ```ts
 * import { Hub, decodeLines, listen, serveEach } from 'rxnet';
 *
 * // The tutorials' chat: every line a client sends goes to every other client.
 * const hub = new Hub<Buffer>({ highWaterMark: 256, overflow: 'disconnect' });
 * hub.events$.subscribe((e) => console.log(e.type, 'member' in e ? e.member.id : ''));
 * listen({ port: 1337 })
 *   .pipe(serveEach((conn) => hub.join(conn, conn.data$.pipe(decodeLines({ includeDelimiter: true })))))
 *   .subscribe();
 * ```
 */
export class Hub<T extends Chunk = Chunk> {
  /** Every join, leave, dropped message and slow disconnect; never completes. */
  readonly events$: Observable<HubEvent>;
  /** The number of members: the current one at once, then after every join and leave. */
  readonly size$: Observable<number>;

  private readonly highWaterMark: number;
  private readonly highWaterMarkBytes: number;
  private readonly overflow: SlowMemberPolicy;
  private readonly entries = new Map<number, Entry<T>>();
  private readonly events = new Subject<HubEvent>();
  private readonly backplane: Backplane | undefined;

  /**
   * An empty hub.
   *
   * @throws InvalidArgumentError for a `highWaterMark` or `highWaterMarkBytes` that is neither an
   * integer ≥ 1 nor `Infinity`, or an unknown `overflow`.
   */
  constructor(options: HubOptions = {}) {
    this.highWaterMark = checkLimit('highWaterMark', options.highWaterMark, 1024, 1);
    this.highWaterMarkBytes = checkLimit(
      'highWaterMarkBytes',
      options.highWaterMarkBytes,
      DEFAULT_SEND_HIGH_WATER_MARK_BYTES,
      1,
    );
    const overflow = options.overflow ?? 'disconnect';
    if (overflow !== 'disconnect' && overflow !== 'drop-oldest' && overflow !== 'drop-newest') {
      throw new InvalidArgumentError(
        'overflow',
        `expected 'disconnect', 'drop-oldest' or 'drop-newest', got ${String(overflow)}`,
      );
    }
    this.overflow = overflow;
    this.events$ = this.events.asObservable();
    const backplane = (this.backplane = options.backplane);
    if (backplane !== undefined) {
      // Lives as long as the backplane: its close() completes it.
      backplane.messages$.subscribe((message) => this.broadcast(message.payload as unknown as T));
    }
    this.size$ = defer(() =>
      this.events$.pipe(
        filter((e) => e.type === 'join' || e.type === 'leave'),
        map(() => this.entries.size),
        startWith(this.entries.size),
      ),
    );
  }

  /** The number of members now. */
  get size(): number {
    return this.entries.size;
  }

  /** The members now, in the order they joined. */
  members(): HubMember[] {
    return Array.from(this.entries.values(), (e) => e.member);
  }

  /** The member with this id (a connection id), if it is a member now. */
  member(id: number): HubMember | undefined {
    return this.entries.get(id)?.member;
  }

  /**
   * Makes `connection` a member while the result is subscribed: each value of `inbound` (the
   * member's messages, e.g. `conn.data$.pipe(decodeLines(...))`) goes to every other member.
   *
   * ```
   * subscribe ─ join ──────────────────────── close ─|     (completes once the connection closed)
   * inbound:    ──m1──m2──|                               each mi goes to the other members
   *                       └ leave 'ended'; queue flushed, then FIN
   * ```
   *
   * The member leaves when `inbound` completes (`'ended'`: its queue is flushed, then the
   * connection is ended) or errors (`'error'`: likewise), when its connection closes
   * (`'closed'`), when it falls behind under `'disconnect'` (`'slow'`: destroyed), when it is
   * kicked, or when the result is unsubscribed (`'unsubscribed'`: the connection is left as it
   * is). The result never errors for the member's failures (they are in its `leave` event),
   * only with an `InvalidArgumentError` when the connection is already a member.
   *
   * @example
   * ```ts
   * import { Hub, listen, serveEach } from 'rxnet';
   *
   * const hub = new Hub<Buffer>({ overflow: 'drop-oldest', highWaterMark: 64 });
   * listen({ port: 1337 }).pipe(serveEach((conn) => hub.join(conn, conn.data$))).subscribe();
   * ```
   */
  join(connection: Connection, inbound: Observable<T>, options: JoinOptions = {}): Observable<never> {
    return new Observable<never>((subscriber) => {
      const id = connection.id;
      if (this.entries.has(id)) {
        subscriber.error(new InvalidArgumentError('connection', `connection ${id} is already a member`));
        return;
      }
      const stats = options.stats ?? sendStats();
      const member: HubMember = { id, connection, stats };
      const outbound = new Subject<T>();
      const subscriptions = new Subscription();
      let left = false;

      const entry: Entry<T> = {
        member,
        outbound,
        leave: (reason, error, goodbye) => {
          if (left) return;
          left = true;
          this.entries.delete(id);
          this.emit({ type: 'leave', member, reason, error, size: this.entries.size });
          if (reason === 'unsubscribed' || reason === 'closed') return;
          // Its messages are no longer relayed; what it was sent is flushed before our FIN.
          inboundSub.unsubscribe();
          if (reason === 'slow') {
            connection.destroy(error as SlowMemberError);
            return;
          }
          if (goodbye !== undefined) outbound.next(goodbye);
          outbound.complete();
        },
      };
      const inboundSub = new Subscription();
      subscriptions.add(inboundSub);

      this.entries.set(id, entry);
      this.emit({ type: 'join', member, size: this.entries.size });

      // Watch close before the sink does, so the member has left when the sink reports it.
      subscriptions.add(
        connection.writable$.subscribe({
          error: (error) => {
            entry.leave('closed', error);
            subscriber.complete();
          },
          complete: () => {
            entry.leave('closed');
            subscriber.complete();
          },
        }),
      );
      if (left) return subscriptions;

      const overflow = this.overflow === 'disconnect' ? 'error' : this.overflow;
      const { highWaterMark, highWaterMarkBytes } = this;
      subscriptions.add(
        outbound.pipe(sendTo(connection, { highWaterMark, highWaterMarkBytes, overflow, stats })).subscribe({
          error: (error) => {
            if (error instanceof QueueOverflowError) {
              const slow = new SlowMemberError(id, highWaterMark, highWaterMarkBytes, error.queued, error.queuedBytes);
              this.emit({ type: 'disconnected-slow', member, error: slow });
              entry.leave('slow', slow);
            } else {
              // The connection was destroyed with an error under the sink: the close watcher tells.
              entry.leave('closed', error);
            }
          },
        }),
      );

      inboundSub.add(
        inbound.subscribe({
          next: (message) => {
            if (left) return;
            this.broadcast(message, id);
            this.backplane?.publish(message);
          },
          error: (error) => entry.leave('error', error),
          complete: () => entry.leave('ended'),
        }),
      );

      return () => {
        entry.leave('unsubscribed');
        subscriptions.unsubscribe();
      };
    });
  }

  /**
   * Queues `message` for every member but `except` (an id or a connection); returns how many
   * members it was queued for. Each member's own policy applies to its own queue.
   *
   * ```
   * broadcast(m, b.id):   to a: m   to b: -   to c: m
   * ```
   *
   * @example
   * ```ts
   * import { Hub } from 'rxnet';
   *
   * const hub = new Hub<string>();
   * hub.broadcast('* the server restarts in 5 minutes\n');
   * ```
   */
  broadcast(message: T, except?: number | Connection): number {
    const skip = typeof except === 'number' ? except : except?.id;
    let count = 0;
    // A Map iterator survives members leaving (a slow disconnect) while it runs.
    for (const entry of this.entries.values()) {
      if (entry.member.id === skip) continue;
      this.deliver(entry, message);
      count++;
    }
    return count;
  }

  /**
   * Queues `message` for the member with this id, under that member's policy; false when no
   * such member is in the hub.
   *
   * ```
   * send(b.id, m):   to a: -   to b: m   to c: -
   * ```
   *
   * @example
   * ```ts
   * import { Hub, type Connection } from 'rxnet';
   *
   * declare const hub: Hub<string>;
   * declare const conn: Connection;
   * hub.send(conn.id, `* ${hub.size} online\n`);
   * ```
   */
  send(id: number, message: T): boolean {
    const entry = this.entries.get(id);
    if (!entry) return false;
    this.deliver(entry, message);
    return true;
  }

  /**
   * Ends one member: it leaves at once (`'kicked'`) and its connection is ended after what it
   * was sent, then `goodbye`, has been flushed. False when no such member is in the hub.
   *
   * ```
   * kick(a.id, 'bye'):   to a: …queued…, 'bye', FIN      events$: leave (kicked)
   * ```
   *
   * A peer that never reads keeps the connection open until it closes or the server ends it.
   *
   * @example
   * ```ts
   * import { Hub, type Connection } from 'rxnet';
   *
   * declare const hub: Hub<string>;
   * declare const conn: Connection;
   * hub.kick(conn.id, '* bye\n');
   * ```
   */
  kick(id: number, goodbye?: T): boolean {
    const entry = this.entries.get(id);
    if (!entry) return false;
    entry.leave('kicked', undefined, goodbye);
    return true;
  }

  /**
   * Kicks every member (say, on graceful shutdown): each leaves at once and its connection is
   * ended after its queue, then `goodbye`, has been flushed. Returns how many were kicked.
   *
   * ```
   * kickAll('bye'):   to each member: …queued…, 'bye', FIN      events$: leave (kicked) ×n
   * ```
   *
   * @example
   * ```ts
   * import { Hub, listen, serveEach } from 'rxnet';
   *
   * // Ctrl-C: stop accepting, say goodbye to every member, complete once all have closed.
   * const hub = new Hub<Buffer>();
   * const stop = new AbortController();
   * process.once('SIGINT', () => stop.abort());
   * listen({ port: 1337, shutdown: stop.signal, onShutdown: (conn) => hub.kick(conn.id, Buffer.from('bye\n')) })
   *   .pipe(serveEach((conn) => hub.join(conn, conn.data$)))
   *   .subscribe();
   * ```
   */
  kickAll(goodbye?: T): number {
    let count = 0;
    for (const entry of Array.from(this.entries.values())) {
      entry.leave('kicked', undefined, goodbye);
      count++;
    }
    return count;
  }

  private deliver(entry: Entry<T>, message: T): void {
    const stats = entry.member.stats;
    const before = stats.dropped;
    entry.outbound.next(message);
    if (stats.dropped !== before && this.events.observed) {
      this.events.next({ type: 'dropped', member: entry.member, dropped: stats.dropped });
    }
  }

  private emit(event: HubEvent): void {
    if (this.events.observed) this.events.next(event);
  }
}
