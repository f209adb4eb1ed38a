// The first-byte and frame deadlines of the connections a server accepted, on the scheduler: one sweep per server, no timer per connection.
import type { SchedulerAction, SchedulerLike, Subscription } from 'rxjs';
import { FirstByteTimeoutError, FrameTimeoutError } from '../errors';
import type { FrameProgressSource } from '../util/FrameCut';
import type { ReadWatch } from '../util/ReadGate';

/** What a deadline watches: the connection's read gate. @internal */
export interface Watched {
  readonly flowing: boolean;
  readonly frameProgress: FrameProgressSource | undefined;
}

/**
 * The deadlines of one server's connections: a first byte within `firstByte` ms of reading, a
 * frame begun finished within `frame` ms (0 turns either off). One sweep on the scheduler every
 * tenth of the shorter deadline checks the connections that have one running, so a connection
 * costs one small object and no timer, and a deadline is met within a tenth of its length.
 *
 * ```
 * first byte:  accept──(reading)─────────────── firstByte ms ──▶ FirstByteTimeoutError
 * frame:       ──"GET /"──"x"──"y"───── frame ms from "GET /" ──▶ FrameTimeoutError (unless "\n" came)
 * ```
 *
 * Time while a connection is not read (no subscriber, or reading held by the application or a
 * shaper) does not count: the deadline is moved on by it. The sweep runs only while some
 * connection that is being read has a deadline running.
 * @internal
 */
export class ReadDeadlines<C> {
  /** Sweep period: a tenth of the shorter deadline. */
  readonly tick: number;
  private readonly running = new Set<ReadDeadline<C>>();
  private sweep: Subscription | undefined = undefined;
  /** Times are kept relative to this, so that they stay small integers (no boxed double per connection). */
  private readonly epoch: number;

  constructor(
    /** ms for the first byte once reading; 0: none. */
    readonly firstByte: number,
    /** ms from a frame's first byte to its last; 0: none. */
    readonly frame: number,
    readonly scheduler: SchedulerLike,
    /** A deadline passed: destroy `connection` with `error` (and tell it). */
    private readonly expired: (connection: C, deadline: 'first-byte' | 'frame', error: Error) => void,
  ) {
    this.epoch = scheduler.now();
    const shorter = firstByte > 0 && frame > 0 ? Math.min(firstByte, frame) : Math.max(firstByte, frame);
    this.tick = Math.max(1, Math.ceil(shorter / 10));
  }

  /** @internal The clock, in ms since these deadlines were made. */
  now(): number {
    return this.scheduler.now() - this.epoch;
  }

  /** Puts `connection`, read through `gate`, under these deadlines. */
  watch(connection: C, gate: Watched): ReadDeadline<C> {
    return new ReadDeadline(this, connection, gate);
  }

  /** How many connections have a deadline running now. */
  get size(): number {
    return this.running.size;
  }

  /** Stops the sweep and forgets every connection (the server's subscription ended). */
  clear(): void {
    this.running.clear();
    this.sweep?.unsubscribe();
    this.sweep = undefined;
  }

  /** @internal */
  run(deadline: ReadDeadline<C>): void {
    this.running.add(deadline);
    if (this.sweep !== undefined) return;
    const self = this;
    this.sweep = this.scheduler.schedule(function (this: SchedulerAction<unknown>) {
      self.check(this);
    }, this.tick);
  }

  /** @internal */
  rest(deadline: ReadDeadline<C>): void {
    this.running.delete(deadline);
  }

  private check(action: SchedulerAction<unknown>): void {
    const now = this.now();
    for (const deadline of this.running) {
      const error = deadline.missed(now);
      if (error === undefined) continue;
      this.running.delete(deadline);
      this.expired(deadline.connection, error instanceof FirstByteTimeoutError ? 'first-byte' : 'frame', error);
    }
    if (this.running.size > 0) action.schedule(undefined, this.tick);
    else this.sweep = undefined;
  }
}

/**
 * One connection's deadlines: told of each chunk and of reading starting and stopping by the
 * connection's read gate. A chunk costs a few field reads; the clock is read only when a frame
 * begins or reading resumes.
 * @internal
 */
export class ReadDeadline<C> implements ReadWatch {
  private gotByte = false;
  /** When the wait for the first byte began, moved on by the time reading was stopped. */
  private firstStart: number;
  /** When the unfinished frame began, moved on likewise; -1 when none is. */
  private frameStart = -1;
  private framesSeen = 0;
  /** When reading stopped; -1 while reading. */
  private pausedAt: number;
  private done = false;

  constructor(
    private readonly owner: ReadDeadlines<C>,
    readonly connection: C,
    private readonly gate: Watched,
  ) {
    const now = owner.now();
    this.firstStart = now;
    this.pausedAt = gate.flowing ? -1 : now;
    if (this.pending && this.pausedAt < 0) owner.run(this);
  }

  /** Whether a deadline is counting (or would, while reading). */
  private get pending(): boolean {
    return (!this.gotByte && this.owner.firstByte > 0) || this.frameStart >= 0;
  }

  flowing(on: boolean): void {
    if (this.done) return;
    const { owner } = this;
    if (!on) {
      if (this.pausedAt < 0) this.pausedAt = owner.now();
      // Not the peer's fault while we do not read: nothing to check until we do.
      owner.rest(this);
      return;
    }
    if (this.pausedAt < 0) return;
    const stopped = owner.now() - this.pausedAt;
    this.pausedAt = -1;
    this.firstStart += stopped;
    if (this.frameStart >= 0) this.frameStart += stopped;
    if (this.pending) owner.run(this);
  }

  read(): void {
    if (this.done) return;
    const { owner } = this;
    const first = !this.gotByte;
    this.gotByte = true;
    const progress = owner.frame > 0 ? this.gate.frameProgress : undefined;
    const held = progress?.heldBytes;
    if (held === undefined || held === 0) {
      if (progress !== undefined) this.framesSeen = progress.framesOut;
      if (this.frameStart >= 0 || first) {
        this.frameStart = -1;
        owner.rest(this);
      }
      return;
    }
    const frames = progress!.framesOut;
    if (this.frameStart < 0 || frames !== this.framesSeen) {
      // A frame began in this chunk: its clock starts now.
      this.framesSeen = frames;
      this.frameStart = owner.now();
      if (this.pausedAt < 0) owner.run(this);
    }
  }

  stop(): void {
    this.done = true;
    this.owner.rest(this);
  }

  /** The error of a deadline passed by `now`, or undefined. */
  missed(now: number): Error | undefined {
    if (this.pausedAt >= 0) return undefined;
    const { owner } = this;
    if (!this.gotByte) {
      return now - this.firstStart >= owner.firstByte ? new FirstByteTimeoutError(owner.firstByte) : undefined;
    }
    if (this.frameStart < 0 || now - this.frameStart < owner.frame) return undefined;
    return new FrameTimeoutError(owner.frame, this.gate.frameProgress?.heldBytes ?? 0);
  }
}
