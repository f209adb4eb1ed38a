// requester(): pipelined request/response over one connection, replies matched in order or by id, with timeouts.
import { Observable, Subscription, asyncScheduler, tap } from 'rxjs';
import type { SchedulerLike, Subscriber } from 'rxjs';
import { decodeWith, type Codec } from '../codec/Codec';
import { ConnectionLostError, InvalidArgumentError, QueueOverflowError, RequestTimeoutError } from '../errors';
import type { Chunk, Connection } from '../types';
import { Deadlines, type Deadline } from '../util/Deadlines';
import { LinkedList, type Linked } from '../util/LinkedList';
import { checkLimit, checkTimeout } from '../util/validate';
import { ClientRequester } from './clientRequester';
import type { ReconnectingClient } from './reconnectingClient';

/**
 * Options of {@link requester}: how replies find their requests, the timeout, the limits.
 *
 * ```
 * correlate 'fifo':  written a b c   replies A B C  →  a:A  b:B  c:C
 * correlate by id:   written 1 2 3   replies 3 1 2  →  1:1  2:2  3:3
 * ```
 *
 * @example
 * ```ts
 * import { requester, type Codec, type Connection, type RequesterOptions } from 'rxnet';
 *
 * interface Msg { readonly id: number; readonly body: string }
 * declare const conn: Connection;
 * declare const codec: Codec<Msg, Msg>;
 * const options: RequesterOptions<Msg, Msg> = { correlate: { requestId: (q) => q.id, replyId: (r) => r.id }, timeout: 5000 };
 * const rpc = requester(conn, codec, { ...options, onUnmatched: (reply) => console.warn('unmatched', reply.id) });
 * ```
 */
export interface RequesterOptions<Req, Rep> {
  /**
   * `'fifo'` (default): the n-th reply answers the n-th request written (Redis, memcached,
   * HTTP/1.1 pipelining). Or ids read from requests and replies, for protocols that answer out of
   * order; ids compare as `Map` keys (use numbers or strings). A request whose id is in flight
   * errors with `InvalidArgumentError` when its turn to be written comes. A timed-out or cancelled
   * request's id is forgotten: do not reuse it soon, or its late reply reaches the new request.
   */
  readonly correlate?:
    | 'fifo'
    | {
        /** The id a request carries; a throw errors that request alone. */
        readonly requestId: (request: Req) => unknown;
        /** The id a reply carries; a throw fails the requester as a decode error does. */
        readonly replyId: (reply: Rep) => unknown;
      };
  /** Ms from subscription (time queued included) to `RequestTimeoutError`; default 30 000, 0 or `Infinity`: none. */
  readonly timeout?: number;
  /** Most requests written and unanswered (default 1024, `Infinity`: none; FIFO: timed-out ones until answered). */
  readonly maxInFlight?: number;
  /** Most requests waiting unwritten (default 10 000; `Infinity`: none); one more errors with `QueueOverflowError`. */
  readonly maxQueued?: number;
  /**
   * Called with each reply that matches no request (FIFO: none awaited; by id: an unknown id, late
   * replies to timed-out or cancelled requests included); default: ignored. A throw: as a decode error.
   */
  readonly onUnmatched?: (reply: Rep) => void;
  /** Scheduler of the timeouts; `asyncScheduler` by default (virtual time inside `TestScheduler.run()`). */
  readonly scheduler?: SchedulerLike;
}

/**
 * Options of one request: a timeout of its own (a blocking command such as `BLPOP` needs a longer one).
 *
 * @example
 * ```ts
 * import { requester, type Codec, type Connection, type RequestOptions } from 'rxnet';
 *
 * declare const conn: Connection;
 * declare const codec: Codec<unknown, string[]>;
 * const blocking: RequestOptions = { timeout: 0 }; // waits as long as the server holds it
 * requester(conn, codec, { timeout: 1000 }).request(['BLPOP', 'jobs', '0'], blocking).subscribe();
 * ```
 */
export interface RequestOptions {
  /** Ms from subscription to `RequestTimeoutError` for this request; default the requester's `timeout`; 0 or `Infinity`: none. */
  readonly timeout?: number;
}

