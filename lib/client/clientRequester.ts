// clientRequester(): requests over a reconnecting client: a requester per connection, requests made while offline kept until the next one.
import { Observable, Subscription, asyncScheduler } from 'rxjs';
import type { Subscriber } from 'rxjs';
import type { Codec } from '../codec/Codec';
import { ClientClosedError, QueueOverflowError, RequestTimeoutError } from '../errors';
import type { Connection } from '../types';
import { Deadlines, type Deadline } from '../util/Deadlines';
import { LinkedList } from '../util/LinkedList';
import type { Linked } from '../util/LinkedList';
import { checkLimit, checkTimeout } from '../util/validate';
import type { ReconnectingClient } from './reconnectingClient';
import type { RequestOptions, Requester, RequesterOptions } from './requester';

/** @internal Makes the requester of one connection (requester() itself, passed in to keep the modules acyclic). */
export type RequesterOf<Req, Rep> = (
  conn: Connection,
  codec: Codec<Rep, Req>,
  options: RequesterOptions<Req, Rep>,
) => Requester<Req, Rep>;

/** A request made through the client: waiting for a connection, or handed to the current connection's requester. */
class Pending<Rep> implements Linked<Pending<Rep>> {
  prev: Pending<Rep> | null = null;
  next: Pending<Rep> | null = null;
  timer: Deadline | null = null;
  inner: Subscription | null = null;
  constructor(
    readonly message: unknown,
    readonly subscriber: Subscriber<Rep>,
    readonly timeout: number,
  ) {}
}

/**
 * @internal The requester over a reconnecting client: each connection the client makes gets a
 * requester of its own; a request made while there is none (offline, or the current one was lost)
 * waits, at most `maxQueued` of them, and is written once the next connection is up. A request
 * written to a connection that is then lost errors with `ConnectionLostError` (the server may have
 * run it: it is not sent again). Timeouts run from subscription, waiting included.
 */
export class ClientRequester<Req, Rep> implements Requester<Req, Rep> {
  private readonly waiting = new LinkedList<Pending<Rep>>();
  private current: Requester<Req, Rep> | undefined = undefined;
  /** The connection under `current`, and the watch of its writability. */
  private conn: Connection | undefined = undefined;
  private writability: Subscription | undefined = undefined;
  private readonly maxInFlight: number;
  private handed = 0;
  private isClosed = false;
  private readonly watch: Subscription;
  private readonly timeout: number;
  private readonly maxQueued: number;
  /** Every request's timeout on one timer. */
  private readonly deadlines: Deadlines<Pending<Rep>>;

  constructor(
    private readonly client: ReconnectingClient,
    private readonly codec: Codec<Rep, Req>,
    private readonly options: RequesterOptions<Req, Rep>,
    private readonly make: RequesterOf<Req, Rep>,
  ) {
    this.timeout = checkTimeout('timeout', options.timeout, 30_000);
    this.maxQueued = checkLimit('maxQueued', options.maxQueued, 10_000, 0);
    this.maxInFlight = checkLimit('maxInFlight', options.maxInFlight, 1024, 1);
    this.deadlines = new Deadlines(options.scheduler ?? asyncScheduler, (pending) => {
      this.drop(pending);
      pending.subscriber.error(new RequestTimeoutError(pending.timeout));
    });
    this.watch = client.connection$.subscribe({
      next: (conn) => this.connected(conn),
      error: () => this.close(),
      complete: () => this.close(),
    });
  }

  get pending(): number {
    return this.waiting.length + this.handed;
  }
  get inFlight(): number {
    return this.current?.inFlight ?? 0;
  }
  get closed(): boolean {
    return this.isClosed;
  }

