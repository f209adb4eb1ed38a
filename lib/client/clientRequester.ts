// clientRequester(): requests over a reconnecting client: a requester per connection, requests made while offline kept until the next one.
import { Observable, Subscription, asyncScheduler } from 'rxjs';
import type { SchedulerLike, Subscriber } from 'rxjs';
import type { Codec } from '../codec/Codec';
import { ClientClosedError, QueueOverflowError, RequestTimeoutError } from '../errors';
import type { Connection } from '../types';
import { LinkedList } from '../util/LinkedList';
import type { Linked } from '../util/LinkedList';
import { checkLimit } from '../util/validate';
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
  timer: Subscription | null = null;
  inner: Subscription | null = null;
  constructor(
    readonly message: unknown,
    readonly subscriber: Subscriber<Rep>,
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
  private handed = 0;
  private isClosed = false;
  private readonly watch: Subscription;
  private readonly timeout: number;
  private readonly maxQueued: number;
  private readonly scheduler: SchedulerLike;

  constructor(
    private readonly client: ReconnectingClient,
    private readonly codec: Codec<Rep, Req>,
    private readonly options: RequesterOptions<Req, Rep>,
    private readonly make: RequesterOf<Req, Rep>,
  ) {
    this.timeout = requestTimeout(options.timeout);
    this.maxQueued = checkLimit('maxQueued', options.maxQueued, 10_000, 0);
    this.scheduler = options.scheduler ?? asyncScheduler;
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
    const timeout = options?.timeout === undefined ? this.timeout : requestTimeout(options.timeout);
    return new Observable<Rep>((subscriber) => {
      if (this.isClosed) return void subscriber.error(new ClientClosedError('requester', 0));
      const live = this.live();
      if (!live && this.waiting.length >= this.maxQueued) {
        const { maxQueued } = this;
        return void subscriber.error(
          new QueueOverflowError(maxQueued, Infinity, maxQueued, 0, 'request queue', 'a connection'),
        );
      }
      const pending = new Pending<Rep>(message, subscriber);
      if (timeout !== Infinity) {
        pending.timer = this.scheduler.schedule(() => {
          this.drop(pending);
          subscriber.error(new RequestTimeoutError(timeout));
        }, timeout);
      }
      if (live) this.hand(pending, live);
      else this.waiting.push(pending);
      return () => this.drop(pending);
    });
  }

  close(): void {
    if (this.isClosed) return;
    this.isClosed = true;
    this.watch?.unsubscribe();
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

  /** A new connection (its handshake done): a requester for it, and what waited is handed to it, in order. */
  private connected(conn: Connection): void {
    this.current?.close();
    // No timeout of its own: requests keep the one they were made with, counted from their subscription.
    this.current = this.make(conn, this.codec, { ...this.options, timeout: 0, maxQueued: Infinity });
    for (let pending = this.waiting.shift(); pending && this.live(); pending = this.waiting.shift()) {
      this.hand(pending, this.current);
    }
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

/** A timeout option checked: ms, `Infinity` for none (0 means none too). */
export function requestTimeout(ms: number | undefined): number {
  const timeout = checkLimit('timeout', ms, 30_000, 0);
  return timeout === 0 ? Infinity : timeout;
}
