// TokenBucket: refill from the clock passed in, takes and debts, the delay it reports.
import { TokenBucket } from '../../lib/shaping/TokenBucket';
import { InvalidArgumentError } from '../../lib/errors';

describe('TokenBucket', () => {
  it('starts full, takes what is there and refuses more', () => {
    const bucket = new TokenBucket(2, 1, 0);
    expect(bucket.take(0)).toBe(true);
    expect(bucket.take(0)).toBe(true);
    expect(bucket.take(0)).toBe(false);
    expect(bucket.delay(0)).toBe(1000);
    expect(bucket.take(999)).toBe(false);
    expect(bucket.take(1000)).toBe(true);
  });

  it('refills at its rate and never above its burst', () => {
    const bucket = new TokenBucket(5, 10, 0);
    for (let i = 0; i < 5; i++) expect(bucket.take(0)).toBe(true);
    expect(bucket.available(250)).toBeCloseTo(2.5);
    expect(bucket.full(10_000)).toBe(true);
    expect(bucket.available(20_000)).toBe(5);
  });

  it('runs into debt with spend, and delay reports when it is paid', () => {
    const bucket = new TokenBucket(1000, 1000, 0);
    bucket.spend(0, 3000);
    expect(bucket.available(0)).toBe(-2000);
    expect(bucket.delay(0, 1)).toBe(2001);
    expect(bucket.delay(0, 5000)).toBe(3000); // over the burst: until full
    expect(bucket.take(2000, 1)).toBe(false);
    expect(bucket.take(2001, 1)).toBe(true);
  });

  it('ignores a clock that goes back', () => {
    const bucket = new TokenBucket(1, 1, 1000);
    expect(bucket.take(1000)).toBe(true);
    expect(bucket.take(500)).toBe(false);
    expect(bucket.take(2000)).toBe(true);
  });

  it('throws InvalidArgumentError for a bad burst or rate', () => {
    expect(() => new TokenBucket(0, 1, 0)).toThrow(InvalidArgumentError);
    expect(() => new TokenBucket(1.5, 1, 0)).toThrow(InvalidArgumentError);
    expect(() => new TokenBucket(1, 0, 0)).toThrow(InvalidArgumentError);
    expect(() => new TokenBucket(1, Infinity, 0)).toThrow(InvalidArgumentError);
    expect(() => new TokenBucket(1, NaN, 0)).toThrow(InvalidArgumentError);
  });
});
