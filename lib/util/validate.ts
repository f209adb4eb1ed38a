// Every argument check of rxnet in one place: each throws InvalidArgumentError naming the option and what it got.
import { Buffer } from 'buffer';
import type { SchedulerLike } from 'rxjs';
import { InvalidArgumentError } from '../errors';
import { toBuffer } from './toBuffer';

/**
 * Checks that `value` is an integer in [min, max]; throws InvalidArgumentError otherwise.
 */
export function checkInteger(name: string, value: unknown, min: number, max = Number.MAX_SAFE_INTEGER): number {
  if (typeof value !== 'number' || !Number.isInteger(value) || value < min || value > max) {
    throw new InvalidArgumentError(name, `expected an integer in [${min}, ${max}], got ${String(value)}`);
  }
  return value;
}

/** Checks a time limit in ms: an integer >= 0, or `Infinity`; 0 means none too, returned as `Infinity`. */
export function checkTimeout(name: string, value: unknown, fallback: number): number {
  const ms = checkLimit(name, value, fallback, 0);
  return ms === 0 ? Infinity : ms;
}

/**
 * Checks a limit: an integer >= `min`, or `Infinity` for no limit; `fallback` when undefined.
 */
export function checkLimit(name: string, value: unknown, fallback: number, min = 0): number {
  if (value === undefined) return fallback;
  if (value === Infinity) return value;
  if (typeof value !== 'number' || !Number.isInteger(value) || value < min || value > Number.MAX_SAFE_INTEGER) {
    throw new InvalidArgumentError(name, `expected an integer >= ${min} or Infinity, got ${String(value)}`);
  }
  return value;
}

/** Checks a `truncation` option against the values a decoder accepts. */
export function checkTruncation<T extends string>(value: unknown, allowed: readonly T[], fallback: T): T {
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

/**
 * Checks a delimiter: a non-empty Buffer, Uint8Array or string (UTF-8). Returns a copy of its bytes, so that a
 * caller mutating its Buffer later cannot change the framing.
 */
export function checkDelimiter(value: unknown): Buffer {
  if (typeof value !== 'string' && !(value instanceof Uint8Array)) {
    throw new InvalidArgumentError('delimiter', 'expected a Buffer, Uint8Array or string');
  }
  const bytes = Buffer.from(toBuffer(value));
  if (bytes.length === 0) throw new InvalidArgumentError('delimiter', 'must not be empty');
  return bytes;
}

/** Checks that a value is a boolean (or absent). */
export function checkBoolean(name: string, value: unknown, fallback: boolean): boolean {
  if (value === undefined) return fallback;
  if (typeof value !== 'boolean') throw new InvalidArgumentError(name, `expected a boolean, got ${String(value)}`);
  return value;
}

/** Checks an optional observer option: a function, or an object with `next`. */
export function checkObserver(name: string, value: unknown): void {
  if (value === undefined || typeof value === 'function') return;
  if (typeof value === 'object' && value !== null && typeof (value as { next?: unknown }).next === 'function') return;
  throw new InvalidArgumentError(name, 'expected a function or an observer with next');
}

/** Checks a rate: a finite number > 0, fractions allowed; `what` says what was expected in the message. */
export function checkRate(name: string, value: unknown, what = 'a finite number > 0'): number {
  if (typeof value !== 'number' || !(value > 0) || !Number.isFinite(value)) {
    throw new InvalidArgumentError(name, `expected ${what}, got ${String(value)}`);
  }
  return value;
}

/** Checks a share or probability: a number in [0, 1]; `fallback` when undefined. */
export function checkFraction(name: string, value: unknown, fallback: number): number {
  if (value === undefined) return fallback;
  if (typeof value !== 'number' || !(value >= 0 && value <= 1)) {
    throw new InvalidArgumentError(name, `expected a number in [0, 1], got ${String(value)}`);
  }
  return value;
}

/** Checks a scheduler option: `fallback` when undefined, else an object with `now()` and `schedule()`. */
export function checkScheduler<F extends SchedulerLike | undefined>(value: unknown, fallback: F): SchedulerLike | F {
  if (value === undefined) return fallback;
  const scheduler = value as Partial<SchedulerLike> | null;
  if (
    typeof scheduler !== 'object' ||
    scheduler === null ||
    typeof scheduler.now !== 'function' ||
    typeof scheduler.schedule !== 'function'
  ) {
    throw new InvalidArgumentError(
      'scheduler',
      `expected an RxJS SchedulerLike (now and schedule), got ${String(value)}`,
    );
  }
  return value as SchedulerLike;
}