/**
 * Requests and their replies over one connection, made by {@link requester}.
 *
 * ```
 * request('a'):  (a written)---(A|)
 * pending:       1-------------0
 * close():                          pending requests error with ConnectionLostError
 * ```
 *
 * @example
 * ```ts
 * import { firstValueFrom } from 'rxjs';
 * import { requester, type Codec, type Connection, type Requester } from 'rxnet';
 *
 * declare const conn: Connection;
 * declare const codec: Codec<string, string>;
 * const redis: Requester<string, string> = requester(conn, codec);
 * firstValueFrom(redis.request('PING')).then((reply) => console.log(reply, redis.pending));
 * ```
 */
export interface Requester<Req, Rep> {
  /**
   * A cold Observable of the reply: each subscription writes `message` (or queues it), emits the
   * reply and completes. Unsubscribing before the reply cancels the request (FIFO: its place in
   * the reply order stays reserved, its reply discarded). `options.timeout` replaces the
   * requester's timeout for this request (InvalidArgumentError, thrown here, for a bad one).
   */
  request(message: Req, options?: RequestOptions): Observable<Rep>;
  /** Requests whose callers wait: written and unanswered, or queued unwritten. */
  readonly pending: number;
  /** Requests written and not yet answered, in FIFO mode those timed out or cancelled included. */
  readonly inFlight: number;
  /** True once stopped: `close()`, the connection's end or failure, or a decode error. */
  readonly closed: boolean;
  /** Errors pending requests with `ConnectionLostError`, stops reading; the connection stays open. Idempotent. */
  close(): void;
}

/**
 * Sends requests over `conn` and matches replies to them, pipelined (written as they come, up to
 * `maxInFlight` unanswered, without waiting for earlier replies), each with a timeout.
 *
 * ```
 * request(a), (b), (c) subscribed at 0, 1, 2
 * written:      abc-----
 * replies:      ---AB--C      FIFO: in the order written
 * request(a):   ---(A|)
 * request(b):   ----(B|)
 * request(c):   -------(C|)
 * ```
 *
 * Writing: a request is encoded when subscribed (a throw errors it alone) and written with
 * `conn.write`. While `write()` has returned false and no drain came, or `maxInFlight` are
 * unanswered, requests wait unwritten, at most `maxQueued` (then `QueueOverflowError`); they are
 * written, corked together, on drain and as replies come. After someone else ended the
 * connection, a request errors with `write()`'s `WriteAfterEndError`.
 *
 * Reading: `conn.data$` is subscribed through `decodeWith(codec)` once, here, so the connection's
 * end is seen while nothing waits; the requester is its only reader. O(1) per reply (a linked
 * queue in FIFO mode, a `Map` by id).
 *
 * End of stream: when `data$` completes (FIN, close) or errors (a reset), every pending request,
 * written or queued, errors with one `ConnectionLostError` (`cause`: the error that closed the
 * connection, if any); nothing stays pending and later requests error at once. A decode error (a
 * reply too long, corrupt, cut short) or a throw of `replyId` or `onUnmatched` errors them all
 * with that error and destroys the connection with it: nothing after it can be matched. A timed-out
 * request errors with `RequestTimeoutError`; its late reply is discarded, never given to another caller.
 *
 * Over a {@link ReconnectingClient}: a requester per connection (after its handshake); requests made
 * while none is up wait (at most `maxQueued`, timed from subscription) for the next one. Those written
 * to a connection that is lost error with `ConnectionLostError`, never resent (the server may have
 * run them); `close()` errors the waiting ones with `ClientClosedError`.
 *
 * @param conn The connection (the requester reads it from now on), or a reconnecting client.
 * @param codec The protocol as the client sees it: decodes replies, encodes requests.
 * @param options Correlation, timeout, limits, unmatched replies, scheduler.
 * @throws InvalidArgumentError for a missing connection or codec, or a bad option.
 * @example
 * ```ts
 * import { forkJoin } from 'rxjs';
 * import { RequestTimeoutError, connect, requester, type Codec } from 'rxnet';
 *
 * declare const lines: Codec<string, string>; // a line of text each way
 * connect({ host: '127.0.0.1', port: 6379 }).subscribe((conn) => {
 *   const redis = requester(conn, lines, { timeout: 1000, maxInFlight: 64 });
 *   forkJoin([redis.request('PING'), redis.request('GET k')]).subscribe({
 *     next: ([pong, value]) => console.log(pong, value),
 *     error: (e) => console.error(e instanceof RequestTimeoutError ? `no reply in ${e.ms} ms` : e),
 *     complete: () => conn.end(),
 *   });
 * });
 * ```
 */
