// limitRate(): holds a stream to a message rate (a token bucket: a burst, then so many a second), timed on a scheduler.
import { Observable, Subscription, asyncScheduler } from 'rxjs';
import type { MonoTypeOperatorFunction, SchedulerAction, SchedulerLike, Subscriber } from 'rxjs';
import { InvalidArgumentError, QueueOverflowError, RateLimitError } from '../errors';
import type { Holdable } from '../types';
import { OperatorSubscriber } from '../util/OperatorSubscriber';
import { checkLimit, checkOptions, checkScheduler } from '../util/validate';
import { TokenBucket } from './TokenBucket';

/** The default `highWaterMark` of {@link limitRate} without `pauseSource`: values that may wait. */
const DEFAULT_HIGH_WATER_MARK = 1024;

/** Values emitted from the queue's head before its array is compacted (when they are at least half of it). */
const COMPACT_AT = 1024;

/**
 * What {@link limitRate} tells its `onLimit` callback about a value that found no token.
 *
 * @example
 * ```ts
 * import { decodeLines, limitRate, type Connection, type LimitRateEvent } from 'rxnet';
 *
 * declare const conn: Connection;
 * const warn = (e: LimitRateEvent<Buffer>) => conn.write(`-ERR slow down, retry in ${e.delay} ms\n`);
 * conn.data$.pipe(decodeLines(), limitRate({ burst: 10, rate: 2, overflow: 'drop', onLimit: warn })).subscribe();
 * ```
 */
export interface LimitRateEvent<T = unknown> {
  /** `'delayed'`: the value waits in the queue (`overflow: 'delay'`); `'dropped'`: it was discarded (`'drop'`). */
  readonly action: 'delayed' | 'dropped';
  /** The value concerned. */
  readonly value: T;
  /**
   * In ms: for `'delayed'`, how long until this value is expected out (its place in the queue
   * counted); for `'dropped'`, how long until a value would pass again (a client's retry-after).
   */
  readonly delay: number;
}

/**
 * Options of {@link limitRate}.
 *
 * @example
 * ```ts
 * import { decodeLines, limitRate, type Connection, type LimitRateConfig } from 'rxnet';
 *
 * declare const conn: Connection;
 * // 20 commands at once, 5 a second after that; what waits holds the socket's reading.
 * const config: LimitRateConfig<Buffer> = { burst: 20, rate: 5, pauseSource: conn };
 * conn.data$.pipe(decodeLines(), limitRate(config)).subscribe();
 * ```
 */
export interface LimitRateConfig<T = unknown> {
  /** Values allowed at once after a quiet spell (the bucket's size): an integer >= 1. */
  readonly burst: number;
  /** Values allowed per second after the burst (the refill rate): a finite number > 0, fractions allowed. */
  readonly rate: number;
  /**
   * What becomes of a value that finds no token: `'delay'` (default) queues it until one comes,
   * `'drop'` discards it, `'error'` fails with `RateLimitError`.
   */
  readonly overflow?: 'delay' | 'drop' | 'error';
  /**
   * `'delay'` only: the most values that may wait; one more fails with `QueueOverflowError`.
   * Default 1024, or no limit with `pauseSource` (a limit given still holds); `Infinity` for none.
   */
  readonly highWaterMark?: number;
  /**
   * `'delay'` only: a connection (any {@link Holdable}) whose reading is held from the first value
   * queued until the queue is empty again, so what waits is what was already read: a pipelining
   * peer is slowed down, not dropped. Usually the connection the values are read from.
   */
  readonly pauseSource?: Holdable;
  /** Told of each value delayed or dropped (for metrics or a warning to the peer); a throw becomes the error. */
  readonly onLimit?: (event: LimitRateEvent<T>) => void;
  /** Scheduler of the clock and the timer; `asyncScheduler` by default (virtual time inside `TestScheduler.run`). */
  readonly scheduler?: SchedulerLike;
}

