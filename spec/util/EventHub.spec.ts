// EventHub: multicasts to the subscribers present, ends once, replays its end to late subscribers.
import type { Subscription } from 'rxjs';
import { EventHub } from '../../lib/util/EventHub';

/** Records what one subscriber is told, as strings. */
function record<T>(hub: EventHub<T>): { log: string[]; subscription: Subscription } {
  const log: string[] = [];
  const subscription = hub.observable.subscribe({
    next: (v) => log.push(`next ${String(v)}`),
    error: (e) => log.push(`error ${(e as Error).message}`),
    complete: () => log.push('complete'),
  });
  return { log, subscription };
}

describe('EventHub', () => {
  it('hands each value to the subscribers present, in the order they came, and none to later ones', () => {
    const hub = new EventHub<number>();
    hub.next(0); // nobody listens: dropped
    const a = record(hub);
    hub.next(1);
    const b = record(hub);
    hub.next(2);
    expect(a.log).toEqual(['next 1', 'next 2']);
    expect(b.log).toEqual(['next 2']);
  });

  it('tells whether anyone is subscribed, and forgets a subscriber that unsubscribed', () => {
    const hub = new EventHub<number>();
    expect(hub.observed).toBe(false);
    const a = record(hub);
    const b = record(hub);
    expect(hub.observed).toBe(true);
    a.subscription.unsubscribe();
    hub.next(1);
    expect(a.log).toEqual([]);
    expect(b.log).toEqual(['next 1']);
    b.subscription.unsubscribe();
    expect(hub.observed).toBe(false);
  });

  it('lets a subscriber leave while a value is handed out without the others missing it', () => {
    const hub = new EventHub<number>();
    const seen: string[] = [];
    const first: Subscription = hub.observable.subscribe((v) => {
      seen.push(`first ${v}`);
      first.unsubscribe();
    });
    hub.observable.subscribe((v) => seen.push(`second ${v}`));
    hub.next(1);
    hub.next(2);
    expect(seen).toEqual(['first 1', 'second 1', 'second 2']);
  });

  it('completes once, replays the completion to late subscribers, and ignores what comes after', () => {
    const hub = new EventHub<number>();
    const early = record(hub);
    hub.complete();
    hub.complete();
    hub.error(new Error('late'));
    hub.next(1);
    expect(early.log).toEqual(['complete']);
    expect(record(hub).log).toEqual(['complete']);
    expect(hub.observed).toBe(false);
  });

  it('errors once and replays the same error to late subscribers', () => {
    const hub = new EventHub<number>();
    const early = record(hub);
    hub.error(new Error('reset'));
    hub.complete();
    expect(early.log).toEqual(['error reset']);
    expect(record(hub).log).toEqual(['error reset']);
  });
});
