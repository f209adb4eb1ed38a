// SourceRateLimit: a bucket per sender address on the clock passed in, full buckets swept, at most maxSources held.
import { SourceRateLimit } from '../../lib/udp/SourceRateLimit';

describe('SourceRateLimit', () => {
  it('allows a burst per address, then refills at its rate', () => {
    const limit = new SourceRateLimit(2, 1, 100);
    expect([0, 0, 0].map((t) => limit.allow('10.0.0.1', t))).toEqual([true, true, false]);
    // Another address has a bucket of its own.
    expect(limit.allow('10.0.0.2', 0)).toBe(true);
    expect(limit.allow('10.0.0.1', 999)).toBe(false);
    expect(limit.allow('10.0.0.1', 1000)).toBe(true);
    expect(limit.allow('10.0.0.1', 1000)).toBe(false);
  });

  it('sweeps buckets that filled up again every 1024 new addresses', () => {
    const limit = new SourceRateLimit(1, 1, 1_000_000);
    for (let i = 0; i < 1023; i++) limit.allow(`10.0.${i >> 8}.${i & 255}`, 0);
    expect(limit.sources).toBe(1023);
    // One second on, every bucket is full again: the 1024th new address sweeps them all.
    expect(limit.allow('10.9.9.9', 1000)).toBe(true);
    expect(limit.sources).toBe(1);
  });

  it('keeps the buckets still in debt when it sweeps', () => {
    const limit = new SourceRateLimit(1, 1, 1_000_000);
    limit.allow('10.0.0.1', 0);
    for (let i = 0; i < 1022; i++) limit.allow(`10.1.${i >> 8}.${i & 255}`, 0);
    // At 500 ms no bucket is full: the sweep forgets none.
    limit.allow('10.9.9.9', 500);
    expect(limit.sources).toBe(1024);
    expect(limit.allow('10.0.0.1', 500)).toBe(false);
  });

  it('holds at most maxSources addresses, forgetting the one heard from least recently, which starts again with a full burst', () => {
    const limit = new SourceRateLimit(1, 1, 3);
    for (const source of ['a', 'b', 'c']) expect(limit.allow(source, 0)).toBe(true);
    // 'a' is heard again (and refused): now 'b' is the one heard from least recently.
    expect(limit.allow('a', 0)).toBe(false);
    expect(limit.allow('d', 0)).toBe(true);
    expect(limit.sources).toBe(3);
    // 'b' was forgotten, so allowed again at once; 'a', busy, was kept in debt.
    expect(limit.allow('b', 0)).toBe(true);
    expect(limit.sources).toBe(3);
    // 'c', least recent then, made room for 'b'; 'a' and 'd' are still held, in debt.
    expect(limit.allow('a', 0)).toBe(false);
    expect(limit.allow('d', 0)).toBe(false);
    expect(limit.allow('c', 0)).toBe(true);
  });

  it('keeps a busy source that keeps sending, however many others come and go', () => {
    const limit = new SourceRateLimit(1, 0.001, 2);
    expect(limit.allow('busy', 0)).toBe(true);
    for (let i = 0; i < 100; i++) {
      expect(limit.allow(`passer-by ${i}`, 0)).toBe(true);
      // Heard between every two newcomers: never the least recent, never forgotten, so never a fresh burst.
      expect(limit.allow('busy', 0)).toBe(false);
    }
  });
});
