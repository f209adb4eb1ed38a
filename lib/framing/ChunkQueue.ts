// The byte queue every framer reads from: chunks consumed as views, small chunks merged so that memory follows the bytes.

import { Buffer } from 'buffer';
import { FrameCut } from '../util/FrameCut';

const EMPTY = Buffer.alloc(0);
const NO_MEMORY = EMPTY.buffer;

/**
 * A chunk shorter than this that arrives while bytes are held is copied into the accumulator
 * rather than held as it is. A held Buffer costs some 200 bytes of objects (JS heap and native)
 * whatever its length, so holding chunks of 1 KiB and more costs at most a fifth on top of their
 * bytes; a full-size Ethernet segment (1460 bytes) and larger reads keep the zero-copy path, and
 * copying less than 1 KiB costs less than holding it.
 */
export const MERGE_BELOW = 1024;

/** The smallest accumulator allocated: a few dripped bytes do not reserve more than this. */
const MIN_ACCUMULATOR = 256;

/** Settings of a {@link ChunkQueue}. */
export interface ChunkQueueOptions {
  /**
   * The most bytes the framer lets pile up before it reads a frame or fails (its limit):
   * accumulators grow no larger than this plus one merge, so that a frame dripped in tiny chunks
   * costs at most about twice its limit while it is assembled. Default `Infinity` (no cap).
   */
  readonly maxHeld?: number;
  /** Hand out every frame as its own copy instead of a view of the chunk. Default false. */
  readonly copy?: boolean;
}

/** The bytes of `chunk` from `start` to `end`, copied into memory of their own (small ones from Node's shared pool). */
function copyOf(chunk: Buffer, start: number, end: number): Buffer {
  const out = Buffer.allocUnsafe(end - start);
  chunk.copy(out, 0, start, end);
  return out;
}

/**
 * A FIFO of received chunks addressed as one run of bytes.
 *
 * Positions are relative to the read position (the first unconsumed byte). `consume(n)` returns
 * a view into a chunk when the `n` bytes lie inside it and copies once, into a fresh buffer,
 * only when they span chunks; nothing ever concatenates everything that is held.
 *
 * A chunk pushed into an empty queue, or of {@link MERGE_BELOW} bytes or more, is held as it is.
 * A smaller one pushed behind other bytes is copied into an accumulator, a buffer that grows by
 * doubling (capped by `maxHeld`), together with the few bytes left of the last chunk: however a
 * frame is cut up on the wire, the queue holds a bounded number of Buffers and about its bytes.
 * Bytes of an accumulator are written once and never moved or overwritten, since views of them
 * may have been handed out: when it is full, a fresh one takes the bytes still held.
 *
 * A returned view keeps its whole chunk (or accumulator) alive; copy it (`Buffer.from(view)`), or
 * create the queue with `copy`, before holding it for long if memory matters.
 */
export class ChunkQueue {
  /**
   * The chunks held are `chunks[first]` to `chunks[end - 1]`; slots outside hold an empty buffer.
   * The array keeps its room when the queue empties, so a queue that is filled and drained once
   * per chunk read allocates nothing for it.
   */
  private chunks: Buffer[] = [];
  /** Index in `chunks` of the head chunk; entries before it are spent. */
  private first = 0;
  /** One past the index of the last chunk held. */
  private end = 0;
  /** Bytes already consumed from the head chunk. */
  private offset = 0;
  private total = 0;
  /** The chunk {@link view} cut from last, its memory and its offset there. */
  private viewed: Buffer | undefined = undefined;
  private viewedMemory: ArrayBufferLike = NO_MEMORY;
  private viewedOffset = 0;
  /** Start position of the chunk `locate()` found last (a second return value, without allocating). */
  private located = 0;
  /** Hand out copies, not views. */
  private readonly copy: boolean;
  /** Where the view handed out last lies in its chunk (copies are not recorded). */
  readonly cut = new FrameCut();
  /** No accumulator is allocated larger than this (unless one merge needs more). */
  private readonly accumulatorCap: number;
  /**
   * The accumulator small chunks are copied into, its memory and its offset there. Bytes before
   * `accUsed` are never written again; it is let go when the queue empties.
   */
  private acc: Buffer = EMPTY;
  private accMemory: ArrayBufferLike = NO_MEMORY;
  private accOffset = 0;
  private accUsed = 0;
  /** The last chunk held when it is a view of the accumulator ending at `accUsed`: it may grow in place. */
  private accTail: Buffer | undefined = undefined;

