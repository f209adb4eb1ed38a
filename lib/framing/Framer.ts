// The pull interface every framer implements, the default frame limit and the truncation choices.
import { Buffer } from 'buffer';

/**
 * A synchronous, RxJS-free decoder: bytes go in with `push`, frames come out of `read` until it
 * returns `undefined` (wait for more bytes). Bad input makes `read` throw a typed error, after
 * which the framer must be discarded.
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
