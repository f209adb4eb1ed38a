// Helpers for the codec specs: a codec's runs (decodeWith, encodeWith) as plain data, to compare with the operators it pairs.
import { Buffer } from 'buffer';
import type { OperatorFunction } from 'rxjs';
import { decodeWith, encodeWith, type Codec } from '../../lib/codec/Codec';
import type { Chunk } from '../../lib/types';
import { errorData, run, type Run } from './framing';

/** A run as plain data: bytes in hex, the error as its name, code and fields, whether it completed. */
export interface RunData {
  values: unknown[];
  error?: Record<string, unknown>;
  completed: boolean;
}

/** `result` as {@link RunData}. */
export function asData(result: Run<unknown>): RunData {
  return {
    values: result.values.map((v) => (v instanceof Uint8Array ? Buffer.from(v).toString('hex') : v)),
    ...(result.error === undefined ? {} : { error: errorData(result.error) }),
    completed: result.completed,
  };
}

/** What `op` makes of `inputs` (run synchronously), as data. */
export function runData<I, T>(op: OperatorFunction<I, T>, inputs: I[]): RunData {
  return asData(run(op, inputs) as Run<unknown>);
}

/** What `decodeWith(codec)` makes of `chunks`, as data. */
export function decodeData(codec: Codec<unknown, unknown>, chunks: Buffer[]): RunData {
  return runData(decodeWith(codec), chunks);
}

/** What `encodeWith(codec)` makes of `messages`, as data. */
export function encodeData<Out>(codec: Codec<unknown, Out>, messages: Out[]): RunData {
  return runData(encodeWith(codec), messages);
}

/** The bytes `codec` writes for `messages`, one Buffer (throws what `encode` throws). */
export function encodeAll<Out>(codec: Codec<unknown, Out>, messages: readonly Out[]): Buffer {
  return Buffer.concat(messages.map((m) => toBytes(codec.encode(m))));
}

function toBytes(chunk: Chunk): Buffer {
  return typeof chunk === 'string' ? Buffer.from(chunk) : Buffer.from(chunk.buffer, chunk.byteOffset, chunk.length);
}

/**
 * `data` without what may depend on the chunking: the `length` of a delimiter framer's
 * `FrameTooLongError` is the bytes seen so far, which a bigger chunk makes larger.
 */
export function chunkingFree(data: RunData): RunData {
  if (data.error?.name !== 'FrameTooLongError') return data;
  const { length: _seen, ...error } = data.error;
  return { ...data, error };
}
