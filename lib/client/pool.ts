// pool(): a bounded set of client connections lent out one use at a time, with idle and lifetime limits and timed waits.
import { Observable, asyncScheduler, from } from 'rxjs';
import type { ObservableInput, SchedulerLike, Subscriber, Subscription } from 'rxjs';
import {
  AcquireTimeoutError,
  ClientClosedError,
  ConnectionClosedError,
  InvalidArgumentError,
  QueueOverflowError,
} from '../errors';
import type { Connection } from '../types';
import { LinkedList } from '../util/LinkedList';
import { checkLimit, checkScheduler, checkTimeout } from '../util/validate';
import { opener } from './reconnectingClient';
import type { ReconnectingClientOptions } from './reconnectingClient';
import { Member, Waiter, asError, checkMember, openMember } from './PoolMember';
import type { PoolConfig } from './PoolMember';

/**
 * Options of {@link pool}. Times are in ms on `scheduler`; 0 turns a time limit off. Write `attach`
 * before a `handshake` or `validate` that uses its second parameter, so that TypeScript knows its type.
 *
 * @example
 * ```ts
 * import { pool, type PoolOptions } from 'rxnet';
 *
 * const options: PoolOptions = { max: 8, min: 1, idleTimeout: 60_000, maxLifetime: 30 * 60_000, acquireTimeout: 2000 };
 * const redis = pool({ host: '127.0.0.1', port: 6379 }, options);
 * ```
 */
export interface PoolOptions<R = Connection> {
  /** Most connections open or opening at once (default 10). */
  readonly max?: number;
  /** Connections kept open while idle (default 0): opened at once, and again when one is lost (at most `max`). */
  readonly min?: number;
  /** An idle connection beyond `min` is ended after this long unused (default 30 000). */
  readonly idleTimeout?: number;
  /** A connection is not lent again after this age, and ended when idle at it (default 0: no limit). */
  readonly maxLifetime?: number;
  /** A use waiting longer than this for a connection errors with `AcquireTimeoutError` (default 10 000). */
  readonly acquireTimeout?: number;
  /** Ms a new connection's handshake, or a `validate`, may take (default 10 000); then RxJS's `TimeoutError` fails it. */
  readonly setupTimeout?: number;
  /** Most uses waiting for a connection (default 10 000); one more errors with `QueueOverflowError`. */
  readonly maxWaiting?: number;
  /**
   * Runs on each new connection before it is lent (AUTH, SELECT), given what `attach` made (or the
   * connection); its error destroys that connection and fails the use that waited for it.
   */
  readonly handshake?: (connection: Connection, resource: R) => ObservableInput<unknown>;
  /**
   * Made once per connection, before the handshake, and given to each use: a requester, a session.
   * Without it, uses get the connection itself and the pool reads it while it is idle (bytes from
   * an idle connection are unexpected: it is destroyed).
   */
  readonly attach?: (connection: Connection) => R;
  /** Checks an idle connection before lending it: a falsy first value, no value or an error destroy it, and another is tried. */
  readonly validate?: (connection: Connection, resource: R) => ObservableInput<unknown>;
  /** Scheduler of the time limits; `asyncScheduler` by default (virtual time inside `TestScheduler.run()`). */
  readonly scheduler?: SchedulerLike;
}

/**
 * Connections lent one use at a time, made by {@link pool}.
 *
 * @example
 * ```ts
 * import { pool, type Pool } from 'rxnet';
 *
 * const conns: Pool = pool({ host: '127.0.0.1', port: 8107 }, { max: 4 });
 * setInterval(() => console.log(`${conns.busy} busy, ${conns.idle} idle, ${conns.waiting} waiting`), 1000).unref();
 * ```
 */
export interface Pool<R = Connection> {
  /**
   * A cold Observable: each subscription waits for a connection (an idle one, or a new one while
   * fewer than `max` are open), gives it to `work` and mirrors what `work` returns. When that
   * completes, the connection goes back to the pool; when it errors, the connection is destroyed
   * (its protocol state is unknown) and the error passed on. When the subscriber leaves first, a
   * connection with an `attach`ed resource goes back (a requester drops late replies), a bare one
   * is destroyed (a reply may still come): await bare uses with `lastValueFrom`.
   */
  use<T>(work: (resource: R, connection: Connection) => ObservableInput<T>): Observable<T>;
  /** Connections open or opening. */
  readonly size: number;
  /** Connections open and unused. */
  readonly idle: number;
  /** Connections lent to a use now. */
  readonly busy: number;
  /** Uses waiting for a connection. */
  readonly waiting: number;
  /** True after `close()`. */
  readonly closed: boolean;
  /** Ends idle connections, errors waiting uses with `ClientClosedError`, ends busy ones when their use is done. Idempotent. */
  close(): void;
}

