// The pull interface every framer implements, the default frame limit and the truncation choices.
import { Buffer } from 'buffer';
import type { FrameCut } from '../util/FrameCut';

/**
 * A synchronous, RxJS-free decoder: bytes go in with `push`, frames come out of `read` until it
 * returns `undefined` (wait for more bytes). Bad input makes `read` throw a typed error, after
 * which the framer must be discarded. Write one for a protocol rxnet does not frame and make it
 * an operator with {@link decodeFrames}, which gives each subscription a framer of its own.
 *
 * ```
 * push([03 61 62])   read() → undefined          a varint length of 3, and 2 of its bytes
 * push([63 00])      read() → 'abc', read() → '', read() → undefined
 * end()              read() → undefined (TruncatedFrameError had bytes been left)
 * ```
 *
 * Limits: check a frame's announced length when its header is read, before holding its body
 * (`FrameTooLongError`). End of stream: after `end()`, `read()` hands out the frames still
 * complete, then deals with a leftover (`TruncatedFrameError`, a last short frame, or nothing).
 * See docs/framing-your-own.md.
 *
 * @example
 * ```ts
 * import { CorruptedFrameError, FrameTooLongError, TruncatedFrameError, decodeFrames } from 'rxnet';
 * import type { Connection, Framer } from 'rxnet';
 *
 * // [varint length][payload], as protobuf streams delimit messages: 7 bits a byte, low first, top bit "more".
 * class VarintFramer implements Framer<Buffer> {
 *   private held: Buffer = Buffer.alloc(0);
 *   private ended = false;
 *
 *   constructor(private readonly maxLength: number) {}
 *
 *   push(chunk: Buffer): void {
 *     this.held = this.held.length === 0 ? chunk : Buffer.concat([this.held, chunk]);
 *   }
 *
 *   read(): Buffer | undefined {
 *     const held = this.held;
 *     let length = 0;
 *     for (let i = 0; i < held.length; i++) {
 *       if (i === 5) throw new CorruptedFrameError(length, 'varint longer than 5 bytes');
 *       length += (held[i] & 0x7f) * 2 ** (7 * i);
 *       if (held[i] < 0x80) {
 *         // The limit is checked at the header, before the body is held.
 *         if (length > this.maxLength) throw new FrameTooLongError(this.maxLength, length);
 *         const end = i + 1 + length;
 *         if (held.length < end) break;
 *         this.held = held.subarray(end);
 *         return held.subarray(i + 1, end);
 *       }
 *     }
 *     if (this.ended && held.length > 0) throw new TruncatedFrameError(held.length);
 *     return undefined;
 *   }
 *
 *   end(): void {
 *     this.ended = true;
 *   }
 *
 *   clear(): void {
 *     this.held = Buffer.alloc(0);
 *   }
 * }
 *
 * declare const conn: Connection;
 * conn.data$.pipe(decodeFrames(() => new VarintFramer(1 << 20))).subscribe((message) => console.log(message.length));
 * ```
 */
export interface Framer<T> {
  /** Appends received bytes; never throws and never emits by itself. */
  push(chunk: Buffer): void;
  /** The next complete frame, or `undefined` when more bytes are needed (or, after `end()`, when done). */
  read(): T | undefined;
  /** No more bytes will come: the following `read()` calls deal with what is left over. */
  end(): void;
  /** Releases every byte held. */
  clear(): void;
  /**
   * Optional, for framers whose frames are views of the pushed chunks: where the frame `read()`
   * returned last lies in its chunk (the built-in framers give their `ChunkQueue`'s). A connection
   * that writes such frames back joins those of one chunk into one write without asking the views
   * where they lie; it trusts the record only for a chunk that is the very frame it describes
   * (compared by identity), so a wrong record costs a join, never a byte. Left out, frames are
   * written as they are, joined by their memory. `decodeFrames` clears it after each chunk, so a
   * framer built on another framer exposes the inner one's record (even when its own messages are
   * not those frames), or it keeps that chunk alive.
   */
  readonly frameCut?: FrameCut;
  /**
   * Optional: the bytes held toward the next frame (0 when the bytes pushed ended on a frame's
   * end). A connection with a frame deadline (listen's `frameTimeout`) reads it to tell that a
   * frame is begun and not finished; a framer without it gets no frame deadline.
   */
  readonly buffered?: number;
}

/** The frame length limit of `decodeDelimited`, `decodeLines` and NDJSON when none is given: 64 KiB. */
export const DEFAULT_MAX_LENGTH = 64 * 1024;

/**
 * What a decoder does with bytes left over when the source completes inside a frame:
 * `'error'` raises `TruncatedFrameError`, `'emit'` emits them as a last (short) frame,
 * `'discard'` drops them silently.
 *
 * @example
 * ```ts
 * import { of } from 'rxjs';
 * import { decodeDelimited, type Truncation } from 'rxnet';
 *
 * const keepTheRest: Truncation = 'emit';
 * of(Buffer.from('a;b;c')).pipe(decodeDelimited(';', { truncation: keepTheRest })).subscribe((f) => console.log(f.toString())); // a, b, c
 * ```
 */
export type Truncation = 'error' | 'emit' | 'discard';
