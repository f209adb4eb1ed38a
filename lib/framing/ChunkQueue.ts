// The byte queue every framer reads from: a list of chunks, consumed as views, copied only across chunks.

import { Buffer } from 'buffer';
import { clearCut, noteCut } from '../internal/lastCut';

const EMPTY = Buffer.alloc(0);
const NO_MEMORY = EMPTY.buffer;

/**
 * A FIFO of received chunks addressed as one run of bytes.
 *
 * Positions are relative to the read position (the first unconsumed byte). `consume(n)` returns
 * a view into a chunk when the `n` bytes lie inside it and copies once, into a fresh buffer,
 * only when they span chunks; nothing ever concatenates everything that is held.
 *
 * A returned view keeps its whole chunk alive; copy it (`Buffer.from(view)`) before holding it
 * for long if memory matters.
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

  /** Number of bytes held. */
  get length(): number {
    return this.total;
  }

  /** Number of chunks held (for tests and diagnostics). */
  get chunkCount(): number {
    return this.end - this.first;
  }

  /** Appends a chunk; an empty chunk is ignored. */
  push(chunk: Buffer): void {
    if (chunk.length === 0) return;
    this.chunks[this.end++] = chunk;
    this.total += chunk.length;
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
      if (start === 0) {
        // A whole chunk consumed from its start is returned as it is.
        view = head;
        noteCut(head, head, 0, end);
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
    clearCut();
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
   * A view of `chunk` from `start` to `end`, recorded as the last cut (see `lastCut`). The
   * chunk's memory and offset are read once per chunk rather than once per frame (as
   * `subarray` would), because those reads are slow in the V8 that Node 20 ships.
   */
  private view(chunk: Buffer, start: number, end: number): Buffer {
    if (this.viewed !== chunk) {
      this.viewed = chunk;
      this.viewedMemory = chunk.buffer;
      this.viewedOffset = chunk.byteOffset;
    }
    const view = Buffer.from(this.viewedMemory, this.viewedOffset + start, end - start);
    noteCut(view, chunk, start, end);
    return view;
  }

  /** Lets go of the chunk {@link view} cut from: a queue left empty holds no chunk. */
  private forgetView(): void {
    this.viewed = undefined;
    this.viewedMemory = NO_MEMORY;
  }

  private dropHead(): void {
    this.forgetView();
    this.chunks[this.first] = EMPTY;
    this.first++;
    this.offset = 0;
    if (this.first === this.end) {
      this.end = 0;
      this.first = 0;
    } else if (this.first >= 64 && this.first * 2 >= this.end) {
      this.chunks.splice(0, this.first);
      this.end -= this.first;
      this.first = 0;
    }
  }
}