/**
 * A pool of client connections: at most `max` open, each lent to one use at a time, reused after
 * it; a dead one (closed by the peer, reset, failed `validate`, past `maxLifetime`) is never lent.
 *
 * ```
 * use(a) use(b) use(c)      max 2
 * conn 1: ──a────────┐ c──   (c waited for a's connection)
 * conn 2: ──b──────────────
 * ```
 *
 * A use that waits longer than `acquireTimeout` errors with `AcquireTimeoutError`; more than
 * `maxWaiting` waiting uses: `QueueOverflowError`. A connect that fails (refused, timed out) errors
 * the use that has waited longest. Idle connections are taken newest first, so that the others
 * pass `idleTimeout` and close when traffic falls.
 *
 * @param connect How to connect: `connect()`'s options, or a function opening a connection.
 * @param options Limits, the handshake, what a use is given, validation, scheduler.
 * @throws InvalidArgumentError for a missing `connect` or a bad option.
 * @example
 * ```ts
 * import { forkJoin } from 'rxjs';
 * import { pool, requester, respClient } from 'rxnet';
 *
 * const redis = pool({ host: '127.0.0.1', port: 6379 }, { max: 4, attach: (conn) => requester(conn, respClient()) });
 * const incr = (key: string) => redis.use((rpc) => rpc.request(['INCR', key]));
 * forkJoin([incr('a'), incr('b'), incr('c')]).subscribe({ next: console.log, complete: () => redis.close() });
 * ```
 */
export function pool<R>(
  connect: ReconnectingClientOptions['connect'],
  options: PoolOptions<R> & Required<Pick<PoolOptions<R>, 'attach'>>,
): Pool<R>;
export function pool(
  connect: ReconnectingClientOptions['connect'],
  options?: PoolOptions<Connection>,
): Pool<Connection>;
export function pool<R>(connect: ReconnectingClientOptions['connect'], options: PoolOptions<R> = {}): Pool<R> {
  if (connect === undefined || connect === null) {
    throw new InvalidArgumentError('connect', 'expected connect() options or a function opening a connection');
  }
  if (options === null || typeof options !== 'object') {
    throw new InvalidArgumentError('options', `expected an object, got ${String(options)}`);
  }
  for (const name of ['handshake', 'attach', 'validate'] as const) {
    if (options[name] !== undefined && typeof options[name] !== 'function') {
      throw new InvalidArgumentError(name, 'expected a function');
    }
  }
  const max = checkLimit('max', options.max, 10, 1);
  const min = checkLimit('min', options.min, 0, 0);
  if (min > max) throw new InvalidArgumentError('min', `expected at most max (${max}), got ${min}`);
  const time = (name: 'idleTimeout' | 'maxLifetime' | 'acquireTimeout' | 'setupTimeout', fallback: number) =>
    checkTimeout(name, options[name], fallback);
  const config: PoolConfig<R> = {
    open: opener(connect),
    max,
    min,
    idleTimeout: time('idleTimeout', 30_000),
    maxLifetime: time('maxLifetime', 0),
    acquireTimeout: time('acquireTimeout', 10_000),
    setupTimeout: time('setupTimeout', 10_000),
    maxWaiting: checkLimit('maxWaiting', options.maxWaiting, 10_000, 0),
    handshake: options.handshake,
    attach: options.attach ?? ((conn: Connection) => conn as unknown as R),
    readsIdle: options.attach === undefined,
    validate: options.validate,
    scheduler: checkScheduler(options.scheduler, asyncScheduler),
  };
  return new ConnectionPool<R>(config);
}

/** A member that closes sooner than this after it was opened, never used, failed: refilling `min` then backs off. */
const YOUNG = 1000;
/** The longest wait between refills of `min` after failures. */
const MAX_REFILL_DELAY = 10_000;

