// The pull interface every framer implements, and the option checks they share.
import { Buffer } from 'buffer';
import { InvalidArgumentError, checkLimit } from '../errors';

/** Checks a length limit: an integer >= min, or `Infinity` for no limit (kept with every argument check). */
export { checkLimit };

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

/** The frame length limit of `delimited`, `lines` and NDJSON when none is given: 64 KiB. */
export const DEFAULT_MAX_LENGTH = 64 * 1024;

/**
 * What a decoder does with bytes left over when the source completes inside a frame:
 * `'error'` raises `TruncatedFrameError`, `'emit'` emits them as a last (short) frame,
 * `'discard'` drops them silently.
 *
 * @example
 * ```ts
 * import { of } from 'rxjs';
 * import { delimited, type Truncation } from 'rxnet';
 *
 * const keepTheRest: Truncation = 'emit';
 * of(Buffer.from('a;b;c')).pipe(delimited(';', { truncation: keepTheRest })).subscribe((f) => console.log(f.toString())); // a, b, c
 * ```
 */
export type Truncation = 'error' | 'emit' | 'discard';

/** Checks a `truncation` option against the values a decoder accepts. */
export function checkTruncation<T extends Truncation>(value: unknown, allowed: readonly T[], fallback: T): T {
  if (value === undefined) return fallback;
  if (!(allowed as readonly unknown[]).includes(value)) {
    throw new InvalidArgumentError('truncation', `expected one of ${allowed.join(', ')}, got ${String(value)}`);
  }
  return value as T;
}

/** Checks a `byteOrder` option. */
export function checkByteOrder(value: unknown, fallback: 'BE' | 'LE'): 'BE' | 'LE' {
  if (value === undefined) return fallback;
  if (value !== 'BE' && value !== 'LE') {
    throw new InvalidArgumentError('byteOrder', `expected 'BE' or 'LE', got ${String(value)}`);
  }
  return value;
}

/** Checks that an operator's options are an object (they may be left out, but not be `null` or a number). */
export function checkOptions<T extends object>(value: T): T {
  if (value === null || typeof value !== 'object') {
    throw new InvalidArgumentError('config', `expected an options object, got ${String(value)}`);
  }
  return value;
}

/** Checks that a value is a boolean (or absent). */
export function checkBoolean(name: string, value: unknown, fallback: boolean): boolean {
  if (value === undefined) return fallback;
  if (typeof value !== 'boolean') throw new InvalidArgumentError(name, `expected a boolean, got ${String(value)}`);
  return value;
}

/** A Buffer for bytes given as a Buffer (as is), another Uint8Array (as a view) or a string (UTF-8). */
export function toBuffer(value: Buffer | Uint8Array | string): Buffer {
  if (Buffer.isBuffer(value)) return value;
  if (typeof value === 'string') return Buffer.from(value, 'utf8');
  return Buffer.from(value.buffer, value.byteOffset, value.byteLength);
}
