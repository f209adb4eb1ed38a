// backoff(): a retry delay policy for RxJS retry, exponential, capped and jittered.
import { asyncScheduler, timer, throwError } from 'rxjs';
import type { Observable, SchedulerLike } from 'rxjs';
import { InvalidArgumentError } from '../errors';
import { checkInteger } from './validate';

/**
 * Options of {@link backoff}.
 *
 * @example
 * ```ts
 * import { retry } from 'rxjs';
 * import { backoff, connect, type BackoffOptions } from 'rxnet';
 *
 * // Delays of 200, 400, 800, ... ms, at most 10 s, each drawn from its upper 20 %.
 * const policy: BackoffOptions = { initialDelay: 200, factor: 2, maxDelay: 10_000, jitter: 0.2 };
 * connect({ port: 8107 }).pipe(retry({ delay: backoff(policy) })).subscribe();
 * ```
 */
export interface BackoffOptions {
  /** Delay before the first retry, in ms (default 100). */
  initialDelay?: number;
  /** Upper bound of any delay, in ms (default 30 000). */
  maxDelay?: number;
  /** Growth per retry (default 2). */
  factor?: number;
  /**
   * Fraction of each delay that is random (default 0.5): the delay is drawn uniformly from
   * `[d * (1 - jitter), d]`. 0 gives exact exponential delays; 1 gives "full jitter".
   */
  jitter?: number;
  /** Give up after this many retries with the last error (default: never). */
  maxRetries?: number;
  /** Random source in [0, 1), for tests. */
  random?: () => number;
  /** Scheduler of the delay timers; `asyncScheduler` by default (virtual time inside `TestScheduler.run`). */
  scheduler?: SchedulerLike;
}

/**
 * A delay policy for RxJS `retry({ delay })`: exponential, capped and jittered.
 *
 * ```
 * retry 1: initialDelay    retry 2: initialDelay*factor    …    capped at maxDelay
 * each delay d is drawn from [d*(1-jitter), d]
 * ```
 *
 * @example
 * ```ts
 * import { connect, backoff } from 'rxnet';
 * import { retry } from 'rxjs';
 *
 * const conn$ = connect({ port: 8107, host: '127.0.0.1' }).pipe(
 *   retry({ delay: backoff({ initialDelay: 50, maxDelay: 2000, maxRetries: 20 }) }),
 * );
 * ```
 */
export function backoff(options: BackoffOptions = {}): (error: unknown, retryCount: number) => Observable<number> {
  const initialDelay = options.initialDelay ?? 100;
  const maxDelay = options.maxDelay ?? 30_000;
  const factor = options.factor ?? 2;
  const jitter = options.jitter ?? 0.5;
  checkInteger('initialDelay', initialDelay, 0);
  checkInteger('maxDelay', maxDelay, initialDelay);
  if (!(factor >= 1)) throw new InvalidArgumentError('factor', `expected a number >= 1, got ${factor}`);
  if (!(jitter >= 0 && jitter <= 1))
    throw new InvalidArgumentError('jitter', `expected a number in [0, 1], got ${jitter}`);
  if (options.maxRetries !== undefined) checkInteger('maxRetries', options.maxRetries, 0);
  const random = options.random ?? Math.random;
  const scheduler = options.scheduler ?? asyncScheduler;

  return (error: unknown, retryCount: number) => {
    if (options.maxRetries !== undefined && retryCount > options.maxRetries) return throwError(() => error);
    return timer(backoffDelay(retryCount, initialDelay, maxDelay, factor, jitter, random), scheduler);
  };
}

/** The delay before retry number `retryCount` (1-based). */
export function backoffDelay(
  retryCount: number,
  initialDelay: number,
  maxDelay: number,
  factor: number,
  jitter: number,
  random: () => number,
): number {
  const exponential = Math.min(maxDelay, initialDelay * Math.pow(factor, Math.max(0, retryCount - 1)));
  return Math.round(exponential * (1 - jitter * random()));
}
