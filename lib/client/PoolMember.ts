// PoolMember: one pooled connection (its resource, idle watch, lifetime), its opening and validation, and one use waiting for a connection.
import { EMPTY, Observable, Subscription, defaultIfEmpty, defer, from, ignoreElements, take, timeout } from 'rxjs';
import type { ObservableInput, SchedulerLike } from 'rxjs';
import type { Connection } from '../types';
import type { Linked } from '../util/LinkedList';

/** @internal A pool's checked options. */
export interface PoolConfig<R> {
  readonly open: () => Observable<Connection>;
  readonly max: number;
  readonly min: number;
  readonly idleTimeout: number;
  readonly maxLifetime: number;
  readonly acquireTimeout: number;
  readonly setupTimeout: number;
  readonly maxWaiting: number;
  readonly handshake: ((connection: Connection, resource: R) => ObservableInput<unknown>) | undefined;
  readonly attach: (connection: Connection) => R;
  /** Whether the pool reads an idle connection itself (no `attach`: nothing else reads it). */
  readonly readsIdle: boolean;
  readonly validate: ((connection: Connection, resource: R) => ObservableInput<unknown>) | undefined;
  readonly scheduler: SchedulerLike;
}

/** @internal What a member needs from its pool's options. */
export type MemberConfig = Pick<PoolConfig<unknown>, 'idleTimeout' | 'maxLifetime' | 'readsIdle' | 'scheduler'>;

/** @internal An Error for anything thrown. */
export function asError(error: unknown): Error {
  return error instanceof Error ? error : new Error(String(error));
}

/** `work` within `setupTimeout`, or RxJS's `TimeoutError`. */
function bounded<T>(work: Observable<T>, config: PoolConfig<unknown>): Observable<T> {
  const ms = config.setupTimeout;
  return ms === Infinity ? work : work.pipe(timeout({ first: ms, scheduler: config.scheduler }));
}

/**
 * @internal Opens one connection for a pool: connect, `attach`, then the handshake within
 * `setupTimeout`. `done` is called once, with the connection and its resource or with the error
 * (the connection then destroyed). Unsubscribing gives up (and destroys what was made).
 */
export function openMember<R>(
  config: PoolConfig<R>,
  done: (made: { readonly conn: Connection; readonly resource: R } | undefined, error?: unknown) => void,
): Subscription {
  let settled = false;
  let made: Connection | undefined;
  const settle = (conn: Connection | undefined, resource: R | undefined, error?: unknown) => {
    if (settled) return;
    settled = true;
    if (conn !== undefined) done({ conn, resource: resource as R });
    else {
      made?.destroy(asError(error));
      done(undefined, error);
    }
  };
  const setup = new Subscription(() => settle(undefined, undefined, new Error('the pool gave up this connection')));
  setup.add(
    config.open().subscribe({
      next: (conn) => {
        made = conn;
        let resource: R;
        try {
          resource = config.attach(conn);
        } catch (error) {
          return settle(undefined, undefined, error);
        }
        const { handshake } = config;
        const ready = handshake === undefined ? EMPTY : defer(() => handshake(conn, resource));
        setup.add(
          bounded(from(ready).pipe(ignoreElements()), config as PoolConfig<unknown>).subscribe({
            error: (error: unknown) => settle(undefined, undefined, error),
            complete: () =>
              conn.closed || conn.writeEnded
                ? settle(undefined, undefined, conn.closeReason ?? new Error('the connection closed in its handshake'))
                : settle(conn, resource),
          }),
        );
      },
      error: (error: unknown) => settle(undefined, undefined, error),
      complete: () =>
        made === undefined && settle(undefined, undefined, new Error('connect completed without a connection')),
    }),
  );
  return setup;
}

/**
 * @internal Runs `validate` on a member within `setupTimeout`; `done(true)` for a truthy first
 * value, `done(false, error?)` otherwise. Unsubscribing gives up without calling `done`.
 */
export function checkMember<R>(
  config: PoolConfig<R>,
  member: Member<R>,
  done: (ok: boolean, error?: unknown) => void,
): Subscription {
  const check = defer(() => from(config.validate!(member.conn, member.resource))).pipe(take(1), defaultIfEmpty(false));
  return bounded(check, config as PoolConfig<unknown>).subscribe({
    next: (value) => done(Boolean(value)),
    error: (error: unknown) => done(false, error),
  });
}

/**
 * @internal One pooled connection: the connection, what uses are given, and the watches that end
 * it (the peer's FIN or a reset, bytes while idle, the idle timeout, the lifetime).
 */
