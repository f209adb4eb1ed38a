// The scalar field types of a struct: their names, sizes and ranges, and how each is read and written.
import type { Buffer } from 'buffer';
import { EncodeError } from '../../errors';

/**
 * Integer and floating-point field types read as `number`. `float`/`double` are aliases of `float32`/`float64`.
 *
 * @example
 * ```ts
 * import { struct, type NumberType } from 'rxnet';
 *
 * const sample: NumberType = 'int16';
 * const Reading = struct({ sensor: 'uint8', celsius: sample, humidity: 'float' }); // 1 + 1 (padding) + 2 + 4 bytes
 * ```
 */
export type NumberType =
  'int8' | 'uint8' | 'int16' | 'uint16' | 'int32' | 'uint32' | 'float32' | 'float64' | 'float' | 'double';
/**
 * 64-bit integer field types, read as `bigint`.
 *
 * @example
 * ```ts
 * import { struct, type BigIntType } from 'rxnet';
 *
 * const stamp: BigIntType = 'uint64';
 * const Event = struct({ at: stamp, code: 'uint32' });
 * Event.encode({ at: 1_700_000_000_000n, code: 7 });
 * ```
 */
export type BigIntType = 'int64' | 'uint64';
/**
 * Every scalar field type.
 *
 * @example
 * ```ts
 * import { field, type ScalarType } from 'rxnet';
 *
 * const vector = (type: ScalarType, length: number) => field.arrayOf(type, length);
 * const position = vector('double', 3); // double position[3]
 * ```
 */
export type ScalarType = NumberType | BigIntType;

interface ScalarInfo {
  readonly size: number;
  readonly min: number | bigint;
  readonly max: number | bigint;
  readonly float: boolean;
}

/** Size (which is also the natural alignment) and range of every scalar type. */
export const SCALARS: Record<ScalarType, ScalarInfo> = {
  int8: { size: 1, min: -0x80, max: 0x7f, float: false },
  uint8: { size: 1, min: 0, max: 0xff, float: false },
  int16: { size: 2, min: -0x8000, max: 0x7fff, float: false },
  uint16: { size: 2, min: 0, max: 0xffff, float: false },
  int32: { size: 4, min: -0x80000000, max: 0x7fffffff, float: false },
  uint32: { size: 4, min: 0, max: 0xffffffff, float: false },
  int64: { size: 8, min: -(2n ** 63n), max: 2n ** 63n - 1n, float: false },
  uint64: { size: 8, min: 0n, max: 2n ** 64n - 1n, float: false },
  float32: { size: 4, min: -Infinity, max: Infinity, float: true },
  float: { size: 4, min: -Infinity, max: Infinity, float: true },
  float64: { size: 8, min: -Infinity, max: Infinity, float: true },
  double: { size: 8, min: -Infinity, max: Infinity, float: true },
};

/** Reads one scalar of `type` at `at`, little-endian when `le`. */
export function readScalar(buffer: Buffer, type: ScalarType, at: number, le: boolean): number | bigint {
  switch (type) {
    case 'int8':
      return buffer.readInt8(at);
    case 'uint8':
      return buffer[at];
    case 'int16':
      return le ? buffer.readInt16LE(at) : buffer.readInt16BE(at);
    case 'uint16':
      return le ? buffer.readUInt16LE(at) : buffer.readUInt16BE(at);
    case 'int32':
      return le ? buffer.readInt32LE(at) : buffer.readInt32BE(at);
    case 'uint32':
      return le ? buffer.readUInt32LE(at) : buffer.readUInt32BE(at);
    case 'int64':
      return le ? buffer.readBigInt64LE(at) : buffer.readBigInt64BE(at);
    case 'uint64':
      return le ? buffer.readBigUInt64LE(at) : buffer.readBigUInt64BE(at);
    case 'float32':
    case 'float':
      return le ? buffer.readFloatLE(at) : buffer.readFloatBE(at);
    default:
      return le ? buffer.readDoubleLE(at) : buffer.readDoubleBE(at);
  }
}

/** Writes `value` as a scalar of `type` at `at`; `EncodeError` naming the field `name` when it does not fit. */
export function writeScalar(
  buffer: Buffer,
  type: ScalarType,
  at: number,
  le: boolean,
  value: unknown,
  name: string,
): void {
  const info = SCALARS[type];
  if (info.size === 8 && !info.float) {
    let big: bigint;
    if (typeof value === 'bigint') big = value;
    else if (typeof value === 'number' && Number.isSafeInteger(value)) big = BigInt(value);
    else throw new EncodeError(`field ${name}: expected a bigint for ${type}, got ${describe(value)}`);
    if (big < (info.min as bigint) || big > (info.max as bigint)) {
      throw new EncodeError(`field ${name}: ${big} is out of range for ${type}`);
    }
    if (type === 'int64') {
      if (le) buffer.writeBigInt64LE(big, at);
      else buffer.writeBigInt64BE(big, at);
    } else if (le) buffer.writeBigUInt64LE(big, at);
    else buffer.writeBigUInt64BE(big, at);
    return;
  }
  if (typeof value !== 'number')
    throw new EncodeError(`field ${name}: expected a number for ${type}, got ${describe(value)}`);
  if (info.float) {
    if (info.size === 4) {
      if (le) buffer.writeFloatLE(value, at);
      else buffer.writeFloatBE(value, at);
    } else if (le) buffer.writeDoubleLE(value, at);
    else buffer.writeDoubleBE(value, at);
    return;
  }
  if (!Number.isInteger(value) || value < (info.min as number) || value > (info.max as number)) {
    throw new EncodeError(`field ${name}: ${value} is not an integer in the range of ${type}`);
  }
  switch (info.size) {
    case 1:
      buffer[at] = value & 0xff;
      return;
    case 2:
      if (le) buffer.writeUInt16LE(value & 0xffff, at);
      else buffer.writeUInt16BE(value & 0xffff, at);
      return;
    default:
      if (le) buffer.writeUInt32LE(value >>> 0, at);
      else buffer.writeUInt32BE(value >>> 0, at);
  }
}

/** A short description of a value for an error message: its type, and the value itself when short. */
export function describe(value: unknown): string {
  if (typeof value === 'string')
    return `string ${JSON.stringify(value.length > 20 ? value.slice(0, 20) + '…' : value)}`;
  if (typeof value === 'bigint') return `bigint ${value}`;
  if (value === null) return 'null';
  return `${typeof value}${typeof value === 'number' ? ' ' + String(value) : ''}`;
}