  constructor(options: ChunkQueueOptions = {}) {
    this.copy = options.copy ?? false;
    this.accumulatorCap = (options.maxHeld ?? Infinity) + MERGE_BELOW;
  }

  /** Number of bytes held. */
  get length(): number {
    return this.total;
  }

  /** Number of chunks held (for tests and diagnostics). */
  get chunkCount(): number {
    return this.end - this.first;
  }

  /**
   * Appends a chunk; an empty chunk is ignored. The queue keeps the chunk itself unless it is
   * small and bytes are already held, in which case it copies it (see {@link MERGE_BELOW}).
   */
  push(chunk: Buffer): void {
    const n = chunk.length;
    if (n === 0) return;
    if (n < MERGE_BELOW && this.total > 0) {
      this.merge(chunk);
      return;
    }
    this.chunks[this.end++] = chunk;
    this.total += n;
  }

  /**
   * Copies a small chunk into the accumulator, behind the last chunk: in place when the last chunk
   * is the accumulator's and there is room; else into a new last chunk, which also takes the
   * bytes left of the last chunk when that is the accumulator's or they are few, so that a frame
   * dripped in pieces stays one run (and a view, not a copy) and keeps no big chunk alive.
   */
  private merge(chunk: Buffer): void {
    const n = chunk.length;
    const last = this.end - 1;
    const tail = this.chunks[last];
    let acc = this.acc;
    if (tail === this.accTail && acc.length - this.accUsed >= n) {
      // Its start, and so the read offset in it, stay where they are.
      acc.set(chunk, this.accUsed);
      this.accUsed += n;
      const grown = Buffer.from(this.accMemory, this.accOffset + this.accUsed - tail.length - n, tail.length + n);
      if (this.viewed === tail) this.viewed = grown;
      this.chunks[last] = this.accTail = grown;
      this.total += n;
      return;
    }
    const from = last === this.first ? this.offset : 0;
    let carried = tail.length - from;
    // The accumulator's run moves along, up to the cap (past it, bytes are being pushed without
    // frames being read: a new run saves copying them over and over); another chunk's only if few.
    const carry = tail === this.accTail ? carried + n <= this.accumulatorCap : carried < MERGE_BELOW;
    if (!carry) carried = 0;
    const need = carried + n;
    if (acc.length - this.accUsed < need) {
      // Doubling keeps the copying linear in the bytes; the cap keeps it near the framer's limit.
      const capacity = Math.max(need, Math.min(Math.max(2 * need, MIN_ACCUMULATOR), this.accumulatorCap));
      acc = this.acc = Buffer.allocUnsafe(capacity);
      this.accMemory = acc.buffer;
      this.accOffset = acc.byteOffset;
      this.accUsed = 0;
    }
    const start = this.accUsed;
    if (carried > 0) tail.copy(acc, start, from, tail.length);
    acc.set(chunk, start + carried);
    this.accUsed = start + need;
    const segment = Buffer.from(this.accMemory, this.accOffset + start, need);
    this.accTail = segment;
    this.total += n;
    if (carried === 0) {
      this.chunks[this.end++] = segment;
      return;
    }
    // The new segment replaces the last chunk, from its first byte still held.
    this.chunks[last] = segment;
    if (last === this.first) {
      this.offset = 0;
      this.forgetView();
    }
  }

  /**
   * Removes and returns the next `n` bytes (`0 <= n <= length`): a view when they lie in one
   * chunk, one copy when they span chunks.
   */
  consume(n: number): Buffer {
    if (n === 0) return EMPTY;
    if (n > this.total) throw new RangeError(`consume(${n}) with only ${this.total} byte(s) held`);
    const head = this.chunks[this.first];
    const start = this.offset;
    const end = start + n;
    if (end <= head.length) {
      this.total -= n;
      if (end !== head.length) {
        this.offset = end;
        return this.view(head, start, end);
      }
      let view: Buffer;
      if (start === 0 && !this.copy) {
        // A whole chunk consumed from its start is returned as it is.
        view = head;
        this.cut.note(head, head, 0, end);
      } else view = this.view(head, start, end);
      this.dropHead();
      return view;
    }
    const out = Buffer.allocUnsafe(n);
    let written = 0;
    while (written < n) {
      const chunk = this.chunks[this.first];
      const from = this.offset;
      const take = Math.min(chunk.length - from, n - written);
      chunk.copy(out, written, from, from + take);
      written += take;
      if (from + take === chunk.length) this.dropHead();
      else this.offset = from + take;
    }
    this.total -= n;
    return out;
  }

