// Decides when a connection reads: only while someone listens and nobody holds it back.
import type { Subscriber } from 'rxjs';

/**
 * The read side of a connection, shared by the socket and the in-memory connections.
 *
 * Chunks go to the current `data$` subscribers. Reading is switched on (via `setFlowing`) only
 * while there is at least one subscriber and no hold (user `pause()`, a sink waiting for drain).
 * A chunk that arrives while nobody listens is kept and given to the next subscriber, and the end
 * of the stream (FIN or error) is replayed to late subscribers, so no byte is lost between accept
 * and the first subscription, nor between two subscriptions.
 */
export class ReadGate {
  private readonly subscribers: Subscriber<Buffer>[] = [];
  private pending: Buffer[] = [];
  private pendingBytes = 0;
  private draining = false;
  private userHold: (() => void) | undefined = undefined;
  private holds = 0;
  private flowing = false;
  private done = false;
  private error: Error | undefined = undefined;
  private hasError = false;

  constructor(private readonly setFlowing: (flowing: boolean) => void) {}

  /** Called for each chunk read from the peer. */
  push(chunk: Buffer): void {
    const subs = this.subscribers;
    if (subs.length === 1) {
      subs[0].next(chunk);
    } else if (subs.length === 0) {
      this.pending.push(chunk);
      this.pendingBytes += chunk.length;
      if (this.draining && this.pendingBytes >= DRAIN_LIMIT) this.update();
    } else {
      for (const s of subs.slice()) s.next(chunk);
    }
  }

  /** The peer sent FIN: subscribers complete; later subscribers complete at once. */
  end(): void {
    if (this.done) return;
    this.done = true;
    this.update();
    for (const s of this.subscribers.splice(0)) s.complete();
  }

  /** The connection failed: subscribers error; later subscribers error at once. */
  fail(error: Error): void {
    if (this.done) return;
    this.done = true;
    this.hasError = true;
    this.error = error;
    this.update();
    for (const s of this.subscribers.splice(0)) s.error(error);
  }

  /** Adds a `data$` subscriber; returns its teardown. */
  subscribe(subscriber: Subscriber<Buffer>): () => void {
    if (this.pending.length > 0) {
      const held = this.pending;
      this.pending = [];
      this.pendingBytes = 0;
      for (let i = 0; i < held.length; i++) {
        subscriber.next(held[i]);
        if (subscriber.closed) {
          // The subscriber left while replaying: keep the rest for the next one.
          this.pending = held.slice(i + 1);
          for (const rest of this.pending) this.pendingBytes += rest.length;
          return noop;
        }
      }
    }
    if (this.done) {
      if (this.hasError) subscriber.error(this.error);
      else subscriber.complete();
      return noop;
    }
    this.subscribers.push(subscriber);
    this.update();
    return () => {
      const i = this.subscribers.indexOf(subscriber);
      if (i >= 0) {
        this.subscribers.splice(i, 1);
        this.update();
      }
    };
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
    if (!this.userHold) this.userHold = this.hold();
  }

  /** Undoes `pauseByUser()`; other holds stay. */
  resumeByUser(): void {
    const release = this.userHold;
    this.userHold = undefined;
    if (release) release();
  }

  /**
   * Our write side has finished: from now on read even with no subscriber (keeping what arrives,
   * up to DRAIN_LIMIT bytes, for a late subscriber) so the peer's FIN is seen and the socket can
   * close, as a plain `net` socket would.
   */
  drainWhenUnobserved(): void {
    this.draining = true;
    this.update();
  }

  get held(): boolean {
    return this.holds > 0;
  }

  private update(): void {
    const flowing =
      !this.done &&
      this.holds === 0 &&
      (this.subscribers.length > 0 || (this.draining && this.pendingBytes < DRAIN_LIMIT));
    if (flowing !== this.flowing) {
      this.flowing = flowing;
      this.setFlowing(flowing);
    }
  }
}

function noop(): void {}

/** Bytes kept for a late subscriber while reading on after our own FIN. */
const DRAIN_LIMIT = 64 * 1024;
