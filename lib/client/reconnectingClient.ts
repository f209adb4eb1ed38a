// reconnectingClient(): a client connection that stays: reconnects with backoff, runs a handshake each time, keeps an outbox while offline.
import {
  BehaviorSubject,
  EMPTY,
  Observable,
  Subject,
  concat,
  defer,
  from,
  ignoreElements,
  mergeMap,
  of,
  repeat,
  retry,
  tap,
  throwError,
  catchError,
} from 'rxjs';
import type { ObservableInput, SchedulerLike, Subscription } from 'rxjs';
import { asyncScheduler } from 'rxjs';
import { connect } from '../core/connect';
import type { ConnectOptions } from '../core/connect';
import { InvalidArgumentError, QueueOverflowError } from '../errors';
import type { Chunk, Connection } from '../types';
import { backoff } from '../util/backoff';
import type { BackoffOptions } from '../util/backoff';
import { checkLimit } from '../util/validate';
import { sizeOf } from '../core/SendQueue';

/**
 * Where a {@link ReconnectingClient} is: `connecting` (a connect or its handshake under way),
 * `connected`, `backing-off` (waiting before the next attempt), `closed` (after `close()`, or
 * once `backoff.maxRetries` attempts in a row failed).
 *
 * @example
 * ```ts
 * import { reconnectingClient, type ClientState } from 'rxnet';
 *
 * const client = reconnectingClient({ connect: { host: '127.0.0.1', port: 6379 } });
 * client.state$.subscribe((state: ClientState) => console.log('redis:', state));
 * ```
 */
export type ClientState = 'connecting' | 'connected' | 'backing-off' | 'closed';

/**
 * Options of {@link reconnectingClient}.
 *
 * @example
 * ```ts
 * import { of } from 'rxjs';
 * import { reconnectingClient, type ReconnectingClientOptions } from 'rxnet';
 *
 * const options: ReconnectingClientOptions = {
 *   connect: { host: '127.0.0.1', port: 6379, timeout: 2000 },
 *   backoff: { initialDelay: 100, maxDelay: 5000 },
 *   handshake: (conn) => of(conn.write('*2\r\n$6\r\nSELECT\r\n$1\r\n1\r\n')), // before anything queued
 *   outbox: { highWaterMark: 1000, overflow: 'drop-oldest' },
 * };
 * reconnectingClient(options);
 * ```
 */
export interface ReconnectingClientOptions {
  /** How to connect: `connect()`'s options, or a function opening a connection (an in-memory server's `connect` in tests). */
  readonly connect: ConnectOptions | (() => Connection | PromiseLike<Connection>);
  /** Delays between attempts (`backoff`'s options; its scheduler defaults to this client's); `maxRetries` failed attempts in a row close the client. */
  readonly backoff?: BackoffOptions;
  /**
   * Runs on each new connection before it counts as connected and before the outbox is written
   * (AUTH, SELECT, a greeting to read); it completes when done. Its error destroys that
   * connection and counts as a failed attempt.
   */
  readonly handshake?: (connection: Connection) => ObservableInput<unknown>;
  /** The writes kept while not connected: at most `highWaterMark` values (default 1024) and `highWaterMarkBytes` bytes (default 1 MiB); `overflow` says what happens to one more. */
  readonly outbox?: {
    /** Values kept at most (default 1024). */
    readonly highWaterMark?: number;
    /** Bytes kept at most (default 1 MiB). */
    readonly highWaterMarkBytes?: number;
    /** `'error'` (default): `write` throws QueueOverflowError; `'drop-oldest'`: the oldest kept value goes; `'drop-newest'`: the new one is dropped. */
    readonly overflow?: 'error' | 'drop-oldest' | 'drop-newest';
  };
  /** Scheduler of the backoff delays; `asyncScheduler` by default. */
  readonly scheduler?: SchedulerLike;
}

/**
 * A client connection that stays: see {@link reconnectingClient}.
 *
 * @example
 * ```ts
 * import { reconnectingClient, type ReconnectingClient } from 'rxnet';
 *
 * const client: ReconnectingClient = reconnectingClient({ connect: { port: 8107 } });
 * client.write('hello\n'); // kept until connected, then written
 * process.once('SIGTERM', () => client.close());
 * ```
 */
