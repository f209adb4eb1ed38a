// Byte-rate budgets: the limits, the server-wide TrafficShaper, a connection's budget per direction and the readers spending it.
import { Observable, asyncScheduler } from 'rxjs';
import type { SchedulerAction, SchedulerLike, Subscriber, Subscription } from 'rxjs';
import { InvalidArgumentError } from '../errors';
import type { Connection } from '../types';
import { asFrameCutSource, asFrameProgressSource } from '../util/FrameCut';
import type { FrameCut, FrameCutSource, FrameProgressSource } from '../util/FrameCut';
import { OperatorSubscriber } from '../util/OperatorSubscriber';
import { checkInteger, checkOptions, checkRate, checkScheduler } from '../util/validate';
import { TokenBucket } from './TokenBucket';

/** The smallest default `burst`: 16 KiB, so that a low limit still lets a socket read or a small reply pass at once. @internal */
export const MIN_DEFAULT_BURST = 16 * 1024;

/**
 * Byte-rate limits, as Netty's traffic shaping handlers take them (`readLimit`, `writeLimit`);
 * an absent limit is no limit.
 *
 * ```
 * writeLimit 1 MB/s, burst 100 kB:   write(1 MB) → 100 kB at once, then 100 kB every 100 ms
 * readLimit 1 MB/s:                  a 64 KiB read into debt → reading paused ~66 ms, then resumed
 * ```
 *
 * `burst` is the bucket size: how many bytes may pass at once after a quiet spell. By default it is
 * a tenth of a second's worth of the limit, but at least 16 KiB; it is
 * also the largest piece a long write is cut into.
 *
 * @example
 * ```ts
 * import { type TrafficLimits } from 'rxnet';
 *
 * // 1 MB/s down to each client (bursts of 250 kB), 100 kB/s up.
 * const perClient: TrafficLimits = { writeLimit: 1_000_000, readLimit: 100_000, burst: 250_000 };
 * ```
 */
export interface TrafficLimits {
  /** Bytes per second read at most (a finite number > 0); undefined: no limit. */
  readonly readLimit?: number;
  /** Bytes per second written at most (a finite number > 0); undefined: no limit. */
  readonly writeLimit?: number;
  /**
   * The most bytes that may pass at once after a quiet spell (an integer ≥ 1, for both
   * directions); by default a tenth of each limit, at least 16 KiB.
   */
  readonly burst?: number;
}

/**
 * Options of {@link TrafficShaper}: the server-wide limits and the scheduler whose clock they run on.
 *
 * @example
 * ```ts
 * import { TrafficShaper, type TrafficShaperOptions } from 'rxnet';
 *
 * const options: TrafficShaperOptions = { writeLimit: 10_000_000 }; // 10 MB/s out for the whole server
 * const server = new TrafficShaper(options);
 * ```
 */
export interface TrafficShaperOptions extends TrafficLimits {
  /** The clock of the budget and of the waits of the connections spending from it; `asyncScheduler` by default. */
  readonly scheduler?: SchedulerLike;
}

/**
 * What `onThrottle` is told each time the budget holds traffic back: reading paused, or a write
 * held in the queue.
 *
 * ```
 * read 64 KiB in debt at 1 MB/s   → { direction: 'read', bytes: 65536, delay: 66 }
 * write(1 MB), budget 100 kB      → { direction: 'write', bytes: 900000, delay: 100 } …
 * ```
 *
 * @example
 * ```ts
 * import { shapeTraffic, type Connection, type Throttle } from 'rxnet';
 *
 * declare const conn: Connection;
 * let throttled = 0;
 * const onThrottle = (t: Throttle) => {
 *   throttled += t.delay;
 *   if (t.direction === 'read') console.log(`upload paused ${t.delay} ms (${t.bytes} B over budget)`);
 * };
 * const shaped = shapeTraffic(conn, { readLimit: 100_000, onThrottle });
 * ```
 */
export interface Throttle {
  /** Which way traffic is held back. */
  readonly direction: 'read' | 'write';
  /** Bytes over budget: for reads, the debt the bytes already read ran into; for writes, the bytes queued. */
  readonly bytes: number;
  /** Milliseconds from now until reading resumes, or the next piece of the queue is written. */
  readonly delay: number;
}