  /**
   * Removes `before + n + after` bytes and returns the middle `n` of them: the same as
   * `skip(before); consume(n); skip(after)` in one call, for a frame between a header and a
   * delimiter. A view when the frame lies in one chunk, one copy otherwise.
   */
  extract(before: number, n: number, after: number): Buffer {
    const total = before + n + after;
    const head = this.chunks[this.first];
    const start = this.offset + before;
    if (head !== undefined && this.offset + total < head.length) {
      // The common case of many frames in one chunk: one view, no bookkeeping beyond the offset.
      this.offset += total;
      this.total -= total;
      return this.view(head, start, start + n);
    }
    if (before > 0) this.skip(before);
    const frame = this.consume(n);
    if (after > 0) this.skip(after);
    return frame;
  }

  /** {@link extract}'s frame as text, decoded where it lies when that is one chunk (no view is made). */
  extractText(before: number, n: number, after: number, encoding: BufferEncoding): string {
    const head = this.chunks[this.first];
    const start = this.offset + before;
    const total = before + n + after;
    if (head === undefined || this.offset + total >= head.length)
      return this.extract(before, n, after).toString(encoding);
    this.offset += total;
    this.total -= total;
    return head.toString(encoding, start, start + n);
  }

  /** Position of the first byte equal to `byte` at or after position `from`, or -1. */
  indexOfByte(byte: number, from: number): number {
    if (this.end - this.first === 1) {
      const index = this.chunks[this.first].indexOf(byte, this.offset + from);
      return index < 0 ? -1 : index - this.offset;
    }
    if (from >= this.total) return -1;
    const chunks = this.chunks;
    let k = this.locate(from);
    let start = this.located;
    for (const end = this.end; k < end; k++) {
      const chunk = chunks[k];
      const i = chunk.indexOf(byte, from - start);
      if (i >= 0) return start + i;
      start += chunk.length;
      from = start;
    }
    return -1;
  }

  /** Discards the next `n` bytes (`0 <= n <= length`) without copying them. */
  skip(n: number): void {
    if (n > this.total) throw new RangeError(`skip(${n}) with only ${this.total} byte(s) held`);
    this.total -= n;
    while (n > 0) {
      const chunk = this.chunks[this.first];
      const left = chunk.length - this.offset;
      if (n < left) {
        this.offset += n;
        return;
      }
      n -= left;
      this.dropHead();
    }
  }

  /** The byte at position `i` (`0 <= i < length`). */
  byteAt(i: number): number {
    let k = this.first;
    let pos = this.offset + i;
    let chunk = this.chunks[k];
    while (pos >= chunk.length) {
      pos -= chunk.length;
      chunk = this.chunks[++k];
    }
    return chunk[pos];
  }

  /** The last byte held (`length > 0`). */
  lastByte(): number {
    const last = this.chunks[this.end - 1];
    return last[last.length - 1];
  }

  /**
   * Reads an unsigned integer of `n` bytes (1 to 6) at position `start` without consuming it;
   * the bytes may span chunks.
   */
  readUInt(start: number, n: number, littleEndian: boolean): number {
    const head = this.chunks[this.first];
    const from = this.offset + start;
    if (from + n <= head.length) {
      if (n === 1) return head[from];
      if (n === 2) return littleEndian ? head.readUInt16LE(from) : head.readUInt16BE(from);
      if (n === 4) return littleEndian ? head.readUInt32LE(from) : head.readUInt32BE(from);
      return littleEndian ? head.readUIntLE(from, n) : head.readUIntBE(from, n);
    }
    let value = 0;
    if (littleEndian) for (let j = n - 1; j >= 0; j--) value = value * 256 + this.byteAt(start + j);
    else for (let j = 0; j < n; j++) value = value * 256 + this.byteAt(start + j);
    return value;
  }

