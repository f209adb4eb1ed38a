// What a MemoryDatagramNetwork does to each datagram it carries: the test's script of loss, duplication and delay.
import type { Buffer } from 'buffer';
import { InvalidArgumentError } from '../errors';
import type { DatagramTarget } from '../types';
import { checkFraction, checkInteger, checkOptions } from '../util/validate';

/**
 * What the network does with one datagram:
 * - `'deliver'`: one copy, after the network's `latency`;
 * - `'drop'`: none (lost);
 * - `'duplicate'`: two copies, both after `latency` (the same frame);
 * - `{ delay }`: one copy after `delay` virtual ms instead of `latency`, or one copy per entry of a
 *   list (`{ delay: [1, 5] }`: a copy after 1 ms and a duplicate 4 ms later). Different delays are
 *   how datagrams are reordered.
 *
 * ```
 * latency 1    sent:      abc     a: 'deliver'   b: { delay: 3 }   c: 'deliver'
 *              arriving:  -a-cb   b overtaken by c
 * duplicate    sent:      a       a: 'duplicate'
 *              arriving:  -(aa)
 * ```
 *
 * @example
 * ```ts
 * import type { DatagramFate } from 'rxnet/testing';
 *
 * const late: DatagramFate = { delay: 10 };
 * const echoed: DatagramFate = { delay: [1, 2, 3] }; // three copies, a frame apart
 * ```
 */
export type DatagramFate =
  | 'deliver'
  | 'drop'
  | 'duplicate'
  /** Delivered after `delay` instead of the latency; one copy per entry of a list. */
  | {
      /** Virtual ms from the send to the arrival, instead of the latency; a list delivers one copy per entry. */
      readonly delay: number | readonly number[];
    };

/**
 * One datagram as the network carries it: what a {@link DatagramFaults} function is shown, and
 * what each entry of the network's `trace` names.
 *
 * @example
 * ```ts
 * import type { DatagramFaults, NetworkDatagram } from 'rxnet/testing';
 *
 * // Lose whatever goes to port 53.
 * const faults: DatagramFaults = (datagram: NetworkDatagram) => (datagram.to.port === 53 ? 'drop' : 'deliver');
 * ```
 */
export interface NetworkDatagram {
  /** Its place among the datagrams the network has carried, counting from 0. Refused sends take none. */
  readonly index: number;
  /** The payload (a copy taken at the send). */
  readonly data: Buffer;
  /** Bytes in `data`. */
  readonly size: number;
  /** The sender: the address its receiver is told (a wildcard bind shows as loopback), its family and port. */
  readonly from: {
    /** The sender's address. */
    readonly address: string;
    /** The sender's address family. */
    readonly family: 'IPv4' | 'IPv6';
    /** The sender's port. */
    readonly port: number;
  };
  /** Where it was sent. */
  readonly to: DatagramTarget;
  /** The scheduler's `now()` at the send (the frame, under `TestScheduler.run()`). */
  readonly sentAt: number;
}

/**
 * The test's script of what happens to each datagram, decided when it is sent:
 * - a function of the datagram and its index (counting from 0 across the network), returning its
 *   {@link DatagramFate}; it may keep state, and it may throw (the send then rejects with that error);
 * - or fates by index, every index not listed delivered: `{ 1: 'drop', 3: { delay: 5 } }`.
 *
 * ```
 * faults: { 1: 'drop', 2: { delay: 4 } }      latency 1
 * sent:      abcd
 * arriving:  -a--d-c     b lost, c overtaken by d
 * ```
 *
 * {@link randomFaults} makes a seeded random script for fuzz tests.
 *
 * @example
 * ```ts
 * import { MemoryDatagramNetwork, type DatagramFaults } from 'rxnet/testing';
 *
 * const everyThirdLost: DatagramFaults = (_datagram, index) => (index % 3 === 2 ? 'drop' : 'deliver');
 * const network = new MemoryDatagramNetwork({ faults: everyThirdLost });
 * network.faults = { 0: 'duplicate' }; // changeable at any time, for what is sent next
 * ```
 */
export type DatagramFaults =
  ((datagram: NetworkDatagram, index: number) => DatagramFate) | Readonly<Record<number, DatagramFate>>;

/**
 * Options of {@link randomFaults}: the seed and the share of datagrams lost, duplicated and delayed.
 *
 * @example
 * ```ts
 * import { randomFaults, type RandomFaultsOptions } from 'rxnet/testing';
 *
 * // A bad link: 10% lost, 2% duplicated, 20% held back up to 8 ms.
 * const badLink: RandomFaultsOptions = { seed: 42, loss: 0.1, duplicate: 0.02, reorder: 0.2, maxDelay: 8 };
 * const faults = randomFaults(badLink);
 * ```
 */
export interface RandomFaultsOptions {
  /** An integer in [0, 2³²): the same seed gives every index the same fate, run after run. */
  readonly seed: number;
  /** Share of datagrams dropped, in [0, 1] (default 0). */
  readonly loss?: number;
  /** Share of datagrams delivered twice, in [0, 1] (default 0). */
  readonly duplicate?: number;
  /** Share of datagrams delivered after a random delay in [0, `maxDelay`] instead of the latency (default 0). */
  readonly reorder?: number;
  /** The longest random delay, in virtual ms (an integer, default 10). */
  readonly maxDelay?: number;
}

