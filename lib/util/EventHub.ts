// A tiny multicast of events that ends once and replays its end to late subscribers.
import { Observable, Subscriber } from 'rxjs';

/** Multicasts values to the subscribers present; after it ended, new subscribers get the end at once. */
export class EventHub<T> {
  private readonly subscribers: Subscriber<T>[] = [];
  private done = false;
  private failed = false;
  private failure: unknown = undefined;
  readonly observable: Observable<T>;

  constructor() {
    this.observable = new Observable<T>((subscriber) => {
      if (this.done) {
        if (this.failed) subscriber.error(this.failure);
        else subscriber.complete();
        return;
      }
      this.subscribers.push(subscriber);
      return () => {
        const i = this.subscribers.indexOf(subscriber);
        if (i >= 0) this.subscribers.splice(i, 1);
      };
    });
  }

  get observed(): boolean {
    return this.subscribers.length > 0;
  }

  next(value: T): void {
    const subs = this.subscribers;
    if (subs.length === 1) subs[0].next(value);
    else if (subs.length > 1) for (const s of subs.slice()) s.next(value);
  }

  error(error: unknown): void {
    if (this.done) return;
    this.done = true;
    this.failed = true;
    this.failure = error;
    for (const s of this.subscribers.splice(0)) s.error(error);
  }

  complete(): void {
    if (this.done) return;
    this.done = true;
    for (const s of this.subscribers.splice(0)) s.complete();
  }
}
