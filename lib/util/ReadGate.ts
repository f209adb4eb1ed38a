// Decides when a connection reads: only while someone listens and nobody holds it back.
import { Observable } from 'rxjs';
import type { Subscriber, TeardownLogic } from 'rxjs';
import { asFrameProgressSource } from './FrameCut';
import type { FrameProgressSource } from './FrameCut';

/**
 * Told by a {@link ReadGate} when it starts or stops reading, after each chunk it hands on, and
 * when its stream is over: what a read deadline needs, one object per connection that has one.
 */
export interface ReadWatch {
  flowing(on: boolean): void;
  read(): void;
  stop(): void;
}

/**
 * The read side of a connection, shared by the socket and the in-memory connections.
 *
 * Chunks go to the current `data$` subscribers. Reading is switched on (via `setFlowing`) only
 * while there is at least one subscriber and no hold (user `pause()`, a sink waiting for drain).
 * A chunk that arrives while nobody listens is kept and given to the next subscriber, and the end
 * of the stream (FIN or error) is replayed to late subscribers, so no byte is lost between accept
 * and the first subscription, nor between two subscriptions.
 *
 * The gate is the connection's `data$` itself: one object per connection rather than a gate and
 * an Observable around it.
 */
export class ReadGate extends Observable<Buffer> {
  /** The subscriber when there is one (nearly always), else undefined. */
  private only: Subscriber<Buffer> | undefined = undefined;
  /** Every subscriber when there are two or more; `only` is then undefined. */
  private many: Subscriber<Buffer>[] | undefined = undefined;
  /** Chunks read while nobody listened; made on first use. */
  private pending: Buffer[] | undefined = undefined;
  private pendingBytes = 0;
  private holds = 0;
  /** FLOWING, DONE, FAILED, DRAINING and USER_PAUSED bits: one field rather than five. */
  private state = 0;
  private error: Error | undefined = undefined;

  /** The read deadline watching this gate, when its server set one. */
  watch: ReadWatch | undefined = undefined;
  /** The subscriber's frame progress, once looked for; null when the subscribers changed since. */
  private progress: FrameProgressSource | undefined | null = null;

  /** Told when reading should start or stop; absent when a subclass overrides `setFlowing`. */
  declare private onFlowing?: (flowing: boolean) => void;

  constructor(onFlowing?: (flowing: boolean) => void) {
    super(subscribeToGate);
    // Only when given: a socket's gate overrides setFlowing and spends no field on it.
    if (onFlowing !== undefined) this.onFlowing = onFlowing;
  }

  /** Starts or stops reading. */
  protected setFlowing(flowing: boolean): void {
    this.onFlowing?.(flowing);
  }

  private get done(): boolean {
    return (this.state & DONE) !== 0;
  }

  /** True once the stream has ended (the peer's FIN) or failed. */
  get ended(): boolean {
    return (this.state & DONE) !== 0;
  }

  /**
   * True when a subscriber left while its framer held bytes toward an unfinished frame (bytes the
   * application never saw, dropped with the framer), until a new subscriber comes: a TLS upgrade
   * refuses such a connection rather than lose them or hand plain bytes to TLS.
   */
  get stranded(): boolean {
    return (this.state & STRANDED) !== 0;
  }

  /** Puts `chunk` in front of the chunks kept for the next subscriber (a PROXY view's bytes after its header). */
  unshift(chunk: Buffer): void {
    (this.pending ??= []).unshift(chunk);
    this.pendingBytes += chunk.length;
  }

  /** Takes the chunks kept for the next subscriber (read while nobody listened): a TLS upgrade gives them to TLS. */
  takePending(): Buffer[] | undefined {
    const held = this.pending;
    this.pending = undefined;
    this.pendingBytes = 0;
    return held;
  }

  /** True while `data$` has a subscriber. */
  get observed(): boolean {
    return this.only !== undefined || this.many !== undefined;
  }

  /** True while reading: someone listens and nothing holds it back. */
  get flowing(): boolean {
    return (this.state & FLOWING) !== 0;
  }

  /** How far the framer reading this gate has got (the last open one, when there are several). */
  get frameProgress(): FrameProgressSource | undefined {
    // Asked after every chunk by a frame deadline: found again only when the subscribers change.
    let progress = this.progress;
    if (progress === null) progress = this.progress = this.findFrameProgress();
    return progress;
  }

  private findFrameProgress(): FrameProgressSource | undefined {
    const only = this.only;
    if (only !== undefined) return asFrameProgressSource(only);
    const many = this.many;
    if (many === undefined) return undefined;
    for (let i = many.length - 1; i >= 0; i--) {
      if (!many[i].closed) return asFrameProgressSource(many[i]);
    }
    return undefined;
  }

  /** Called for each chunk read from the peer. */
  push(chunk: Buffer): void {
    const only = this.only;
    if (only !== undefined) {
      only.next(chunk);
      this.watch?.read();
    } else if (this.many !== undefined) {
      for (const s of this.many.slice()) s.next(chunk);
      this.watch?.read();
    } else {
      (this.pending ??= []).push(chunk);
      this.pendingBytes += chunk.length;
      if ((this.state & DRAINING) !== 0 && this.pendingBytes >= DRAIN_LIMIT) this.update();
    }
  }

  /** The peer sent FIN: subscribers complete; later subscribers complete at once. */
  end(): void {
    if (this.done) return;
    this.watch?.stop();
    this.state |= DONE;
    this.update();
    for (const s of this.takeSubscribers()) s.complete();
  }

