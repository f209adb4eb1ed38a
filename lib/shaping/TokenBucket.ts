// A token bucket refilled from the scheduler's clock: the one rate rule behind accept rates, message rates and byte shaping.
import { checkInteger, checkRate } from '../util/validate';

/**
 * A bucket of at most `burst` tokens, refilled at `rate` tokens a second, read against the
 * clock you pass (`scheduler.now()`), so it runs in virtual time and keeps no timer. It starts
 * full. `take` spends only what is there; `spend` may run into debt (a chunk larger than the
 * burst), which `delay` then reports as the time until the debt is paid.
 *
 * ```
 * burst 2, rate 1/s:  t=0 take→true  take→true  take→false  delay()=1000   t=1000 take→true
 * ```
 *
 * @example
 * ```ts
 * import { asyncScheduler } from 'rxjs';
 * import { TokenBucket } from 'rxnet';
 *
 * // At most 10 commands at once, 2 a second after that.
 * const bucket = new TokenBucket(10, 2, asyncScheduler.now());
 * if (!bucket.take(asyncScheduler.now())) console.warn(`slow down: next in ${bucket.delay(asyncScheduler.now())} ms`);
 * ```
 */
export class TokenBucket {
  private tokens: number;
  private stamp: number;

  /** A full bucket; throws InvalidArgumentError for a `burst` that is no integer ≥ 1 or a `rate` that is no finite number > 0. */
  constructor(
    /** The most tokens the bucket holds: how many may be taken at once after a quiet spell. */
    readonly burst: number,
    /** Tokens added per second. */
    readonly rate: number,
    /** The clock's reading now (`scheduler.now()`). */
    now: number,
  ) {
    checkInteger('burst', burst, 1);
    checkRate('rate', rate);
    this.tokens = burst;
    this.stamp = now;
  }

  /** The tokens there now (negative while in debt). */
  available(now: number): number {
    this.refill(now);
    return this.tokens;
  }

  /** True when the bucket is full: it is then the same as a new one and may be forgotten. */
  full(now: number): boolean {
    this.refill(now);
    return this.tokens >= this.burst;
  }

  /** Takes `n` tokens if there are that many, and says whether it did. */
  take(now: number, n = 1): boolean {
    this.refill(now);
    if (this.tokens < n) return false;
    this.tokens -= n;
    return true;
  }

  /** Takes `n` tokens whatever is there, running into debt if need be. */
  spend(now: number, n: number): void {
    this.refill(now);
    this.tokens -= n;
  }

  /** Milliseconds until `n` tokens are there (0 when they are now); with `n` over the burst, until the bucket is full. */
  delay(now: number, n = 1): number {
    this.refill(now);
    const missing = Math.min(n, this.burst) - this.tokens;
    return missing <= 0 ? 0 : Math.ceil((missing * 1000) / this.rate);
  }

  private refill(now: number): void {
    const elapsed = now - this.stamp;
    if (elapsed <= 0) return;
    this.stamp = now;
    if (this.tokens < this.burst) this.tokens = Math.min(this.burst, this.tokens + (elapsed * this.rate) / 1000);
  }
}
