// Shared helpers for framing and codec specs: random re-chunking, synchronous runs, error snapshots, marble scheduler.
import fc from 'fast-check';
import { from, type Observable, type OperatorFunction } from 'rxjs';
import { TestScheduler } from 'rxjs/testing';
import { InvalidArgumentError } from '../../lib/errors';
import { MERGE_BELOW } from '../../lib/framing/ChunkQueue';
import type { Framer } from '../../lib/framing/Framer';

/** Splits `bytes` at the given cut points (sorted, repeats give empty chunks). */
export function splitAt(bytes: Buffer, cuts: number[]): Buffer[] {
  const sorted = [...cuts].sort((a, b) => a - b);
  const chunks: Buffer[] = [];
  let last = 0;
  for (const cut of sorted) {
    chunks.push(bytes.subarray(last, cut));
    last = cut;
  }
  chunks.push(bytes.subarray(last));
  // Copies so that a framer holding views cannot see a neighbour's bytes by accident.
  return chunks.map((c) => Buffer.from(c));
}

/** One byte per chunk, with an empty chunk between each. */
export function byteByByte(bytes: Buffer): Buffer[] {
  const chunks: Buffer[] = [];
  for (const b of bytes) chunks.push(Buffer.from([b]), Buffer.alloc(0));
  return chunks;
}

/** Arbitrary chunkings of `bytes`: random cuts (empty chunks included), one byte per chunk, or whole. */
export function chunkingsOf(bytes: Buffer): fc.Arbitrary<Buffer[]> {
  return fc.oneof(
    {
      weight: 6,
      arbitrary: fc.array(fc.nat({ max: bytes.length }), { maxLength: 40 }).map((cuts) => splitAt(bytes, cuts)),
    },
    { weight: 1, arbitrary: fc.constant<Buffer[]>(byteByByte(bytes)) },
    { weight: 1, arbitrary: fc.constant<Buffer[]>([bytes]) },
  );
}

/** `bytes` cut into consecutive chunks of the given sizes (the last takes the rest), each in its own memory. */
export function chunksOfSizes(bytes: Buffer, sizes: number[]): Buffer[] {
  const chunks: Buffer[] = [];
  let at = 0;
  for (const size of sizes) {
    if (at >= bytes.length) break;
    chunks.push(ownCopy(bytes.subarray(at, at + size)));
    at += size;
  }
  if (at < bytes.length) chunks.push(ownCopy(bytes.subarray(at)));
  return chunks;
}

/** A copy in memory of its own, as a socket read gives each chunk (Buffer.from would share Node's pool). */
export function ownCopy(bytes: Uint8Array): Buffer {
  const copy = Buffer.alloc(bytes.length);
  copy.set(bytes);
  return copy;
}

/**
 * Chunkings of `bytes` into tiny pieces, where a framer merges rather than holds: one byte each
 * with empty chunks between, random sizes from 0 to 3, and tiny pieces mixed with pieces around
 * the merge threshold (so that accumulators fill, grow, and sit between chunks held as they are).
 */
export function tinyChunkingsOf(bytes: Buffer): fc.Arbitrary<Buffer[]> {
  const count = bytes.length + 1;
  return fc.oneof(
    fc.constant<Buffer[]>(byteByByte(bytes).map(ownCopy)),
    fc
      .array(fc.integer({ min: 0, max: 3 }), { minLength: count, maxLength: count })
      .map((s) => chunksOfSizes(bytes, s)),
    fc
      .array(
        fc.oneof(
          { weight: 5, arbitrary: fc.integer({ min: 0, max: 3 }) },
          { weight: 1, arbitrary: fc.integer({ min: MERGE_BELOW - 2, max: MERGE_BELOW + 600 }) },
        ),
        { minLength: 1, maxLength: count, size: 'max' },
      )
      .map((s) => chunksOfSizes(bytes, s)),
  );
}

/** Whether two Buffers are views of overlapping bytes of the same memory. */
export function overlaps(a: Uint8Array, b: Uint8Array): boolean {
  return a.buffer === b.buffer && a.byteOffset < b.byteOffset + b.length && b.byteOffset < a.byteOffset + a.length;
}