export class Member<R> implements Linked<Member<R>> {
  prev: Member<R> | null = null;
  next: Member<R> | null = null;
  /** True while lent to a use (or being validated). */
  lent = false;
  /** True once lent at least once. */
  used = false;
  /** True while it needs no `validate` before its next use: fresh, or just validated. */
  trusted = true;
  /** The validation running on it, if any. */
  check: Subscription | undefined = undefined;
  /** When it was made, on the pool's scheduler. */
  readonly born: number;
  private retired = false;
  private watch: Subscription | undefined;
  private lifetime: Subscription | undefined;
  private idleTimer: Subscription | undefined;
  private idleReader: Subscription | undefined;

  /**
   * @param conn The connection, open and past its handshake.
   * @param resource What uses are given (the connection itself without `attach`).
   * @param config The pool's limits.
   * @param gone Called once when the member is over: closed, destroyed or retired.
   * @param expired Called when `maxLifetime` passes (the pool retires it if idle).
   */
  constructor(
    readonly conn: Connection,
    readonly resource: R,
    private readonly config: MemberConfig,
    private readonly gone: (member: Member<R>) => void,
    expired: (member: Member<R>) => void,
  ) {
    const { scheduler, maxLifetime } = config;
    this.born = scheduler.now();
    this.watch = conn.events$.subscribe({
      next: (event) => {
        // The peer is done with this connection: end our side too, and forget it.
        if (event.type === 'end' && !conn.writeEnded) conn.end();
        if (event.type === 'end' || event.type === 'close') this.over();
      },
      error: () => this.over(),
      complete: () => this.over(),
    });
    if (this.retired) this.watch.unsubscribe();
    if (maxLifetime !== Infinity && !this.retired) {
      this.lifetime = scheduler.schedule(() => expired(this), maxLifetime);
    }
  }

  /** Whether it may be lent now: open, both ways, within its lifetime, its resource not closed. */
  usable(now: number): boolean {
    const { conn, resource } = this;
    return (
      !this.retired &&
      !conn.closed &&
      !conn.writeEnded &&
      conn.closeReason === undefined &&
      now - this.born < this.config.maxLifetime &&
      (resource as { readonly closed?: unknown } | null)?.closed !== true
    );
  }

  /** Idle from now: read (without `attach`) so that a FIN, a reset or stray bytes are seen, and time out when `timesOut`. */
  startIdle(timesOut: boolean, onIdleTimeout: () => void): void {
    if (this.config.readsIdle && this.idleReader === undefined) {
      this.idleReader = this.conn.data$.subscribe({
        next: () => this.destroy(new Error('bytes from an idle pooled connection')),
        error: () => this.over(),
      });
    }
    if (timesOut && this.config.idleTimeout !== Infinity) {
      this.idleTimer = this.config.scheduler.schedule(onIdleTimeout, this.config.idleTimeout);
    }
  }

  /** Lent from now: reading is the use's, the idle timer stops. */
  stopIdle(): void {
    this.idleReader?.unsubscribe();
    this.idleReader = undefined;
    this.idleTimer?.unsubscribe();
    this.idleTimer = undefined;
  }

  /** Takes it out of service: ends the connection (what was written is still delivered). */
  retire(): void {
    if (!this.conn.writeEnded) this.conn.end();
    this.over();
  }

  /** Takes it out of service at once: destroys the connection with `error`. */
  destroy(error: Error): void {
    this.conn.destroy(error);
    this.over();
  }

  private over(): void {
    if (this.retired) return;
    this.retired = true;
    this.stopIdle();
    this.lifetime?.unsubscribe();
    this.watch?.unsubscribe();
    this.gone(this);
  }
}

/** @internal A use waiting for a connection: its caller, its acquire timer, and what runs once it is given one. */
export class Waiter<R> implements Linked<Waiter<R>> {
  prev: Waiter<R> | null = null;
  next: Waiter<R> | null = null;
  timer: Subscription | undefined;
  /** Stops the use once it runs (gives the connection back). */
  private stop: (() => void) | undefined;
  private done = false;

  constructor(
    private readonly start: (member: Member<R>) => () => void,
    private readonly subscriber: { error(error: unknown): void },
  ) {}

  /** Gives it its connection and starts the use. */
  grant(member: Member<R>): void {
    this.timer?.unsubscribe();
    if (this.done) return;
    const stop = this.start(member);
    // The caller may have left while the use started (a first value and take(1)).
    if (this.done) stop();
    else this.stop = stop;
  }

  /** Errors the caller (acquire timeout, a failed connect, the pool's close). */
  fail(error: unknown): void {
    this.timer?.unsubscribe();
    if (this.done) return;
    this.done = true;
    this.subscriber.error(error);
  }

  /** The caller left: stops the use if it runs. */
  leave(): void {
    this.timer?.unsubscribe();
    this.done = true;
    this.stop?.();
  }
}