  request(message: Req, options?: RequestOptions): Observable<Rep> {
    const timeout = checkTimeout('timeout', options?.timeout, this.timeout);
    return new Observable<Rep>((subscriber) => {
      if (this.isClosed) return void subscriber.error(new ClientClosedError('requester', 0));
      const room = this.room();
      if (!room && this.waiting.length >= this.maxQueued) {
        const { maxQueued } = this;
        const waitingFor = this.live() ? 'room in flight' : 'a connection';
        return void subscriber.error(
          new QueueOverflowError(maxQueued, Infinity, maxQueued, 0, 'request queue', waitingFor),
        );
      }
      const pending = new Pending<Rep>(message, subscriber, timeout);
      if (timeout !== Infinity) pending.timer = this.deadlines.add(pending, timeout);
      if (room) this.hand(pending, room);
      else this.waiting.push(pending);
      return () => this.drop(pending);
    });
  }

  close(): void {
    if (this.isClosed) return;
    this.isClosed = true;
    this.watch?.unsubscribe();
    this.writability?.unsubscribe();
    const error = new ClientClosedError('requester', this.waiting.length);
    for (let pending = this.waiting.shift(); pending; pending = this.waiting.shift()) {
      pending.timer?.unsubscribe();
      pending.subscriber.error(error);
    }
    // Those handed to a connection hear ConnectionLostError from its requester.
    this.current?.close();
  }

  /** The requester of the connection now, if it is still open. */
  private live(): Requester<Req, Rep> | undefined {
    const current = this.current;
    return current !== undefined && !current.closed ? current : undefined;
  }

  /**
   * The requester to hand a request to now: open, nothing waiting before it, fewer than
   * `maxInFlight` of its requests pending and its connection writable, so that it writes the
   * request at once (a request never written waits here, and survives the connection's loss).
   */
  private room(): Requester<Req, Rep> | undefined {
    const live = this.live();
    return live && this.waiting.length === 0 && live.pending < this.maxInFlight && this.conn!.writable
      ? live
      : undefined;
  }

  /** Hands waiting requests over, in order, while there is room. */
  private pump(): void {
    for (let live = this.live(); live && this.waiting.head; live = this.live()) {
      if (live.pending >= this.maxInFlight || !this.conn!.writable) return;
      this.hand(this.waiting.shift()!, live);
    }
  }

  /** A new connection (its handshake done): a requester for it, and what waited is handed to it, in order. */
  private connected(conn: Connection): void {
    this.current?.close();
    this.writability?.unsubscribe();
    this.conn = conn;
    // No timeout of its own: requests keep the one they were made with, counted from their subscription.
    this.current = this.make(conn, this.codec, { ...this.options, timeout: 0, maxQueued: Infinity });
    this.writability = conn.writable$.subscribe({ next: (ok) => ok && this.pump(), error: () => undefined });
    this.pump();
  }

  /** Hands a request to a connection's requester; what it answers goes to the caller. */
  private hand(pending: Pending<Rep>, to: Requester<Req, Rep>): void {
    this.handed++;
    let settled = false;
    const settle = () => {
      if (settled) return;
      settled = true;
      this.handed--;
      pending.timer?.unsubscribe();
      this.pump();
    };
    pending.inner = to.request(pending.message as Req).subscribe({
      next: (reply) => pending.subscriber.next(reply),
      error: (error: unknown) => {
        settle();
        pending.subscriber.error(error);
      },
      complete: () => {
        settle();
        pending.subscriber.complete();
      },
    });
    if (pending.inner.closed) return;
    const inner = pending.inner;
    pending.inner = new Subscription(() => {
      settle();
      inner.unsubscribe();
    });
  }

  /** The caller left or timed out: out of the queue, or cancelled at the connection's requester. */
  private drop(pending: Pending<Rep>): void {
    pending.timer?.unsubscribe();
    pending.timer = null;
    if (pending.inner) {
      pending.inner.unsubscribe();
      pending.inner = null;
    } else if (pending.prev !== null || this.waiting.head === pending) {
      this.waiting.remove(pending);
    }
  }
}