export function requester<Req, Rep>(
  conn: Connection | ReconnectingClient,
  codec: Codec<Rep, Req>,
  options: RequesterOptions<Req, Rep> = {},
): Requester<Req, Rep> {
  const has = (value: unknown, ...methods: string[]) =>
    typeof value === 'object' && value !== null && methods.every((m) => typeof Reflect.get(value, m) === 'function');
  const client = 'connection$' in Object(conn) && has(Reflect.get(conn, 'connection$'), 'subscribe');
  if (!client && (!has(conn, 'write', 'destroy') || !has(Reflect.get(Object(conn), 'data$'), 'subscribe'))) {
    throw new InvalidArgumentError('conn', 'expected a Connection or a ReconnectingClient');
  }
  if (!has(codec, 'decoder', 'encode')) throw new InvalidArgumentError('codec', 'expected { decoder(), encode() }');
  if (!has(options)) throw new InvalidArgumentError('options', `expected an object, got ${String(options)}`);
  const { correlate = 'fifo', scheduler = asyncScheduler, onUnmatched } = options;
  if (correlate !== 'fifo' && !has(correlate, 'requestId', 'replyId')) {
    throw new InvalidArgumentError('correlate', "expected 'fifo' or { requestId(request), replyId(reply) }");
  }
  if (!has(scheduler, 'schedule', 'now')) throw new InvalidArgumentError('scheduler', 'expected a SchedulerLike');
  if (onUnmatched !== undefined && typeof onUnmatched !== 'function') {
    throw new InvalidArgumentError('onUnmatched', 'expected a function');
  }
  const config: RequesterConfig<Req, Rep> = {
    byId: correlate === 'fifo' ? undefined : correlate,
    timeout: checkTimeout('timeout', options.timeout, 30_000),
    maxInFlight: checkLimit('maxInFlight', options.maxInFlight, 1024, 1),
    maxQueued: checkLimit('maxQueued', options.maxQueued, 10_000, 0),
    onUnmatched,
    scheduler,
  };
  if (client) return new ClientRequester(conn as ReconnectingClient, codec, options, requester);
  const rpc = new ConnectionRequester(conn as Connection, codec, config);
  rpc.start();
  return rpc;
}

type RequesterConfig<Req, Rep> = Required<Pick<RequesterOptions<Req, Rep>, 'timeout' | 'maxInFlight' | 'maxQueued'>> &
  Pick<RequesterOptions<Req, Rep>, 'onUnmatched'> & {
    readonly byId: Exclude<RequesterOptions<Req, Rep>['correlate'], 'fifo'>;
    readonly scheduler: SchedulerLike;
  };

/** One subscription to `request()`: a node of the queue (or of the FIFO in-flight list), its timer, its caller. */
class Call<Rep> implements Linked<Call<Rep>> {
  prev: Call<Rep> | null = null;
  next: Call<Rep> | null = null;
  /** Queued unwritten, written and awaited, written and given up (FIFO: its place kept), or finished. */
  state: 'queued' | 'written' | 'abandoned' | 'done' = 'queued';
  timer: Deadline | null = null;
  constructor(
    public bytes: Chunk | null,
    public subscriber: Subscriber<Rep> | null,
    readonly id: unknown,
    readonly timeout: number,
  ) {}
}