/**
 * Passes values on at most `burst` at once and `rate` a second after that, delaying the rest in
 * order, dropping them, or failing with `RateLimitError`, as `overflow` says.
 *
 * A value that finds a token in the bucket passes at once (synchronously); one that finds none
 * is held back, each token refilled from the scheduler's clock.
 *
 * ```
 * limitRate({ burst: 2, rate: 250 })          (a token every 4 ms, the bucket starts full)
 * source:   -abcd----------e-|
 * output:   -ab--c---d-----e-|                 c waits for its token at 5, d for the next at 9
 *
 * overflow: 'drop'
 * output:   -ab------------e-|                 c, d dropped (onLimit told)
 *
 * overflow: 'error'
 * output:   -ab#                               # = RateLimitError { burst: 2, rate: 250 }
 * ```
 *
 * Each subscription has its own bucket, full at subscription: on a server, one per connection.
 * Delayed values wait in a queue drained by one timer at a time (none while nothing waits);
 * a value never overtakes one that waits. Limits: `highWaterMark` values may wait (default 1024,
 * none with `pauseSource`, whose hold bounds the queue by what was already read); one more fails
 * with `QueueOverflowError`. End of stream: the source's completion is passed on once the queue
 * is empty; its error at once, dropping what waits. Erroring, completing or unsubscribing cancels
 * the timer and releases the hold. A throw in `onLimit` becomes the error notification.
 *
 * @param config The bucket (`burst`, `rate`) and what to do when it is empty.
 * @throws InvalidArgumentError at creation for a bad option.
 * @example
 * ```ts
 * import { decodeLines, limitRate, listen, sendTo, serveEach } from 'rxnet';
 * import { map } from 'rxjs';
 *
 * // Echo commands, 10 at once and 2 a second per connection; a flooding client is slowed, not dropped.
 * listen({ port: 8109 })
 *   .pipe(
 *     serveEach((conn) =>
 *       conn.data$.pipe(
 *         decodeLines(),
 *         limitRate({ burst: 10, rate: 2, pauseSource: conn }),
 *         map((line) => `${line.toString()}\n`),
 *         sendTo(conn),
 *       ),
 *     ),
 *   )
 *   .subscribe();
 * ```
 */
export function limitRate<T>(config: LimitRateConfig<NoInfer<T>>): MonoTypeOperatorFunction<T> {
  const { burst, rate, pauseSource, onLimit } = checkOptions(config);
  // TokenBucket checks burst and rate (names included); check them now, not at subscription.
  new TokenBucket(burst, rate, 0);
  const overflow = config.overflow ?? 'delay';
  if (overflow !== 'delay' && overflow !== 'drop' && overflow !== 'error') {
    throw new InvalidArgumentError('overflow', `expected 'delay', 'drop' or 'error', got ${String(overflow)}`);
  }
  if (pauseSource !== undefined && typeof pauseSource?.holdReading !== 'function') {
    throw new InvalidArgumentError('pauseSource', `expected a Connection or Holdable, got ${describe(pauseSource)}`);
  }
  // As sendTo: with pauseSource what waits is bounded by what was read, so no default limit.
  const fallback = pauseSource === undefined ? DEFAULT_HIGH_WATER_MARK : Infinity;
  const highWaterMark = checkLimit('highWaterMark', config.highWaterMark, fallback, 1);
  if (onLimit !== undefined && typeof onLimit !== 'function') {
    throw new InvalidArgumentError('onLimit', `expected a function, got ${describe(onLimit)}`);
  }
  const scheduler = checkScheduler(config.scheduler, asyncScheduler);
  const settings: Settings<T> = { burst, rate, overflow, highWaterMark, pauseSource, onLimit, scheduler };
  return (source) =>
    new Observable<T>((subscriber) => {
      source.subscribe(new LimitRateSubscriber(subscriber, settings));
    });
}

/** The checked options, shared by every subscription of one operator. */
interface Settings<T> {
  readonly burst: number;
  readonly rate: number;
  readonly overflow: 'delay' | 'drop' | 'error';
  readonly highWaterMark: number;
  readonly pauseSource: Holdable | undefined;
  readonly onLimit: ((event: LimitRateEvent<T>) => void) | undefined;
  readonly scheduler: SchedulerLike;
}

/**
 * The source's subscriber. A wait (from the first value queued until the queue is empty) is one
 * Subscription holding the one scheduled action: unsubscribing it drops the queue, releases the
 * hold and cancels the timer. It is added to downstream, not to this subscriber, so that the
 * source is left when it completes while the queue still drains, as RxJS's own operators do.
 */
class LimitRateSubscriber<T> extends OperatorSubscriber<T> {
  private readonly bucket: TokenBucket;
  /** The values waiting, from `head` on (a moving head, not `shift()`, which is O(n) per value). */
  private queue: (T | undefined)[] = [];
  private head = 0;
  /** The current wait (its timer, its hold), or undefined while nothing waits. */
  private wait: Subscription | undefined = undefined;
  /** Releases the current hold on pauseSource. */
  private release: (() => void) | undefined = undefined;
  /** The source completed: complete downstream once the queue is empty. */
  private ended = false;
  /** The teardown of every wait of this subscription, made once. */
  private readonly endWait = (): void => this.stopWaiting();