  /** The connection failed: subscribers error; later subscribers error at once. */
  fail(error: Error): void {
    if (this.done) return;
    this.watch?.stop();
    this.state |= DONE | FAILED;
    this.error = error;
    this.update();
    for (const s of this.takeSubscribers()) s.error(error);
  }

  /** The subscriber when there is exactly one, else undefined. */
  protected get sole(): Subscriber<Buffer> | undefined {
    return this.only;
  }

  /** The subscribers when there are two or more, in the order they came, else undefined. */
  protected get several(): readonly Subscriber<Buffer>[] | undefined {
    return this.many;
  }

  /** Adds a `data$` subscriber; returns its teardown. */
  attach(subscriber: Subscriber<Buffer>): TeardownLogic {
    if (this.pending !== undefined) {
      const held = this.pending;
      this.pending = undefined;
      this.pendingBytes = 0;
      for (let i = 0; i < held.length; i++) {
        if (subscriber.closed) {
          // The subscriber left while replaying (or came closed): the rest goes on as if just
          // read, to the subscribers there are now (one may have come meanwhile) or kept again.
          this.noteStranded(subscriber);
          for (let j = i; j < held.length; j++) this.push(held[j]);
          return undefined;
        }
        subscriber.next(held[i]);
      }
      this.watch?.read();
      if (subscriber.closed) {
        this.noteStranded(subscriber);
        return undefined;
      }
    }
    if (this.done) {
      if ((this.state & FAILED) !== 0) subscriber.error(this.error);
      else subscriber.complete();
      return undefined;
    }
    this.progress = null;
    this.state &= ~STRANDED;
    if (this.only === undefined && this.many === undefined) this.only = subscriber;
    else if (this.many === undefined) {
      this.many = [this.only!, subscriber];
      this.only = undefined;
    } else this.many.push(subscriber);
    this.update();
    // The gate is the teardown (see unsubscribe): no object per subscription.
    return this;
  }

  /**
   * The teardown `attach` returns, run when a subscriber unsubscribes: RxJS marks a subscription
   * closed before it runs its teardowns, so the subscribers that are closed are the ones leaving.
   */
  unsubscribe(): void {
    this.progress = null;
    const only = this.only;
    if (only !== undefined) {
      if (!only.closed) return;
      this.only = undefined;
      this.noteStranded(only);
    } else {
      const many = this.many;
      if (many === undefined) return;
      const open = many.filter((s) => !s.closed);
      if (open.length === many.length) return;
      for (const s of many) if (s.closed) this.noteStranded(s);
      if (open.length > 1) this.many = open;
      else {
        this.many = undefined;
        this.only = open[0];
      }
    }
    this.update();
  }

  /** Marks the gate stranded when `leaving`'s framer holds part of a frame (it is unsubscribed before it lets go). */
  private noteStranded(leaving: Subscriber<Buffer>): void {
    const held = asFrameProgressSource(leaving)?.heldBytes;
    if (held !== undefined && held > 0) this.state |= STRANDED;
  }

  /** Removes and returns every subscriber (the stream ended). */
  private takeSubscribers(): Subscriber<Buffer>[] {
    this.progress = null;
    const only = this.only;
    const all = only !== undefined ? [only] : (this.many ?? NONE);
    this.only = undefined;
    this.many = undefined;
    return all;
  }

  /** Adds one reason to stay paused; the returned function removes it (once). */
  hold(): () => void {
    this.holds++;
    this.update();
    let released = false;
    return () => {
      if (released) return;
      released = true;
      this.holds--;
      this.update();
    };
  }

  /** The user's `pause()`: one hold, taken at most once until `resumeByUser()`. */
  pauseByUser(): void {
    if ((this.state & USER_PAUSED) !== 0) return;
    this.state |= USER_PAUSED;
    this.holds++;
    this.update();
  }

  /** Undoes `pauseByUser()`; other holds stay. */
  resumeByUser(): void {
    if ((this.state & USER_PAUSED) === 0) return;
    this.state &= ~USER_PAUSED;
    this.holds--;
    this.update();
  }

  /**
   * Our write side has finished: from now on read even with no subscriber (keeping what arrives,
   * up to DRAIN_LIMIT bytes, for a late subscriber) so the peer's FIN is seen and the socket can
   * close, as a plain `net` socket would.
   */
  drainWhenUnobserved(): void {
    this.state |= DRAINING;
    this.update();
  }

  get held(): boolean {
    return this.holds > 0;
  }

  private update(): void {
    const state = this.state;
    const flowing =
      (state & DONE) === 0 &&
      this.holds === 0 &&
      (this.only !== undefined ||
        this.many !== undefined ||
        ((state & DRAINING) !== 0 && this.pendingBytes < DRAIN_LIMIT));
    if (flowing !== ((state & FLOWING) !== 0)) {
      this.state = flowing ? state | FLOWING : state & ~FLOWING;
      this.setFlowing(flowing);
      this.watch?.flowing(flowing);
    }
  }
}

function subscribeToGate(this: Observable<Buffer>, subscriber: Subscriber<Buffer>): TeardownLogic {
  return (this as ReadGate).attach(subscriber);
}

const NONE: Subscriber<Buffer>[] = [];

// ReadGate's state bits.
const FLOWING = 1;
const DONE = 2;
const FAILED = 4;
const DRAINING = 8;
/** The user's pause(), one of the holds. */
const USER_PAUSED = 16;
/** A subscriber left with bytes of an unfinished frame in its framer (see `stranded`). */
const STRANDED = 32;

/** Bytes kept for a late subscriber while reading on after our own FIN. */
const DRAIN_LIMIT = 64 * 1024;