class ConnectionRequester<Req, Rep> implements Requester<Req, Rep> {
  private readonly queued = new LinkedList<Call<Rep>>();
  /** FIFO mode: written calls in write order, abandoned ones included. */
  private readonly written = new LinkedList<Call<Rep>>();
  /** By-id mode: written calls by id. */
  private readonly byId = new Map<unknown, Call<Rep>>();
  /** Written calls whose callers still wait. */
  private answering = 0;
  private isClosed = false;
  private lostBy: unknown = undefined;
  private readonly watching = new Subscription(); // data$ and writable$
  /** Every call's timeout on one timer, not a timer per call. */
  private readonly deadlines: Deadlines<Call<Rep>>;

  constructor(
    private readonly conn: Connection,
    private readonly codec: Codec<Rep, Req>,
    private readonly config: RequesterConfig<Req, Rep>,
  ) {
    this.deadlines = new Deadlines<Call<Rep>>(config.scheduler, (call) => this.timedOut(call));
  }

  get pending(): number {
    return this.queued.length + this.answering;
  }

  get inFlight(): number {
    return this.config.byId ? this.byId.size : this.written.length;
  }

  get closed(): boolean {
    return this.isClosed;
  }

  /** @internal Subscribes the connection's replies and writability; either may end the requester at once. */
  start(): void {
    // Added to `watching` once made, so a subscription that ended the requester at once is released too.
    this.watching.add(
      this.conn.data$
        .pipe(tap({ error: (error: unknown) => (this.lostBy = error) }), decodeWith(this.codec))
        .subscribe({
          next: (reply) => this.reply(reply),
          error: (error: unknown) => (error === this.lostBy ? this.lost(error) : this.broken(error)),
          complete: () => this.lost(this.conn.closeReason),
        }),
    );
    // Errors and completion of writable$ are the connection's end, which data$ reports.
    this.watching.add(this.conn.writable$.subscribe({ next: (ok) => ok && this.pump(), error: () => {} }));
  }

  request(message: Req, options?: RequestOptions): Observable<Rep> {
    const timeout = checkTimeout('timeout', options?.timeout, this.config.timeout);
    return new Observable<Rep>((subscriber) => {
      const call = this.open(message, subscriber, timeout);
      return call && (() => this.cancel(call));
    });
  }

  close(): void {
    if (this.isClosed) return;
    this.fail(new ConnectionLostError(this.conn.id, this.pending));
  }

  /** A call's deadline passed. */
  private timedOut(call: Call<Rep>): void {
    const subscriber = call.subscriber;
    call.timer = null;
    this.cancel(call);
    subscriber?.error(new RequestTimeoutError(call.timeout));
  }

  private open(message: Req, subscriber: Subscriber<Rep>, timeout: number): Call<Rep> | undefined {
    if (this.isClosed) return void subscriber.error(this.lostError(0));
    let bytes: Chunk;
    let id: unknown;
    try {
      bytes = this.codec.encode(message);
      if (this.config.byId) id = this.config.byId.requestId(message);
    } catch (error) {
      return void subscriber.error(error);
    }
    const { maxQueued } = this.config;
    const waits = this.queued.length > 0 || !this.hasRoom();
    if (waits && this.queued.length >= maxQueued) {
      return void subscriber.error(
        new QueueOverflowError(maxQueued, Infinity, this.queued.length, 0, 'request queue', 'room in flight'),
      );
    }
    const call = new Call<Rep>(bytes, subscriber, id, timeout);
    // The timer first: a write that fails at once stops it.
    if (timeout !== Infinity) call.timer = this.deadlines.add(call, timeout);
    if (waits) this.queued.push(call);
    else this.write(call);
    return call;
  }

  /** Whether the next call may be written now; after the connection was ended, writing is how a call gets its error. */
  private hasRoom(): boolean {
    return this.conn.writeEnded || (this.inFlight < this.config.maxInFlight && this.conn.writable);
  }

