// Per-source datagram rates: one token bucket per sender address, in a map whose size is bounded.
import { TokenBucket } from '../shaping/TokenBucket';

/** New sources between two sweeps of the buckets that are full again (and so worth forgetting). */
const SWEEP_EVERY = 1024;

/**
 * One {@link TokenBucket} per source address (`burst` datagrams at once, `perSecond` after that),
 * read against the clock you pass, so it runs in virtual time and keeps no timer.
 *
 * Memory is bounded twice: buckets that filled up again are the same as none and are swept every
 * 1024 new sources, and at most `maxSources` are held: past that the one heard from least recently
 * is forgotten (its source starts again with a full burst), so a flood of new sources cannot
 * reset the bucket of a busy one. Sources are told apart by address only, not port.
 *
 * ```
 * burst 2, 1/s:  t=0 A→true A→true A→false B→true   t=1000 A→true A→false
 * ```
 *
 * @internal
 */
export class SourceRateLimit {
  private readonly buckets = new Map<string, TokenBucket>();
  /** Sources added since the limiter was made, to sweep every SWEEP_EVERY. */
  private added = 0;

  constructor(
    /** Datagrams one source may send at once after a quiet spell. */
    readonly burst: number,
    /** Datagrams per second one source may send after its burst. */
    readonly perSecond: number,
    /** The most sources tracked at once. */
    readonly maxSources: number,
  ) {}

  /** Whether a datagram from `source` at `now` is within its rate; spends its token if so. */
  allow(source: string, now: number): boolean {
    let bucket = this.buckets.get(source);
    if (bucket === undefined) {
      if (++this.added % SWEEP_EVERY === 0) this.sweep(now);
      if (this.buckets.size >= this.maxSources) this.forgetLeastRecent();
      bucket = new TokenBucket(this.burst, this.perSecond, now);
    } else {
      // Moved to the end: the Map's order is the order sources were last heard from.
      this.buckets.delete(source);
    }
    this.buckets.set(source, bucket);
    return bucket.take(now);
  }

  /** Sources held now (each with a bucket not known to be full). */
  get sources(): number {
    return this.buckets.size;
  }

  private sweep(now: number): void {
    for (const [source, bucket] of this.buckets) if (bucket.full(now)) this.buckets.delete(source);
  }

  private forgetLeastRecent(): void {
    // Each datagram re-inserts its source, so the Map's first key is the one heard from least recently.
    const leastRecent = this.buckets.keys().next();
    if (!leastRecent.done) this.buckets.delete(leastRecent.value);
  }
}
