// TrafficShaper and the budgets behind shapeTraffic: default bursts, argument checks, spending into debt and the waits.
import { asyncScheduler } from 'rxjs';
import type { SchedulerLike } from 'rxjs';
import { InvalidArgumentError } from '../../lib/errors';
import { shapeTraffic } from '../../lib/shaping/shapeTraffic';
import { TokenBucket } from '../../lib/shaping/TokenBucket';
import { Budget, MIN_DEFAULT_BURST, TrafficShaper, defaultBurst } from '../../lib/shaping/TrafficShaper';
import { connectionPair, createTestScheduler } from '../../lib/testing';

const marbles = () => createTestScheduler({ assertDeepEqual: (actual, expected) => expect(actual).toEqual(expected) });

describe('TrafficShaper', () => {
  it('keeps the limits it was given, and none for a direction left out', () => {
    const shaper = new TrafficShaper({ readLimit: 2_500_000 });
    expect([shaper.readLimit, shaper.writeLimit]).toEqual([2_500_000, undefined]);
    expect(shaper.readBucket?.burst).toBe(250_000);
    expect(shaper.writeBucket).toBeUndefined();
    expect(shaper.scheduler).toBe(asyncScheduler);
  });

  it('defaults the burst to a tenth of a second of the limit, at least 16 KiB', () => {
    expect(MIN_DEFAULT_BURST).toBe(16384);
    expect(defaultBurst(1_000_000)).toBe(100_000);
    expect(defaultBurst(1_000_001)).toBe(100_001);
    expect(defaultBurst(1000)).toBe(16384);
    expect(new TrafficShaper({ writeLimit: 1000, burst: 10 }).writeBucket?.burst).toBe(10);
  });

  it('lets a default burst through at once after a quiet spell, and the next byte wait', () => {
    marbles().run(({ expectObservable }) => {
      const shared = new TrafficShaper({ writeLimit: 16_384 }); // 16 KiB/s, burst 16 KiB
      const [client, server] = connectionPair({ highWaterMark: 65_536 });
      const shaped = shapeTraffic(client, { shared });
      asyncScheduler.schedule(() => {
        expect(shaped.write(Buffer.alloc(16_384))).toBe(true);
        expect(shaped.write('x')).toBe(false);
      }, 1);
      // 1 byte at 16 KiB/s: 1000/16384 ms, rounded up.
      expectObservable(server.data$).toBe('-a b', { a: '\0'.repeat(16_384), b: 'x' });
    });
  });

  it('rejects bad limits when it is made, naming the option', () => {
    const bad: [string, () => unknown][] = [
      ['config', () => new TrafficShaper(undefined as unknown as object)],
      ['readLimit', () => new TrafficShaper({ readLimit: 0 })],
      ['readLimit', () => new TrafficShaper({ readLimit: Infinity })],
      ['writeLimit', () => new TrafficShaper({ writeLimit: -1 })],
      ['writeLimit', () => new TrafficShaper({ writeLimit: null as unknown as number })],
      ['burst', () => new TrafficShaper({ writeLimit: 1, burst: 0 })],
      ['burst', () => new TrafficShaper({ writeLimit: 1, burst: 2.5 })],
      ['scheduler', () => new TrafficShaper({ scheduler: { now: () => 0 } as SchedulerLike })],
      ['scheduler', () => new TrafficShaper({ scheduler: 'async' as unknown as SchedulerLike })],
    ];
    for (const [argument, make] of bad) {
      expect(make).toThrow(expect.objectContaining({ name: 'InvalidArgumentError', argument }));
    }
    expect(() => new TrafficShaper({ burst: 0 })).toThrow(InvalidArgumentError);
    expect(() => new TrafficShaper({ writeLimit: -1 })).toThrow('invalid writeLimit: expected bytes per second');
  });
});

describe('Budget', () => {
  it('spends from its own bucket and the shared one, and waits for the deeper debt', () => {
    const own = new TokenBucket(100, 1000, 0);
    const shared = new TokenBucket(50, 100, 0);
    const budget = new Budget(own, shared);
    expect(budget.piece).toBe(50);
    expect(budget.spend(0, 40)).toBe(0);
    expect(budget.spend(0, 40)).toBe(300); // shared: 30 in debt at 100 B/s
    expect(budget.debt(0)).toBe(30);
    expect(budget.wait(150)).toBe(150);
    expect(budget.wait(300)).toBe(0);
  });

  it('takes only what both buckets have', () => {
    const budget = new Budget(new TokenBucket(100, 1000, 0), new TokenBucket(50, 1000, 0));
    expect(budget.take(0, 60)).toBe(false);
    expect(budget.take(0, 50)).toBe(true);
    expect(budget.take(0, 1)).toBe(false);
    expect(budget.take(1, 1)).toBe(true);
    expect(budget.debt(1)).toBe(0);
  });

  it('works with either bucket alone', () => {
    expect(new Budget(undefined, new TokenBucket(10, 10, 0)).spend(0, 20)).toBe(1000);
    expect(new Budget(new TokenBucket(10, 10, 0), undefined).spend(0, 20)).toBe(1000);
  });
});
