// What goes over the wire in each workload: the repeating byte pattern the load generator sends, and the replies it expects.

/** How messages are framed on the wire. */
export type Framing = 'bulk' | 'lines' | 'length' | 'ndjson';

/** Number of distinct messages in a pattern: prime, so the pattern never lines up with batches. */
const DISTINCT = 61;

/**
 * The bytes of a run: message `i` is `doubled[(i % count) * size, +size)`, and `doubled` holds the
 * pattern twice so any run of up to `count` consecutive messages is one contiguous view (the load
 * generator writes a batch with one `write()` and no copy, and verifies with one `compare()`).
 * The reply to message `i` is `replyDoubled[(i % count) * replySize, +replySize)`, laid out alike.
 *
 * - `lines`: `size - 1` printable ASCII bytes then `\n` (never `\r` or `\n` inside, and valid UTF-8,
 *   so a string round trip is exact);
 * - `length`: `[uint32 BE size - 4][size - 4 bytes]`;
 * - `bulk`: arbitrary bytes, `size` per write;
 * - `ndjson`: a compact JSON object per line, `size` bytes with its `\n`, `"op":"ping"` in it; the
 *   reply is the same object with `"op":"pong"`, as `JSON.stringify` writes it (same key order, no
 *   whitespace), so `replySize === size`.
 *
 * For every framing but `ndjson` the reply is the request (`replyDoubled === doubled`).
 */
export interface Pattern {
  readonly framing: Framing;
  readonly size: number;
  readonly count: number;
  /** `count * size`. */
  readonly period: number;
  readonly doubled: Buffer;
  /** Bytes of one reply. */
  readonly replySize: number;
  /** `count * replySize`. */
  readonly replyPeriod: number;
  /** The replies, twice. */
  readonly replyDoubled: Buffer;
}

export function makePattern(framing: Framing, size: number): Pattern {
  if (framing === 'ndjson') return ndjsonPattern(size);
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
  return { framing, size, count, period, doubled, replySize: size, replyPeriod: period, replyDoubled: doubled };
}

/** Characters of the ndjson pad: none needs escaping in JSON. */
const PAD_CHARS = 'abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789';

/** A request of the ndjson workload, as the load generator sends it. */
export interface NdjsonRequest {
  id: number;
  op: string;
  user: string;
  tags: string[];
  pad: string;
}

/**
 * Message `m` of the ndjson pattern as a string of exactly `size` bytes, `\n` included: ids, users
 * and pad characters differ from message to message; the pad's length makes up the size.
 */
export function ndjsonRequest(m: number, size: number): string {
  const request: NdjsonRequest = {
    id: 100 + m * 13,
    op: 'ping',
    user: `u${(m * 17) % 100}`,
    tags: ['a', 'b'],
    pad: '',
  };
  const padLength = size - (JSON.stringify(request).length + 1);
  if (padLength < 0) throw new RangeError(`ndjson messages need at least ${size - padLength} bytes`);
  let pad = '';
  for (let k = 0; k < padLength; k++) pad += PAD_CHARS[(m * 7 + k) % PAD_CHARS.length];
  request.pad = pad;
  return JSON.stringify(request) + '\n';
}

function ndjsonPattern(size: number): Pattern {
  const count = DISTINCT;
  const period = count * size;
  const doubled = Buffer.allocUnsafe(period * 2);
  const replyDoubled = Buffer.allocUnsafe(period * 2);
  for (let m = 0; m < count; m++) {
    const request = ndjsonRequest(m, size);
    const reply = JSON.stringify({ ...(JSON.parse(request) as NdjsonRequest), op: 'pong' }) + '\n';
    // ASCII only, so characters are bytes.
    if (request.length !== size || reply.length !== size) throw new Error(`ndjson message ${m} is not ${size} bytes`);
    doubled.write(request, m * size, 'latin1');
    replyDoubled.write(reply, m * size, 'latin1');
  }
  doubled.copy(doubled, period, 0, period);
  replyDoubled.copy(replyDoubled, period, 0, period);
  return { framing: 'ndjson', size, count, period, doubled, replySize: size, replyPeriod: period, replyDoubled };
}

/** Largest frame any bench server accepts (lines `maxLength`, lengthField `maxFrameLength`). */
export const MAX_FRAME = 64 * 1024;