/**
 * A budget shared by many connections, a whole server's say: each connection given it as
 * `shapeTraffic(conn, { shared })` spends every byte from its own budget and from this one, and
 * waits while either is in debt.
 *
 * ```
 * shared writeLimit 1 MB/s:   conn A ──┐
 *                              conn B ──┼── at most 1 MB/s in all, on top of each one's own limit
 *                              conn C ──┘
 * ```
 *
 * Fairness: a connection waits until the debt it found (and made) is paid, so connections take
 * turns in the order they ran into debt, roughly a piece (writes) or a socket read (reads) each.
 * The shaper keeps no timer and no list of connections: the waits are the connections' own, and
 * end with them. The limits are checked here, when it is made.
 *
 * @example
 * ```ts
 * import { map } from 'rxjs';
 * import { TrafficShaper, listen, sendTo, serveEach, shapeTraffic } from 'rxnet';
 *
 * // An echo server: 1 MB/s each way for all clients together, 100 kB/s for any one of them.
 * const server = new TrafficShaper({ readLimit: 1_000_000, writeLimit: 1_000_000 });
 * listen({ port: 7000 })
 *   .pipe(
 *     map((conn) => shapeTraffic(conn, { readLimit: 100_000, writeLimit: 100_000, shared: server })),
 *     serveEach((conn) => conn.data$.pipe(sendTo(conn, { pauseSource: conn }))),
 *   )
 *   .subscribe();
 * ```
 */
export class TrafficShaper {
  /** The scheduler whose clock the budget runs on; connections sharing it default to it. */
  readonly scheduler: SchedulerLike;
  /** @internal The read budget, when there is a read limit. */
  readonly readBucket: TokenBucket | undefined;
  /** @internal The write budget, when there is a write limit. */
  readonly writeBucket: TokenBucket | undefined;

  /**
   * Makes a full budget of `limits` for connections to share.
   * @throws InvalidArgumentError for a limit that is not a finite number > 0, a `burst` that is not
   * an integer ≥ 1, or a scheduler that is not one.
   */
  constructor(limits: TrafficShaperOptions) {
    checkOptions(limits);
    this.scheduler = checkScheduler(limits.scheduler, asyncScheduler);
    const [readBucket, writeBucket] = bucketsFor(limits, this.scheduler.now());
    this.readBucket = readBucket;
    this.writeBucket = writeBucket;
  }

  /** Bytes per second read at most by all the connections together, or undefined. */
  get readLimit(): number | undefined {
    return this.readBucket?.rate;
  }

  /** Bytes per second written at most by all the connections together, or undefined. */
  get writeLimit(): number | undefined {
    return this.writeBucket?.rate;
  }
}

/**
 * One direction's budget of one connection: its own bucket and the shared one, either possibly
 * absent. Bytes are spent first and waited for after (into debt), so a wait always pays for bytes
 * already counted, and whoever ran into debt first is through first.
 * @internal
 */
export class Budget {
  /** The largest piece a queued write is cut into: the smaller burst. */
  readonly piece: number;

  constructor(
    private readonly own: TokenBucket | undefined,
    private readonly shared: TokenBucket | undefined,
  ) {
    this.piece = Math.min(own?.burst ?? Infinity, shared?.burst ?? Infinity);
  }

  /** Spends `n` bytes from both buckets; returns the ms until both are out of debt (0: now). */
  spend(now: number, n: number): number {
    this.own?.spend(now, n);
    this.shared?.spend(now, n);
    return this.wait(now);
  }

  /** Takes `n` bytes if both buckets have them now, and says whether it did. */
  take(now: number, n: number): boolean {
    const { own, shared } = this;
    if ((own !== undefined && own.available(now) < n) || (shared !== undefined && shared.available(now) < n)) {
      return false;
    }
    own?.spend(now, n);
    shared?.spend(now, n);
    return true;
  }

  /** Ms until both buckets are out of debt. */
  wait(now: number): number {
    const own = this.own === undefined ? 0 : this.own.delay(now, 0);
    const shared = this.shared === undefined ? 0 : this.shared.delay(now, 0);
    return own > shared ? own : shared;
  }