  constructor(
    downstream: Subscriber<T>,
    private readonly settings: Settings<T>,
  ) {
    super(downstream);
    this.bucket = new TokenBucket(settings.burst, settings.rate, settings.scheduler.now());
  }

  next(value: T): void {
    if (this.closed) return;
    const { settings, bucket } = this;
    const now = settings.scheduler.now();
    // While values wait, a newcomer queues behind them even if a token just came.
    if (this.wait === undefined && bucket.take(now)) {
      this.downstream.next(value);
      return;
    }
    if (settings.overflow === 'error') {
      this.error(new RateLimitError(settings.burst, settings.rate));
    } else if (settings.overflow === 'drop') {
      this.tell('dropped', value, bucket.delay(now));
    } else {
      this.enqueue(value, now);
    }
  }

  override error(error: unknown): void {
    if (this.closed) return;
    const downstream = this.downstream;
    // Leave the source before releasing the hold: a released connection may read at once.
    this.unsubscribe();
    this.wait?.unsubscribe();
    downstream.error(error);
  }

  override complete(): void {
    if (this.closed) return;
    if (this.wait === undefined) return super.complete();
    // Values wait: leave the source now, complete when the last is out (drain does).
    this.ended = true;
    this.unsubscribe();
  }

  /** Runs on the timer: emits the values whose tokens came, then waits for the next or ends the wait. */
  drain(action: SchedulerAction<LimitRateSubscriber<T>>): void {
    const wait = this.wait;
    const { bucket, downstream } = this;
    const now = this.settings.scheduler.now();
    while (this.head < this.queue.length && bucket.take(now)) {
      const value = this.queue[this.head] as T;
      this.queue[this.head++] = undefined;
      downstream.next(value);
      // Downstream unsubscribed, or made the source fail, while taking it.
      if (this.wait !== wait) return;
    }
    if (this.head < this.queue.length) {
      // A queue that never empties (steady overload) would otherwise only grow: drop the spent head.
      if (this.head >= COMPACT_AT && this.head * 2 >= this.queue.length) {
        this.queue = this.queue.slice(this.head);
        this.head = 0;
      }
      const next = action.schedule(this, bucket.delay(now));
      if (next !== action && wait !== undefined) {
        // A VirtualAction (TestScheduler) reschedules as a new child of itself: a chain as long as the
        // wait, which unsubscribing walks recursively. Keep the new action in the wait instead.
        action.remove(next);
        wait.add(next);
        action.unsubscribe();
      }
      return;
    }
    const ended = this.ended;
    wait?.unsubscribe();
    if (ended) downstream.complete();
  }

  private enqueue(value: T, now: number): void {
    const { settings, bucket } = this;
    const queued = this.queue.length - this.head;
    if (queued >= settings.highWaterMark) {
      this.error(new QueueOverflowError(settings.highWaterMark, Infinity, queued, 0, 'rate limit queue', 'tokens'));
      return;
    }
    this.queue.push(value);
    if (this.wait === undefined) {
      try {
        this.release = settings.pauseSource?.holdReading();
      } catch (error) {
        this.error(error);
        return;
      }
      const wait = new Subscription(this.endWait);
      this.wait = wait;
      this.downstream.add(wait);
      wait.add(settings.scheduler.schedule(drainQueue, bucket.delay(now), this));
    }
    // The tokens still missing before this value's turn, its own included.
    const missing = queued + 1 - bucket.available(now);
    this.tell('delayed', value, Math.max(0, Math.ceil((missing * 1000) / settings.rate)));
  }

  /** Tells onLimit, turning a throw into the error notification. */
  private tell(action: 'delayed' | 'dropped', value: T, delay: number): void {
    const onLimit = this.settings.onLimit;
    if (onLimit === undefined) return;
    try {
      onLimit({ action, value, delay });
    } catch (error) {
      this.error(error);
    }
  }

  /** The teardown of a wait: drops the queue, then releases the hold (its action is cancelled after). */
  private stopWaiting(): void {
    this.wait = undefined;
    this.queue.length = 0;
    this.head = 0;
    const release = this.release;
    this.release = undefined;
    // Last: a released connection may read, and a value come in, before this returns.
    release?.();
  }
}

/** The work of every wait's action: shared, so that no closure is made per wait. */
function drainQueue<T>(this: SchedulerAction<LimitRateSubscriber<T>>, subscriber?: LimitRateSubscriber<T>): void {
  subscriber?.drain(this);
}

function describe(value: unknown): string {
  return value === null ? 'null' : typeof value === 'object' ? 'an object without the needed methods' : String(value);
}
