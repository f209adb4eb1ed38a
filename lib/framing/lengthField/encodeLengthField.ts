// encodeLengthField(): prefixes each frame with its length, as Netty's LengthFieldPrepender does.
import { Buffer } from 'buffer';
import { map, type OperatorFunction } from 'rxjs';
import { EncodeError, FrameTooLongError, InvalidArgumentError } from '../../errors';
import type { Chunk } from '../../types';
import { FRAMES } from '../../util/FrameSlab';
import { checkBoolean, checkByteOrder, checkInteger } from '../../util/validate';

/**
 * Options of {@link encodeLengthField}: the parameters of Netty's `LengthFieldPrepender`, with
 * the same names and defaults.
 *
 * @example
 * ```ts
 * import { encodeLengthField, decodeLengthField, type EncodeLengthFieldOptions } from 'rxnet';
 *
 * // [uint32 LE length, counting itself][payload], and the decoder that reads it back.
 * const config: EncodeLengthFieldOptions = { lengthFieldLength: 4, byteOrder: 'LE', lengthIncludesLengthFieldLength: true };
 * const encode = encodeLengthField(config);
 * const decode = decodeLengthField({ lengthFieldLength: 4, byteOrder: 'LE', lengthAdjustment: -4, initialBytesToStrip: 4, maxFrameLength: 65536 });
 * ```
 */
export interface EncodeLengthFieldOptions {
  /** Size of the length field: 1, 2, 3, 4 or 8 bytes. Required. */
  readonly lengthFieldLength: 1 | 2 | 3 | 4 | 8;
  /** Byte order of the length field. Default `'BE'`. */
  readonly byteOrder?: 'BE' | 'LE';
  /** Whether the value written counts the length field itself. Default false. */
  readonly lengthIncludesLengthFieldLength?: boolean;
  /** Added to the value written (may be negative). Default 0. */
  readonly lengthAdjustment?: number;
  /**
   * How a string payload is written: `'utf8'` (default), or `'latin1'`, a byte per character (the low
   * byte of each UTF-16 unit), for binary data carried as text (`buffer.toString('latin1')` gives it back).
   */
  readonly encoding?: 'utf8' | 'latin1';
}

const CAPACITY: Record<number, number> = { 1: 0xff, 2: 0xffff, 3: 0xffffff, 4: 0xffffffff, 8: Number.MAX_SAFE_INTEGER };

/**
 * Prefixes each frame with a length field: the encoder matching {@link decodeLengthField}.
 *
 * ```
 * frame written:  [ length field: payload length (+ lengthFieldLength if it counts itself) + lengthAdjustment ][ payload ]
 *
 * encodeLengthField({ lengthFieldLength: 2 }):
 * source:  -'abc'--------''-------|
 * output:  -[00 03 61 62 63]-[00 00]-|
 * ```
 *
 * Decode with `decodeLengthField({ lengthFieldLength, initialBytesToStrip: lengthFieldLength,
 * lengthAdjustment: -lengthAdjustment - (lengthIncludesLengthFieldLength ? lengthFieldLength : 0), maxFrameLength })`.
 * Each output is one Buffer holding header and payload (one copy, one socket write).
 *
 * Limits: a value that does not fit the field (over 255 for one byte, 65535 for two, ...) is a
 * `FrameTooLongError` whose `limit` is the largest payload that fits; a negative value (with a
 * negative `lengthAdjustment`) is an `EncodeError`.
 *
 * Memory: outputs of 512 B to 4 KiB are cut end to end from a 64 KiB slab shared by rxnet's encoders (as
 * Node cuts smaller Buffers from its 8 KiB pool), so the replies to one chunk go out as one write; a frame
 * kept keeps its slab alive, so copy one kept for long (`Buffer.from(frame)`).
 *
 * End of stream: completes when the source completes.
 *
 * @throws InvalidArgumentError at creation for a missing or bad option.
 * @example
 * ```ts
 * import { of } from 'rxjs';
 * import { encodeLengthField } from 'rxnet';
 *
 * // Netty: new LengthFieldPrepender(4)
 * of('hi').pipe(encodeLengthField({ lengthFieldLength: 4 })).subscribe((b) => console.log(b)); // <00 00 00 02 68 69>
 * ```
 */