class ConnectionPool<R> implements Pool<R> {
  private readonly members = new Set<Member<R>>();
  /** Idle members, in the order they were given back: lent from the tail (newest first). */
  private readonly free = new LinkedList<Member<R>>();
  private readonly waiters = new LinkedList<Waiter<R>>();
  /** Connections being opened (connect, attach, handshake). */
  private readonly opening = new Set<{ setup?: Subscription }>();
  private checking = 0;
  private lent = 0;
  private isClosed = false;
  private dispatching = false;
  private again = false;
  /** The next refill of `min`, when refills back off after failures; its delay now. */
  private refill: Subscription | undefined = undefined;
  private refillDelay = 0;

  constructor(private readonly config: PoolConfig<R>) {
    this.fill();
  }

  get size(): number {
    return this.members.size + this.opening.size;
  }
  get idle(): number {
    return this.free.length;
  }
  get busy(): number {
    return this.lent + this.checking;
  }
  get waiting(): number {
    return this.waiters.length;
  }
  get closed(): boolean {
    return this.isClosed;
  }

  use<T>(work: (resource: R, connection: Connection) => ObservableInput<T>): Observable<T> {
    return new Observable<T>((subscriber) => {
      const { acquireTimeout, scheduler, max, maxWaiting } = this.config;
      if (this.isClosed) return void subscriber.error(new ClientClosedError('pool', 0));
      const mustWait = this.free.length === 0 && this.size >= max;
      if (mustWait && this.waiters.length >= maxWaiting) {
        return void subscriber.error(
          new QueueOverflowError(maxWaiting, Infinity, maxWaiting, 0, 'pool', 'a connection'),
        );
      }
      const waiter = new Waiter<R>((member) => this.run(member, work, subscriber), subscriber);
      if (acquireTimeout !== Infinity) {
        waiter.timer = scheduler.schedule(() => {
          this.waiters.remove(waiter);
          waiter.fail(new AcquireTimeoutError(acquireTimeout, max));
        }, acquireTimeout);
      }
      this.waiters.push(waiter);
      this.dispatch();
      return () => {
        if (this.waiters.head === waiter || waiter.prev !== null) this.waiters.remove(waiter);
        waiter.leave();
      };
    });
  }

  close(): void {
    if (this.isClosed) return;
    this.isClosed = true;
    this.refill?.unsubscribe();
    const error = new ClientClosedError('pool', this.waiters.length);
    for (let waiter = this.waiters.shift(); waiter; waiter = this.waiters.shift()) waiter.fail(error);
    for (let member = this.free.shift(); member; member = this.free.shift()) member.retire();
    for (const slot of [...this.opening]) slot.setup?.unsubscribe();
    for (const member of [...this.members]) if (member.check) member.destroy(new ClientClosedError('pool', 0));
  }

  /** Serves waiters; not reentrant: a call made while serving (a use done at once) makes the loop run again. */
  private dispatch(): void {
    if (this.dispatching) {
      this.again = true;
      return;
    }
    this.dispatching = true;
    try {
      do {
        this.again = false;
        this.serve();
      } while (this.again);
    } finally {
      this.dispatching = false;
    }
  }

  /** Lends idle members to waiters (validated first, when asked), and opens members while below `max`. */
  private serve(): void {
    while (this.waiters.length > 0 && !this.isClosed) {
      const member = this.free.tail;
      if (member === null) {
        // Members being opened or checked will serve waiters too.
        if (this.size >= this.config.max || this.opening.size + this.checking >= this.waiters.length) return;
        this.create();
        continue;
      }
      this.free.remove(member);
      member.stopIdle();
      if (!member.usable(this.config.scheduler.now())) member.retire();
      else if (this.config.validate && !member.trusted) this.check(member);
      else this.lend(member, this.waiters.shift()!);
    }
  }

  /** Runs `validate` on a member taken from the idle list: it is offered again if it passes, destroyed if not. */
  private check(member: Member<R>): void {
    this.checking++;
    member.lent = true;
    const finish = (ok: boolean, error?: unknown) => {
      if (!member.lent) return;
      this.checking--;
      member.lent = false;
      member.check = undefined;
      member.trusted = ok;
      if (ok && member.usable(this.config.scheduler.now())) this.offer(member);
      else member.destroy(asError(error ?? 'pooled connection failed validation'));
      this.dispatch();
    };
    const check = checkMember(this.config, member, finish);
    if (member.lent) member.check = check;
  }