export interface ReconnectingClient {
  /** The state now, then every change; completes after `closed`. */
  readonly state$: Observable<ClientState>;
  /** The state now. */
  readonly state: ClientState;
  /** The connection now (when connected), then each new one once its handshake is done (read each with `switchMap`); completes at close. */
  readonly connection$: Observable<Connection>;
  /** The connection now, when connected. */
  readonly connection: Connection | undefined;
  /** Values waiting in the outbox. */
  readonly queued: number;
  /**
   * Writes `chunk` to the connection when connected and nothing waits before it (returns what
   * `write` returned); otherwise keeps it in the outbox, written in order after the next
   * handshake, and returns false. Throws QueueOverflowError when the outbox is full and its
   * overflow is `'error'`, WriteAfterEndError-like InvalidArgumentError after `close()`.
   */
  write(chunk: Chunk): boolean;
  /** Stops reconnecting, ends the connection (what it was given is still delivered), drops the outbox. */
  close(): void;
}

/**
 * Opens a client connection and keeps one open: it reconnects with `backoff` after a refused
 * connect, a failed connection or a clean close, runs `handshake` on each new connection, and
 * keeps writes made while offline in a bounded outbox that is written, in order, once connected.
 *
 * ```
 * state$:      connecting──connected──────────backing-off──connecting──connected── … close()──closed|
 * connection$:           ──c1─────────────────────────────────────────c2─────────── … ──|
 * write(x) while offline:                         (x kept)                ──x written to c2 after the handshake
 * ```
 *
 * A connection is seen to close when its `data$` is read (as a client reading its replies does)
 * or a write to it fails; the peer's FIN ends our side too, and the client reconnects.
 *
 * Limits: the outbox holds `outbox.highWaterMark` values and `highWaterMarkBytes` bytes; bytes
 * given to a connection that then fails are that connection's (the kernel may not have delivered
 * them): only the outbox survives a reconnect. With `backoff.maxRetries`, that many failed
 * attempts in a row close the client (`state$` errors with the last failure).
 *
 * @example
 * ```ts
 * import { switchMap } from 'rxjs';
 * import { decodeLines, reconnectingClient } from 'rxnet';
 *
 * const client = reconnectingClient({ connect: { host: '127.0.0.1', port: 8107 }, backoff: { maxDelay: 5000 } });
 * client.connection$.pipe(switchMap((conn) => conn.data$.pipe(decodeLines()))).subscribe((line) => console.log(line.toString()));
 * client.write('subscribe news\n');
 * ```
 */
export function reconnectingClient(options: ReconnectingClientOptions): ReconnectingClient {
  return new Client(options);
}

class Client implements ReconnectingClient {
  private readonly states = new BehaviorSubject<ClientState>('connecting');
  private now: ClientState = 'connecting';
  private readonly connections = new Subject<Connection>();
  private readonly outbox: Chunk[] = [];
  private outboxBytes = 0;
  private current: Connection | undefined = undefined;
  private readonly loop: Subscription;
  private readonly highWaterMark: number;
  private readonly highWaterMarkBytes: number;
  private readonly overflow: 'error' | 'drop-oldest' | 'drop-newest';

  constructor(options: ReconnectingClientOptions) {
    if (options === null || typeof options !== 'object' || options.connect === undefined) {
      throw new InvalidArgumentError('connect', 'expected connect() options or a function opening a connection');
    }
    const outbox = options.outbox ?? {};
    this.highWaterMark = checkLimit('outbox.highWaterMark', outbox.highWaterMark, 1024, 1);
    this.highWaterMarkBytes = checkLimit('outbox.highWaterMarkBytes', outbox.highWaterMarkBytes, 1024 * 1024, 1);
    const overflow = outbox.overflow ?? 'error';
    if (overflow !== 'error' && overflow !== 'drop-oldest' && overflow !== 'drop-newest') {
      throw new InvalidArgumentError(
        'outbox.overflow',
        `expected 'error', 'drop-oldest' or 'drop-newest', got ${String(overflow)}`,
      );
    }
    this.overflow = overflow;
    const scheduler = options.scheduler ?? asyncScheduler;
    const delay = backoff({ scheduler, ...options.backoff });
    const open = opener(options.connect);
    const handshake = options.handshake;

    const attempt = defer(() => {
      this.setState('connecting');
      return open();
    }).pipe(
      mergeMap((conn) =>
        concat(
          handshake === undefined ? EMPTY : from(handshake(conn)).pipe(ignoreElements()),
          defer(() => {
            this.current = conn;
            this.setState('connected');
            this.flush(conn);
            this.connections.next(conn);
            // A value, so that retry counts failures in a row from here.
            return of(conn);
          }),
          lifetime(conn),
        ).pipe(
          catchError((error: unknown) => {
            conn.destroy();
            return throwError(() => error);
          }),
          tap({ finalize: () => this.current === conn && (this.current = undefined) }),
        ),
      ),
    );
    this.loop = attempt
      .pipe(
        repeat({ delay: () => this.backOff(delay(undefined, 1)) }),
        retry({ resetOnSuccess: true, delay: (error, count) => this.backOff(delay(error, count)) }),
      )
      .subscribe({ error: (error: unknown) => this.finish(error) });
  }

