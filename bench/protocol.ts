// What goes over the wire in each workload: the repeating byte pattern the load generator sends and verifies.

/** How messages are framed on the wire. */
export type Framing = 'bulk' | 'lines' | 'length';

/** Number of distinct messages in a pattern: prime, so the pattern never lines up with batches. */
const DISTINCT = 61;

/**
 * The bytes of a run: message `i` is `pattern[(i % count) * size, +size)`, and `doubled` holds the
 * pattern twice so any run of up to `count` consecutive messages is one contiguous view (the load
 * generator writes a batch with one `write()` and no copy, and verifies with one `compare()`).
 *
 * - `lines`: `size - 1` printable ASCII bytes then `\n` (never `\r` or `\n` inside, and valid UTF-8,
 *   so split2's string round trip is exact);
 * - `length`: `[uint32 BE size - 4][size - 4 bytes]`;
 * - `bulk`: arbitrary bytes, `size` per write.
 */
export interface Pattern {
  readonly framing: Framing;
  readonly size: number;
  readonly count: number;
  /** `count * size`. */
  readonly period: number;
  readonly doubled: Buffer;
}

export function makePattern(framing: Framing, size: number): Pattern {
  if (framing === 'length' && size < 5) throw new RangeError('length frames need at least 5 bytes');
  if (framing === 'lines' && size < 2) throw new RangeError('lines need at least 2 bytes');
  // Bulk messages are large: a few suffice to catch reordering.
  const count = framing === 'bulk' ? 3 : DISTINCT;
  const period = count * size;
  const doubled = Buffer.allocUnsafe(period * 2);
  for (let m = 0; m < count; m++) {
    const base = m * size;
    for (let k = 0; k < size; k++) {
      const v = (m * 131 + k * 7 + (k >> 8) * 3) & 0xff;
      doubled[base + k] = framing === 'lines' ? 0x21 + (v % 94) : v;
    }
    if (framing === 'lines') doubled[base + size - 1] = 0x0a;
    if (framing === 'length') doubled.writeUInt32BE(size - 4, base);
  }
  doubled.copy(doubled, period, 0, period);
  return { framing, size, count, period, doubled };
}

/** Largest frame any bench server accepts (lines `maxLength`, lengthField `maxFrameLength`). */
export const MAX_FRAME = 64 * 1024;