  /** Reads a signed 64-bit integer at position `start` without consuming it; it may span chunks. */
  readBigInt64(start: number, littleEndian: boolean): bigint {
    const head = this.chunks[this.first];
    const from = this.offset + start;
    if (from + 8 <= head.length) return littleEndian ? head.readBigInt64LE(from) : head.readBigInt64BE(from);
    const scratch = Buffer.allocUnsafe(8);
    for (let j = 0; j < 8; j++) scratch[j] = this.byteAt(start + j);
    return littleEndian ? scratch.readBigInt64LE(0) : scratch.readBigInt64BE(0);
  }

  /**
   * Position of the first occurrence of `needle` at or after position `from`, or -1. A match may
   * span chunks. A caller that got -1 resumes at `max(from, length - needle.length + 1)` once
   * more bytes arrived, so no byte is searched twice beyond the delimiter's own length.
   */
  indexOf(needle: Buffer, from: number): number {
    const d = needle.length;
    if (from + d > this.total) return -1;
    if (d === 1) return this.indexOfByte(needle[0], from);
    const chunks = this.chunks;
    let k = this.locate(from);
    let start = this.located;
    for (const end = this.end; k < end; k++) {
      const chunk = chunks[k];
      const local = from - start;
      const i = chunk.indexOf(needle, local);
      if (i >= 0) return start + i;
      // In-chunk matches start at or before length - d; later starts spill into the next chunk.
      for (let p = Math.max(local, chunk.length - d + 1); p < chunk.length; p++) {
        if (chunk[p] === needle[0] && this.matchesAt(start + p, needle)) return start + p;
      }
      start += chunk.length;
      from = start;
    }
    return -1;
  }

  /**
   * Index of the chunk holding position `from` (`0 <= from < length`); its start position is
   * left in `located`. Walks back from the last chunk, since a resumed search starts near the end.
   */
  private locate(from: number): number {
    const chunks = this.chunks;
    let k = this.end - 1;
    let start = this.total - chunks[k].length;
    while (start > from) {
      k--;
      start -= chunks[k].length;
    }
    this.located = start;
    return k;
  }

  /** Drops every chunk held. */
  clear(): void {
    this.forgetView();
    this.forgetAccumulator();
    this.cut.clear();
    this.chunks = [];
    this.end = 0;
    this.first = 0;
    this.offset = 0;
    this.total = 0;
  }

  private matchesAt(pos: number, needle: Buffer): boolean {
    if (pos + needle.length > this.total) return false;
    for (let j = 1; j < needle.length; j++) {
      if (this.byteAt(pos + j) !== needle[j]) return false;
    }
    return true;
  }

  /**
   * A view of `chunk` from `start` to `end`, recorded in {@link cut}. The chunk's memory and
   * offset are read once per chunk rather than once per frame (as `subarray` would): those reads
   * are slow in the V8 that Node 20 ships.
   */
  private view(chunk: Buffer, start: number, end: number): Buffer {
    if (this.viewed !== chunk) {
      // A copying queue never sets `viewed`, so that views cost no test for it.
      if (this.copy) return copyOf(chunk, start, end);
      this.viewed = chunk;
      this.viewedMemory = chunk.buffer;
      this.viewedOffset = chunk.byteOffset;
    }
    const view = Buffer.from(this.viewedMemory, this.viewedOffset + start, end - start);
    this.cut.note(view, chunk, start, end);
    return view;
  }

  /** Lets go of the chunk {@link view} cut from: a queue left empty holds no chunk. */
  private forgetView(): void {
    this.viewed = undefined;
    this.viewedMemory = NO_MEMORY;
  }

  /**
   * Lets go of the accumulator once the queue is empty: an idle connection keeps none, and a later
   * frame does not keep alive one that earlier frames filled.
   */
  private forgetAccumulator(): void {
    this.acc = EMPTY;
    this.accMemory = NO_MEMORY;
    this.accOffset = 0;
    this.accUsed = 0;
    this.accTail = undefined;
  }

  private dropHead(): void {
    this.forgetView();
    this.chunks[this.first] = EMPTY;
    this.first++;
    this.offset = 0;
    if (this.first === this.end) {
      this.end = 0;
      this.first = 0;
      if (this.acc !== EMPTY) this.forgetAccumulator();
    } else if (this.first >= 64 && this.first * 2 >= this.end) {
      this.chunks.splice(0, this.first);
      this.end -= this.first;
      this.first = 0;
    }
  }
}