  /** Writes queued calls while there is room, corked when there are several. */
  private pump(): void {
    if (this.isClosed || this.queued.length === 0 || !this.hasRoom()) return;
    const several = this.queued.length > 1 && this.config.maxInFlight - this.inFlight > 1;
    if (several) this.conn.cork();
    try {
      for (let call = this.queued.head; call && !this.isClosed && this.hasRoom(); call = this.queued.head) {
        this.queued.remove(call);
        this.write(call);
      }
    } finally {
      if (several) this.conn.uncork();
    }
  }

  /** Places the call among the written ones, then writes it; a call that cannot be written errors alone. */
  private write(call: Call<Rep>): void {
    const byId = this.config.byId;
    if (byId && this.byId.has(call.id)) {
      return this.finish(call)?.error(new InvalidArgumentError('requestId', `${String(call.id)} is already in flight`));
    }
    // Placed before writing: a connection may deliver the reply within write().
    call.state = 'written';
    if (byId) this.byId.set(call.id, call);
    else this.written.push(call);
    this.answering++;
    const bytes = call.bytes!;
    call.bytes = null;
    try {
      this.conn.write(bytes);
    } catch (error) {
      if (call.state !== 'written') return;
      if (byId) this.byId.delete(call.id);
      else this.written.remove(call);
      this.answering--;
      this.finish(call)?.error(error);
    }
  }

  /** Marks a call done and stops its timer; returns its caller, if it still had one. */
  private finish(call: Call<Rep>): Subscriber<Rep> | null {
    const subscriber = call.subscriber;
    call.state = 'done';
    call.subscriber = null;
    call.bytes = null;
    call.timer?.unsubscribe();
    call.timer = null;
    return subscriber;
  }

  /** The caller left (unsubscribed, or timed out): forget the call, keeping a FIFO place reserved. */
  private cancel(call: Call<Rep>): void {
    const { state } = call;
    if (state === 'queued') this.queued.remove(call);
    else if (state !== 'written') return;
    else if (this.config.byId) this.byId.delete(call.id);
    this.finish(call);
    if (state !== 'written') return;
    this.answering--;
    if (this.config.byId) this.pump();
    else call.state = 'abandoned'; // still in `written`: it consumes its reply
  }

  private reply(reply: Rep): void {
    if (this.isClosed) return;
    let call: Call<Rep> | null | undefined;
    try {
      const byId = this.config.byId;
      const id = byId?.replyId(reply);
      call = byId ? this.byId.get(id) : this.written.shift();
      if (byId && call) this.byId.delete(id);
      if (!call) this.config.onUnmatched?.(reply);
    } catch (error) {
      return this.broken(error);
    }
    // FIFO: an abandoned call's place took this reply, which goes nowhere.
    if (call?.state === 'written') {
      this.answering--;
      const subscriber = this.finish(call);
      subscriber?.next(reply);
      subscriber?.complete();
    }
    this.pump();
  }

  private lostError(pending: number): ConnectionLostError {
    const error = new ConnectionLostError(this.conn.id, pending);
    const cause = this.lostBy ?? this.conn.closeReason;
    if (cause !== undefined) error.cause = cause;
    return error;
  }

  /** The connection ended or failed. */
  private lost(reason: unknown): void {
    if (reason !== undefined) this.lostBy = reason;
    if (!this.isClosed) this.fail(this.lostError(this.pending));
  }

  /** The replies cannot be trusted any more (a decode error, a throwing callback): fail, and destroy the connection. */
  private broken(error: unknown): void {
    if (this.isClosed) return;
    this.fail(error);
    this.conn.destroy(error instanceof Error ? error : new Error(String(error)));
  }

  /** Stops: releases everything first, so that `pending` is 0 when the callers hear the error. */
  private fail(error: unknown): void {
    this.isClosed = true;
    this.watching.unsubscribe();
    this.deadlines.clear();
    const callers: (Subscriber<Rep> | null)[] = [];
    for (const list of [this.queued, this.written]) {
      for (let call = list.shift(); call; call = list.shift()) callers.push(this.finish(call));
    }
    for (const call of this.byId.values()) callers.push(this.finish(call));
    this.byId.clear();
    this.answering = 0;
    for (const subscriber of callers) subscriber?.error(error);
  }
}