  get state$(): Observable<ClientState> {
    return this.states.asObservable();
  }
  get state(): ClientState {
    // Kept apart from the subject: an errored BehaviorSubject throws from `value`.
    return this.now;
  }
  get connection$(): Observable<Connection> {
    // The connection there is now first (the first one may be made before anyone subscribes), then each new one.
    return defer(() => {
      const now = this.current;
      return now !== undefined && this.state === 'connected' ? concat(of(now), this.connections) : this.connections;
    });
  }
  get connection(): Connection | undefined {
    return this.current;
  }
  get queued(): number {
    return this.outbox.length;
  }

  write(chunk: Chunk): boolean {
    if (this.state === 'closed') throw new InvalidArgumentError('write', 'the client is closed');
    const conn = this.current;
    if (conn !== undefined && this.state === 'connected' && this.outbox.length === 0 && !conn.writeEnded) {
      return conn.write(chunk);
    }
    const size = sizeOf(chunk);
    if (this.outbox.length >= this.highWaterMark || this.outboxBytes + size > this.highWaterMarkBytes) {
      if (this.overflow === 'drop-newest') return false;
      if (this.overflow === 'drop-oldest') {
        while (
          this.outbox.length > 0 &&
          (this.outbox.length >= this.highWaterMark || this.outboxBytes + size > this.highWaterMarkBytes)
        ) {
          this.outboxBytes -= sizeOf(this.outbox.shift()!);
        }
      }
      // 'error', or one value larger than the whole outbox.
      if (this.outbox.length >= this.highWaterMark || this.outboxBytes + size > this.highWaterMarkBytes) {
        throw new QueueOverflowError(
          this.highWaterMark,
          this.highWaterMarkBytes,
          this.outbox.length,
          this.outboxBytes,
          'outbox',
          'a connection',
        );
      }
    }
    this.outbox.push(chunk);
    this.outboxBytes += size;
    return false;
  }

  close(): void {
    if (this.state === 'closed') return;
    this.loop.unsubscribe();
    this.current?.end();
    this.finish(undefined);
  }

  private setState(state: ClientState): void {
    if (this.now === state || this.now === 'closed') return;
    this.now = state;
    this.states.next(state);
  }

  /** Waits `wait`, in state backing-off. */
  private backOff(wait: Observable<unknown>): Observable<unknown> {
    this.current = undefined;
    this.setState('backing-off');
    return wait;
  }

  /** Writes the outbox to a connection just made, in order. */
  private flush(conn: Connection): void {
    const waiting = this.outbox.splice(0);
    this.outboxBytes = 0;
    for (const chunk of waiting) conn.write(chunk);
  }

  private finish(error: unknown): void {
    this.outbox.length = 0;
    this.outboxBytes = 0;
    this.current = undefined;
    if (this.now !== 'closed') {
      this.now = 'closed';
      this.states.next('closed');
    }
    if (error === undefined) this.states.complete();
    else this.states.error(error);
    this.connections.complete();
  }
}

/** A function making one connection attempt: an Observable of the connection (it may complete at once). */
export function opener(how: ReconnectingClientOptions['connect']): () => Observable<Connection> {
  if (typeof how === 'function') {
    // A connection made at once (an in-memory server's) is used at once, so virtual time sees it.
    return () =>
      defer(() => {
        const made = how();
        return isPromiseLike(made) ? from(made) : of(made);
      });
  }
  // Checked now: connect() checks its options when called.
  connect(how);
  return () => connect(how);
}

function isPromiseLike(value: unknown): value is PromiseLike<Connection> {
  return typeof (value as PromiseLike<Connection> | undefined)?.then === 'function';
}

/**
 * Completes when `conn` has closed cleanly; errors with its close reason when it failed. The
 * peer's FIN ends our side too: the server is done with this connection, the next one will do.
 */
function lifetime(conn: Connection): Observable<never> {
  return concat(
    conn.events$.pipe(
      tap((event) => event.type === 'end' && !conn.writeEnded && conn.end()),
      ignoreElements(),
    ),
    defer(() => (conn.closeReason === undefined ? EMPTY : throwError(() => conn.closeReason))),
  );
}
