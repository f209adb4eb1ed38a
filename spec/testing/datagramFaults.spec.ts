// The fault script of a MemoryDatagramNetwork: fates to delays, fates by index or by function, seeded random faults.
import { InvalidArgumentError } from '../../lib/errors';
import { checkFaults, delaysOf, randomFaults } from '../../lib/testing/datagramFaults';
import type { DatagramFate, NetworkDatagram } from '../../lib/testing/datagramFaults';

/** A datagram as the network shows it, with the index given. */
const datagram = (index: number): NetworkDatagram => ({
  index,
  data: Buffer.from('x'),
  size: 1,
  from: { address: '127.0.0.1', family: 'IPv4', port: 49152 },
  to: { address: '127.0.0.1', port: 7 },
  sentAt: 0,
});

/** The fates of indices 0 to n - 1 under a fault function. */
const fates = (faults: (d: NetworkDatagram, i: number) => DatagramFate, n: number, from = 0) =>
  Array.from({ length: n }, (_, i) => faults(datagram(from + i), from + i));

describe('delaysOf', () => {
  it('turns each fate into the delays of its copies, the latency standing for the network', () => {
    const by = (fate: DatagramFate) => delaysOf(() => fate, datagram(0), 2);
    expect(by('deliver')).toEqual([2]);
    expect(by('drop')).toEqual([]);
    expect(by('duplicate')).toEqual([2, 2]);
    expect(by({ delay: 0 })).toEqual([0]);
    expect(by({ delay: [5, 1] })).toEqual([5, 1]);
  });

  it('delivers after the latency with no script, and every index a record does not list', () => {
    expect(delaysOf(undefined, datagram(3), 1)).toEqual([1]);
    expect(delaysOf({ 3: 'drop' }, datagram(3), 1)).toEqual([]);
    expect(delaysOf({ 3: 'drop' }, datagram(4), 1)).toEqual([1]);
  });

  it('refuses what a function returns when it is not a fate', () => {
    for (const bad of ['lose', undefined, { delay: -1 }, { delay: 1.5 }, { delay: [] }, { delay: [1, '2'] }]) {
      expect(() => delaysOf(() => bad as never, datagram(0), 1)).toThrow(InvalidArgumentError);
    }
  });
});

describe('checkFaults', () => {
  it('takes undefined, a function, or fates by index, and refuses the rest', () => {
    const f = () => 'deliver' as const;
    expect(checkFaults(undefined)).toBeUndefined();
    expect(checkFaults(f)).toBe(f);
    expect(checkFaults({ 0: 'drop', 12: { delay: [1, 2] } })).toEqual({ 0: 'drop', 12: { delay: [1, 2] } });
    for (const bad of [null, 'drop', 3, { '-1': 'drop' }, { '01': 'drop' }, { 1.5: 'drop' }, { 0: 'lost' }]) {
      expect(() => checkFaults(bad)).toThrow(InvalidArgumentError);
    }
  });
});

describe('randomFaults', () => {
  it('gives every index the same fate for the same seed, whatever the order of the questions', () => {
    const options = { seed: 42, loss: 0.2, duplicate: 0.1, reorder: 0.3, maxDelay: 6 };
    const forwards = fates(randomFaults(options), 200);
    const again = randomFaults(options);
    const backwards = Array.from({ length: 200 }, (_, i) => again(datagram(199 - i), 199 - i));
    expect(backwards.reverse()).toEqual(forwards);
    expect(fates(randomFaults(options), 200)).toEqual(forwards);
    expect(fates(randomFaults({ ...options, seed: 43 }), 200)).not.toEqual(forwards);
  });

  it('loses, duplicates and delays about the shares asked, delays within [0, maxDelay]', () => {
    const all = fates(randomFaults({ seed: 1, loss: 0.1, duplicate: 0.05, reorder: 0.2, maxDelay: 4 }), 20_000);
    const share = (test: (f: DatagramFate) => boolean) => all.filter(test).length / all.length;
    expect(share((f) => f === 'drop')).toBeCloseTo(0.1, 1);
    expect(share((f) => f === 'duplicate')).toBeCloseTo(0.05, 1);
    expect(share((f) => typeof f === 'object')).toBeCloseTo(0.2, 1);
    const delays = new Set(all.flatMap((f) => (typeof f === 'object' ? [f.delay] : [])));
    expect([...delays].sort()).toEqual([0, 1, 2, 3, 4]);
  });

  it('delivers everything when no share is given, and loses everything at loss 1', () => {
    expect(new Set(fates(randomFaults({ seed: 9 }), 500))).toEqual(new Set(['deliver']));
    expect(new Set(fates(randomFaults({ seed: 9, loss: 1 }), 500))).toEqual(new Set(['drop']));
  });

  it('gives the fates its TSDoc shows for seed 7 at loss 0.25', () => {
    expect(fates(randomFaults({ seed: 7, loss: 0.25 }), 8).map((f) => f === 'drop')).toEqual([
      true,
      false,
      false,
      false,
      false,
      true,
      false,
      true,
    ]);
  });

  it('checks its options when called', () => {
    for (const bad of [
      { seed: -1 },
      { seed: 2 ** 32 },
      { seed: 1.5 },
      { seed: 1, loss: 1.5 },
      { seed: 1, reorder: -0.1 },
      { seed: 1, loss: 0.6, duplicate: 0.5 },
      { seed: 1, maxDelay: -1 },
    ]) {
      expect(() => randomFaults(bad as never)).toThrow(InvalidArgumentError);
    }
    expect(() => randomFaults(undefined as never)).toThrow(InvalidArgumentError);
  });
});
