// Deadlines: many timeouts on one scheduled action, in virtual time: order, cancellation, durations mixed, one timer.
import { asyncScheduler } from 'rxjs';
import { TestScheduler } from 'rxjs/testing';
import type { SchedulerLike } from 'rxjs';
import { Deadlines } from '../../lib/util/Deadlines';
import { virtual } from '../support/memory';

/** asyncScheduler, counting the actions scheduled through it. */
function counting(): { scheduler: SchedulerLike; scheduled: () => number } {
  let count = 0;
  const scheduler: SchedulerLike = {
    now: () => asyncScheduler.now(),
    schedule: ((work: never, delay?: number, state?: never) => {
      count++;
      return asyncScheduler.schedule(work, delay, state);
    }) as SchedulerLike['schedule'],
  };
  return { scheduler, scheduled: () => count };
}

describe('Deadlines', () => {
  it('expires each item at its time, in order, and never a cancelled one', () => {
    virtual((at) => {
      const expired: [number, string][] = [];
      const deadlines = new Deadlines<string>(asyncScheduler, (item) => expired.push([asyncScheduler.now(), item]));
      deadlines.add('a', 10);
      const b = deadlines.add('b', 10);
      at(3, () => deadlines.add('c', 10));
      at(4, () => deadlines.add('short', 2));
      at(5, () => deadlines.add('long', 100));
      at(6, () => b.unsubscribe());
      at(200, () =>
        expect(expired).toEqual([
          [6, 'short'],
          [10, 'a'],
          [13, 'c'],
          [105, 'long'],
        ]),
      );
    });
  });

  it('keeps one timer for thousands of items of one duration', () => {
    virtual((at) => {
      const { scheduler, scheduled } = counting();
      let expired = 0;
      const deadlines = new Deadlines<number>(scheduler, () => expired++);
      const handles = Array.from({ length: 5000 }, (_, i) => deadlines.add(i, 1000));
      handles.slice(0, 4000).forEach((handle) => handle.unsubscribe()); // answered in time
      at(2000, () => {
        expect(expired).toBe(1000);
        expect(scheduled()).toBeLessThanOrEqual(3);
      });
    });
  });

  it('lets an expiry add a deadline, and clear() forgets them all', () => {
    virtual((at) => {
      const expired: [number, string][] = [];
      const deadlines: Deadlines<string> = new Deadlines<string>(asyncScheduler, (item) => {
        expired.push([asyncScheduler.now(), item]);
        if (item === 'first') deadlines.add('again', 5);
      });
      deadlines.add('first', 5);
      at(20, () => {
        expect(expired).toEqual([
          [5, 'first'],
          [10, 'again'],
        ]);
        deadlines.add('never', 5);
        deadlines.clear();
      });
      at(40, () => expect(expired).toHaveLength(2));
    });
  });

  it('stops its timer once no deadline is left, so an idle owner keeps no process alive', () => {
    const scheduler = new TestScheduler((a, b) => expect(a).toEqual(b));
    scheduler.run(() => {
      const deadlines = new Deadlines<string>(scheduler, () => undefined);
      const handles = ['a', 'b'].map((item) => deadlines.add(item, 1000));
      expect(scheduler.actions.length).toBe(1);
      handles.forEach((handle) => handle.unsubscribe());
      expect(scheduler.actions.length).toBe(0);
    });
  });
});