export function encodeLengthField(config: EncodeLengthFieldOptions): OperatorFunction<Chunk, Buffer> {
  return map(lengthFieldEncoder(config));
}

/**
 * The encoding of one frame by {@link encodeLengthField} (and `lengthFieldCodec`), `config` checked now: the
 * length field and the payload in one fresh Buffer. A payload over `maxLength` bytes (`lengthFieldCodec`'s
 * limit, so that its own decoder reads back what it writes) is a `FrameTooLongError` like one the field cannot
 * hold.
 */
export function lengthFieldEncoder(config: EncodeLengthFieldOptions, maxLength = Infinity): (value: Chunk) => Buffer {
  if (config === null || typeof config !== 'object') {
    throw new InvalidArgumentError('config', 'encodeLengthField needs { lengthFieldLength, ... }');
  }
  const fieldLength = config.lengthFieldLength;
  if (![1, 2, 3, 4, 8].includes(fieldLength)) {
    throw new InvalidArgumentError('lengthFieldLength', `expected 1, 2, 3, 4 or 8, got ${String(fieldLength)}`);
  }
  const littleEndian = checkByteOrder(config.byteOrder, 'BE') === 'LE';
  const encoding = config.encoding ?? 'utf8';
  if (encoding !== 'utf8' && encoding !== 'latin1') {
    throw new InvalidArgumentError('encoding', `expected 'utf8' or 'latin1', got ${String(encoding)}`);
  }
  const latin1 = encoding === 'latin1';
  const includes = checkBoolean('lengthIncludesLengthFieldLength', config.lengthIncludesLengthFieldLength, false);
  const adjustment =
    config.lengthAdjustment === undefined
      ? 0
      : checkInteger('lengthAdjustment', config.lengthAdjustment, Number.MIN_SAFE_INTEGER);
  const extra = adjustment + (includes ? fieldLength : 0);
  // The longest payload: what the field can hold, and the caller's limit.
  const limit = Math.min(CAPACITY[fieldLength] - extra, maxLength);
  /** Throws for a payload of `size` bytes that cannot be framed. */
  const check = (size: number): void => {
    const length = size + extra;
    if (length < 0) throw new EncodeError(`adjusted length ${length} of a ${size}-byte frame is negative`);
    if (size > limit) throw new FrameTooLongError(limit, size);
  };
  return (value) => {
    let out: Buffer | undefined = undefined;
    let size: number;
    if (typeof value === 'string' && latin1) {
      // A byte per UTF-16 unit: measured without a pass over the text, written below.
      size = value.length;
    } else if (typeof value === 'string') {
      // More UTF-16 units than the limit allows bytes: refused before anything is written.
      if (value.length > limit) check(Buffer.byteLength(value));
      // Encoded once, straight into the frame's memory; the field is written once the length is known.
      out = FRAMES.encode(value, fieldLength, 0);
      size = out.length - fieldLength;
    } else size = value.length;
    check(size);
    const length = size + extra;
    if (out === undefined) {
      out = FRAMES.alloc(fieldLength + size);
      if (typeof value === 'string') out.write(value, fieldLength, size, 'latin1');
      else out.set(value, fieldLength);
    }
    if (fieldLength === 8) {
      if (littleEndian) out.writeBigUInt64LE(BigInt(length), 0);
      else out.writeBigUInt64BE(BigInt(length), 0);
    } else if (littleEndian) out.writeUIntLE(length, 0, fieldLength);
    else out.writeUIntBE(length, 0, fieldLength);
    return out;
  };
}

/** @deprecated The former name of {@link EncodeLengthFieldOptions}, kept so that code written for 0.1 compiles. */
export type EncodeLengthFieldConfig = EncodeLengthFieldOptions;