/**
 * A seeded random {@link DatagramFaults} for fuzz tests: each index's fate is a pure function
 * of the seed and the index, so a failing run is replayed exactly by its seed, whatever the
 * order or timing of the sends.
 *
 * ```
 * randomFaults({ seed: 7, loss: 0.25 }), latency 1
 * sent:      abcdefgh
 * arriving:  --bcde-g     a, f and h lost, in every run
 * ```
 *
 * The shares are of all datagrams and add up to at most 1: `loss` first, then `duplicate`, then
 * `reorder`; the rest is delivered after the latency.
 *
 * @param options The seed and the shares; see {@link RandomFaultsOptions}.
 * @returns A fault function for the network's `faults`.
 * @throws InvalidArgumentError for a seed that is not an integer in [0, 2³²), a share outside
 * [0, 1], shares adding up to more than 1, or a `maxDelay` that is not an integer ≥ 0.
 * @example
 * ```ts
 * import { MemoryDatagramNetwork, randomFaults } from 'rxnet/testing';
 *
 * for (const seed of [1, 2, 3]) {
 *   const network = new MemoryDatagramNetwork({ faults: randomFaults({ seed, loss: 0.1, reorder: 0.3 }) });
 *   // ... run the protocol over network.bind(...), then check it recovered
 * }
 * ```
 */
export function randomFaults(options: RandomFaultsOptions): (datagram: NetworkDatagram, index: number) => DatagramFate {
  checkOptions(options);
  const seed = checkInteger('seed', options.seed, 0, 0xffffffff);
  const loss = checkFraction('loss', options.loss, 0);
  const duplicate = checkFraction('duplicate', options.duplicate, 0);
  const reorder = checkFraction('reorder', options.reorder, 0);
  const maxDelay = checkInteger('maxDelay', options.maxDelay ?? 10, 0);
  if (loss + duplicate + reorder > 1) {
    throw new InvalidArgumentError(
      'loss',
      `loss + duplicate + reorder must be at most 1, got ${loss + duplicate + reorder}`,
    );
  }
  return (_datagram, index) => {
    const u = uniform(seed, index, 0);
    if (u < loss) return 'drop';
    if (u < loss + duplicate) return 'duplicate';
    if (u < loss + duplicate + reorder) return { delay: Math.floor(uniform(seed, index, 1) * (maxDelay + 1)) };
    return 'deliver';
  };
}

/** A number in [0, 1) from the seed, the index and a salt (a 32-bit integer hash, murmur3's finaliser). */
function uniform(seed: number, index: number, salt: number): number {
  let h = (seed ^ Math.imul(index + 1, 0x9e3779b1) ^ Math.imul(salt + 1, 0x85ebca6b)) >>> 0;
  h = Math.imul(h ^ (h >>> 16), 0x85ebca6b);
  h = Math.imul(h ^ (h >>> 13), 0xc2b2ae35);
  h ^= h >>> 16;
  return (h >>> 0) / 0x100000000;
}

/**
 * Checks a `faults` option when it is given: a function, or an object whose keys are indices and
 * whose values are fates. @internal
 */
export function checkFaults(faults: unknown): DatagramFaults | undefined {
  if (faults === undefined || typeof faults === 'function') return faults as DatagramFaults | undefined;
  if (typeof faults !== 'object' || faults === null) {
    throw new InvalidArgumentError('faults', `expected a function or fates by index, got ${String(faults)}`);
  }
  for (const [key, fate] of Object.entries(faults)) {
    if (!/^(0|[1-9]\d*)$/.test(key)) throw new InvalidArgumentError('faults', `expected indices as keys, got ${key}`);
    checkFate(fate);
  }
  return faults as DatagramFaults;
}

/**
 * The delays of the copies that `faults` gives `datagram` ([] when it is dropped), `latency`
 * standing for the network's delay.
 * @throws what a fault function throws; InvalidArgumentError when it returns no fate.
 * @internal
 */
export function delaysOf(faults: DatagramFaults | undefined, datagram: NetworkDatagram, latency: number): number[] {
  let fate: unknown = 'deliver';
  if (typeof faults === 'function') fate = checkFate(faults(datagram, datagram.index));
  else if (faults !== undefined) fate = (faults as Record<number, DatagramFate>)[datagram.index] ?? 'deliver';
  if (fate === 'deliver') return [latency];
  if (fate === 'drop') return [];
  if (fate === 'duplicate') return [latency, latency];
  const { delay } = fate as { delay: number | readonly number[] };
  return typeof delay === 'number' ? [delay] : [...delay];
}

function checkFate(fate: unknown): DatagramFate {
  if (fate === 'deliver' || fate === 'drop' || fate === 'duplicate') return fate;
  const delay = typeof fate === 'object' && fate !== null ? (fate as { delay?: unknown }).delay : undefined;
  const delays = Array.isArray(delay) ? (delay as unknown[]) : [delay];
  if (delays.length === 0 || delays.some((d) => typeof d !== 'number' || !Number.isInteger(d) || d < 0)) {
    const shown = typeof fate === 'object' && fate !== null ? JSON.stringify(fate) : String(fate);
    throw new InvalidArgumentError(
      'faults',
      `expected 'deliver', 'drop', 'duplicate' or { delay } in whole ms >= 0 (a non-empty list for copies), got ${shown}`,
    );
  }
  return fate as DatagramFate;
}