  /** The larger debt of the two, in bytes (0 when neither is in debt). */
  debt(now: number): number {
    const own = this.own === undefined ? 0 : -this.own.available(now);
    const shared = this.shared === undefined ? 0 : -this.shared.available(now);
    return Math.max(0, Math.ceil(own), Math.ceil(shared));
  }
}

/** What a shaped connection runs on, from its options. @internal */
export interface Shaping {
  readonly scheduler: SchedulerLike;
  /** Undefined when reading has no limit, its own or shared. */
  readonly read: Budget | undefined;
  /** Undefined when writing has no limit, its own or shared. */
  readonly write: Budget | undefined;
  readonly onThrottle: ((throttle: Throttle) => void) | undefined;
}

/**
 * Checks the connection and the options of `shapeTraffic` and makes the budgets: full buckets for
 * the connection's own limits, with `shared`'s beside them.
 * @internal
 */
export function shapingFor(
  connection: Connection,
  options: TrafficLimits & {
    readonly shared?: TrafficShaper;
    readonly scheduler?: SchedulerLike;
    readonly onThrottle?: (throttle: Throttle) => void;
  },
): Shaping {
  if (typeof connection !== 'object' || connection === null || typeof connection.write !== 'function') {
    throw new InvalidArgumentError('connection', `expected a Connection, got ${String(connection)}`);
  }
  checkOptions(options);
  const { shared, onThrottle } = options;
  if (shared !== undefined && !(shared instanceof TrafficShaper)) {
    throw new InvalidArgumentError('shared', `expected a TrafficShaper, got ${String(shared)}`);
  }
  const given = checkScheduler(options.scheduler, undefined);
  if (given !== undefined && shared !== undefined && given !== shared.scheduler) {
    throw new InvalidArgumentError('scheduler', "expected the shared TrafficShaper's own scheduler, or none");
  }
  if (onThrottle !== undefined && typeof onThrottle !== 'function') {
    throw new InvalidArgumentError('onThrottle', `expected a function, got ${String(onThrottle)}`);
  }
  const scheduler = given ?? shared?.scheduler ?? asyncScheduler;
  const [read, write] = bucketsFor(options, scheduler.now());
  const budget = (own: TokenBucket | undefined, common: TokenBucket | undefined) =>
    own === undefined && common === undefined ? undefined : new Budget(own, common);
  return {
    scheduler,
    read: budget(read, shared?.readBucket),
    write: budget(write, shared?.writeBucket),
    onThrottle,
  };
}

/** Checks the limits and makes a full bucket for each one given. */
function bucketsFor(limits: TrafficLimits, now: number): [TokenBucket | undefined, TokenBucket | undefined] {
  const readLimit = checkByteRate('readLimit', limits.readLimit);
  const writeLimit = checkByteRate('writeLimit', limits.writeLimit);
  const burst = limits.burst === undefined ? undefined : checkInteger('burst', limits.burst, 1);
  const bucket = (rate: number | undefined) =>
    rate === undefined ? undefined : new TokenBucket(burst ?? defaultBurst(rate), rate, now);
  return [bucket(readLimit), bucket(writeLimit)];
}

/** A tenth of a second's worth of `rate`, at least {@link MIN_DEFAULT_BURST}. */
export function defaultBurst(rate: number): number {
  return Math.min(Number.MAX_SAFE_INTEGER, Math.max(MIN_DEFAULT_BURST, Math.ceil(rate / 10)));
}

/** A byte rate: undefined (no limit) or a finite number > 0. */
function checkByteRate(name: string, value: unknown): number | undefined {
  return value === undefined ? undefined : checkRate(name, value, 'bytes per second, a finite number > 0');
}

/**
 * The read side of a shaped connection: a reader per `data$` subscriber spends each chunk (once,
 * however many read), and a budget in debt holds the connection's reading until the debt is paid.
 * @internal
 */
export class ShapedReading {
  readonly data$: Observable<Buffer>;
  private readers = 0;
  /** Chunks counted: a reader that saw fewer has a chunk another reader already spent. */
  private epoch = 0;
  private release: (() => void) | undefined = undefined;
  private timer: Subscription | undefined = undefined;