  /** Opens one member; once ready it is offered. A failure errors the oldest waiter and backs refills off. */
  private create(): void {
    const slot: { setup?: Subscription } = {};
    this.opening.add(slot);
    const setup = openMember(this.config, (made, error) => {
      if (!this.opening.delete(slot)) return;
      if (made !== undefined && this.isClosed) made.conn.end();
      else if (made !== undefined) {
        const member = new Member<R>(
          made.conn,
          made.resource,
          this.config,
          (m) => this.lost(m),
          (m) => this.expired(m),
        );
        this.members.add(member);
        this.offer(member);
        this.fill();
      } else {
        this.waiters.shift()?.fail(error);
        this.scheduleFill(true);
      }
      this.dispatch();
    });
    if (this.opening.has(slot)) slot.setup = setup;
  }

  /** A member ready for use: idle (timing out when beyond `min`), then lent by dispatch. */
  private offer(member: Member<R>): void {
    if (this.isClosed || !member.usable(this.config.scheduler.now())) return member.retire();
    this.free.push(member);
    member.startIdle(this.members.size > this.config.min, () => {
      if (this.members.size <= this.config.min) return;
      this.free.remove(member);
      member.retire();
    });
    this.dispatch();
  }

  private lend(member: Member<R>, waiter: Waiter<R>): void {
    this.lent++;
    member.lent = true;
    member.used = true;
    member.trusted = false; // checked again (with validate) before its next use
    waiter.grant(member);
  }

  /**
   * Runs one use on a member. Completed: the member goes back. Errored: destroyed. Left before it
   * completed: given back when a resource from `attach` looks after cancelled work (a requester
   * drops late replies), destroyed when the use had the connection itself (a reply may still come).
   */
  private run<T>(
    member: Member<R>,
    work: (resource: R, connection: Connection) => ObservableInput<T>,
    subscriber: Subscriber<T>,
  ): () => void {
    let over = false;
    const giveBack = (error?: unknown) => {
      if (over) return;
      over = true;
      this.lent--;
      member.lent = false;
      if (error !== undefined) return member.destroy(asError(error));
      this.offer(member);
    };
    let inner: Subscription | undefined;
    try {
      inner = from(work(member.resource, member.conn)).subscribe({
        next: (value) => subscriber.next(value),
        error: (error: unknown) => {
          giveBack(error ?? 'use failed');
          subscriber.error(error);
        },
        complete: () => {
          this.refillDelay = 0; // it served a use: the service is up
          giveBack();
          subscriber.complete();
        },
      });
    } catch (error) {
      // `work` threw before using the connection.
      giveBack();
      subscriber.error(error);
    }
    return () => {
      inner?.unsubscribe();
      giveBack(this.config.readsIdle ? new Error('a use of this pooled connection was cancelled') : undefined);
    };
  }

  /** `maxLifetime` passed: an idle member is ended now, a lent one when given back. */
  private expired(member: Member<R>): void {
    if (member.lent || !this.members.has(member)) return;
    this.free.remove(member);
    member.retire();
  }

  /** A member is over (closed, destroyed, retired): forget it, refill `min` (later, if it died young), serve waiters. */
  private lost(member: Member<R>): void {
    if (!this.members.delete(member)) return;
    if (!member.lent && (member.prev !== null || this.free.head === member)) this.free.remove(member);
    if (member.check) {
      member.check.unsubscribe();
      member.check = undefined;
      member.lent = false;
      this.checking--;
    }
    // One that closed soon after it was opened, never used, counts as a failed attempt: no endless reconnecting.
    const failed = !member.used && this.config.scheduler.now() - member.born < YOUNG;
    if (failed && !this.isClosed) this.waiters.shift()?.fail(new ConnectionClosedError(member.conn.id, 0));
    this.scheduleFill(failed);
    this.dispatch();
  }

  /** Refills `min` now, or after a delay that doubles while attempts fail or members die young. */
  private scheduleFill(failed: boolean): void {
    if (this.isClosed) return;
    this.refillDelay = failed ? Math.min(Math.max(100, this.refillDelay * 2), MAX_REFILL_DELAY) : 0;
    if (this.refillDelay === 0) return this.fill();
    this.refill ??= this.config.scheduler.schedule(() => {
      this.refill = undefined;
      this.fill();
    }, this.refillDelay);
  }

  /** Opens members up to `min`, unless a refill waits. */
  private fill(): void {
    if (this.isClosed || this.refill !== undefined) return;
    for (let missing = this.config.min - this.size; missing > 0; missing--) this.create();
  }
}