/** Asserts that `create` throws an `InvalidArgumentError` about `argument`. */
export function expectInvalidArgument(create: () => unknown, argument: string): void {
  let thrown: unknown;
  try {
    create();
  } catch (error) {
    thrown = error;
  }
  expect(thrown).toBeInstanceOf(InvalidArgumentError);
  expect(errorData(thrown)).toEqual({ name: 'InvalidArgumentError', code: 'ERR_INVALID_ARGUMENT', argument });
}

/** What a synchronous run of an operator produced. */
export interface Run<T> {
  values: T[];
  error?: unknown;
  completed: boolean;
}

/** Subscribes `op` to the inputs (chunks, for a decoder) synchronously and records every notification. */
export function run<T, I = Buffer>(op: OperatorFunction<I, T>, inputs: I[]): Run<T> {
  return runObservable(from(inputs).pipe(op));
}

export function runObservable<T>(source: Observable<T>): Run<T> {
  const result: Run<T> = { values: [], completed: false };
  source.subscribe({
    next: (v) => result.values.push(v),
    error: (e) => (result.error = e),
    complete: () => (result.completed = true),
  });
  return result;
}

/** Runs a framer directly over chunks, then ends it; returns frames and the error thrown, if any. */
export function runFramer<T>(framer: Framer<T>, chunks: Buffer[]): { values: T[]; error?: unknown } {
  const values: T[] = [];
  try {
    for (const chunk of chunks) {
      framer.push(chunk);
      let v: T | undefined;
      while ((v = framer.read()) !== undefined) values.push(v);
    }
    framer.end();
    let v: T | undefined;
    while ((v = framer.read()) !== undefined) values.push(v);
  } catch (error) {
    return { values, error };
  }
  return { values };
}

/** Error as plain data: name, code and own fields (the message and stack left out). */
export function errorData(error: unknown): Record<string, unknown> {
  if (!(error instanceof Error)) return { notAnError: error };
  const data: Record<string, unknown> = { name: error.name };
  for (const [key, value] of Object.entries(error)) {
    if (key !== 'message' && key !== 'stack') data[key] = value;
  }
  return data;
}

/** Hex of each Buffer, for readable comparisons. */
export function hex(buffers: readonly Buffer[]): string[] {
  return buffers.map((b) => b.toString('hex'));
}

/** Text of each Buffer. */
export function texts(buffers: readonly Buffer[]): string[] {
  return buffers.map((b) => b.toString('latin1'));
}

type Frame = { frame: number; notification: { kind: string; value?: unknown; error?: unknown } };

/** Buffers as `{ bytes: hex }`, errors as their data, so marble diffs read well and errors compare by name, code and fields. */
function normalize(value: unknown): unknown {
  if (Buffer.isBuffer(value)) return { bytes: value.toString('hex') };
  if (value instanceof Error) return errorData(value);
  if (Array.isArray(value)) return value.map(normalize);
  return value;
}

/** A TestScheduler whose assertions compare Buffers by content and errors by name, code and data. */
export function marbles(): TestScheduler {
  return new TestScheduler((actual, expected) => {
    const norm = (frames: unknown) =>
      Array.isArray(frames)
        ? (frames as Frame[]).map((f) =>
            f && typeof f === 'object' && 'notification' in f
              ? {
                  frame: f.frame,
                  kind: f.notification.kind,
                  value: normalize(f.notification.value),
                  error: normalize(f.notification.error),
                }
              : normalize(f),
          )
        : frames;
    expect(norm(actual)).toEqual(norm(expected));
  });
}

/** Letters to Buffers for marble `values`. */
export function bufferValues(map: Record<string, string | number[]>): Record<string, Buffer> {
  const out: Record<string, Buffer> = {};
  for (const [k, v] of Object.entries(map)) out[k] = typeof v === 'string' ? Buffer.from(v, 'latin1') : Buffer.from(v);
  return out;
}

/** The outcome of a run as plain data: frames in hex, the error's name, and whether it completed. */
export function outcome(result: { values: unknown[]; error?: unknown; completed?: boolean }): {
  frames: unknown[];
  error?: string;
} {
  return {
    frames: result.values.map((v) => (Buffer.isBuffer(v) ? v.toString('hex') : v)),
    ...(result.error === undefined ? {} : { error: (result.error as Error).name }),
  };
}