  constructor(
    private readonly connection: Connection,
    private readonly budget: Budget,
    private readonly scheduler: SchedulerLike,
    private readonly report: (direction: 'read', bytes: number, delay: number) => void,
  ) {
    this.data$ = new Observable<Buffer>((downstream) => this.subscribe(downstream));
  }

  /** `reader` got a chunk of `n` bytes: spent by the first reader it reaches (all get it before the next). */
  spend(reader: ShapedReader, n: number): void {
    if (reader.seen !== this.epoch) {
      reader.seen = this.epoch;
      return;
    }
    reader.seen = ++this.epoch;
    const now = this.scheduler.now();
    const wait = this.budget.spend(now, n);
    if (wait > 0) this.hold(wait, now);
  }

  /** A reader left: with the last one, the wait and its hold go. */
  leave(): void {
    if (--this.readers === 0) this.stop();
  }

  /** Ends the wait and releases the hold. */
  stop(): void {
    this.timer?.unsubscribe();
    this.timer = undefined;
    const release = this.release;
    this.release = undefined;
    release?.();
  }

  private subscribe(downstream: Subscriber<Buffer>): void {
    if (this.readers++ === 0) {
      // A debt left by an earlier reader (or another connection) holds this one too.
      const now = this.scheduler.now();
      const wait = this.budget.wait(now);
      if (wait > 0) this.hold(wait, now);
    }
    // Made after the count: a closed downstream unsubscribes it at once, which counts it out.
    const reader = readerFor(downstream, this, this.epoch);
    if (!reader.closed) this.connection.data$.subscribe(reader);
  }

  private hold(wait: number, now: number): void {
    if (this.release === undefined) this.release = this.connection.holdReading();
    this.timer?.unsubscribe();
    this.timer = this.scheduler.schedule(resumeReading, wait, this);
    this.report('read', this.budget.debt(now), wait);
  }
}

function resumeReading(this: SchedulerAction<ShapedReading>, reading?: ShapedReading): void {
  reading!.stop();
}

/**
 * What a shaped connection reads its connection with, on behalf of one `data$` subscriber:
 * it spends each chunk, then hands it on.
 * @internal
 */
class ShapedReader extends OperatorSubscriber<Buffer> {
  constructor(
    downstream: Subscriber<Buffer>,
    private readonly reading: ShapedReading,
    /** The last chunk seen, by the view's count. */
    public seen: number,
  ) {
    super(downstream);
  }

  next(chunk: Buffer): void {
    if (this.closed) return;
    this.reading.spend(this, chunk.length);
    // onThrottle may have destroyed the connection, which ended this reader.
    if (!this.closed) this.downstream.next(chunk);
  }

  override unsubscribe(): void {
    if (this.closed) return;
    super.unsubscribe();
    this.reading.leave();
  }
}

// A framer reading through the view keeps its place for the connection: the connection asks the
// subscriber of its data$ for these, so the reader forwards them, and has them only when the framer does.
class CutReader extends ShapedReader implements FrameCutSource {
  get frameCut(): FrameCut | undefined {
    return (this.downstream as unknown as FrameCutSource).frameCut;
  }
}

class ProgressReader extends ShapedReader implements FrameProgressSource {
  get framesOut(): number {
    return (this.downstream as unknown as FrameProgressSource).framesOut;
  }
  get heldBytes(): number | undefined {
    return (this.downstream as unknown as FrameProgressSource).heldBytes;
  }
}

class CutProgressReader extends CutReader implements FrameProgressSource {
  get framesOut(): number {
    return (this.downstream as unknown as FrameProgressSource).framesOut;
  }
  get heldBytes(): number | undefined {
    return (this.downstream as unknown as FrameProgressSource).heldBytes;
  }
}

/** The reader for `downstream`: one that forwards the framer's getters when `downstream` has them. */
function readerFor(downstream: Subscriber<Buffer>, reading: ShapedReading, seen: number): ShapedReader {
  const cut = asFrameCutSource(downstream) !== undefined;
  const progress = asFrameProgressSource(downstream) !== undefined;
  const Reader = cut ? (progress ? CutProgressReader : CutReader) : progress ? ProgressReader : ShapedReader;
  return new Reader(downstream, reading, seen);
}
