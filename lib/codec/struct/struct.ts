// C struct layouts: field types, natural alignment and padding (or packing), byte order; decode and encode.
import { Buffer } from 'buffer';
import { EncodeError, InvalidArgumentError } from '../../errors';
import { checkByteOrder, checkInteger } from '../../util/validate';

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
 * import { arrayOf, type ScalarType } from 'rxnet';
 *
 * const vector = (type: ScalarType, length: number) => arrayOf(type, length);
 * const position = vector('double', 3); // double position[3]
 * ```
 */
export type ScalarType = NumberType | BigIntType;

/**
 * `char name[length]`: a C string, read up to its first NUL, written NUL-padded. Made by {@link char}.
 *
 * @example
 * ```ts
 * import { char, type CharField } from 'rxnet';
 *
 * const name: CharField = char(32); // { kind: 'char', length: 32, encoding: 'utf8' }
 * ```
 */
export interface CharField {
  /** Tells this field type from the others: `'char'`. */
  readonly kind: 'char';
  /** Bytes the array takes in the struct, its NUL (if any) included. */
  readonly length: number;
  /** Encoding of the string (UTF-8 by default). */
  readonly encoding: BufferEncoding;
}
/**
 * `uint8_t name[length]` as raw bytes (a Buffer). Made by {@link bytes}.
 *
 * @example
 * ```ts
 * import { bytes, type BytesField } from 'rxnet';
 *
 * const mac: BytesField = bytes(6); // uint8_t mac[6]
 * ```
 */
export interface BytesField {
  /** Tells this field type from the others: `'bytes'`. */
  readonly kind: 'bytes';
  /** Bytes the array takes in the struct. */
  readonly length: number;
}
/**
 * `type name[length]` of a scalar type, as an array of numbers (or bigints). Made by {@link arrayOf}.
 *
 * @example
 * ```ts
 * import { arrayOf, type ArrayField } from 'rxnet';
 *
 * const samples: ArrayField<'int16'> = arrayOf('int16', 8); // int16_t samples[8], 16 bytes
 * ```
 */
export interface ArrayField<T extends ScalarType = ScalarType> {
  /** Tells this field type from the others: `'array'`. */
  readonly kind: 'array';
  /** Type of each element. */
  readonly type: T;
  /** Number of elements (not bytes). */
  readonly length: number;
}
/**
 * Explicit unused bytes: skipped when decoding, zero when encoding, absent from the value. Made by {@link padding}.
 *
 * @example
 * ```ts
 * import { padding, struct, type PaddingField } from 'rxnet';
 *
 * const reserved: PaddingField = padding(3);
 * const Flags = struct({ flags: 'uint8', reserved, count: 'uint32' }, { pack: 1 }); // 8 bytes
 * ```
 */
export interface PaddingField {
  /** Tells this field type from the others: `'padding'`. */
  readonly kind: 'padding';
  /** Bytes of padding. */
  readonly length: number;
}

/**
 * What a field can be: a scalar, a char/byte/scalar array, explicit padding, or a nested struct.
 *
 * @example
 * ```ts
 * import { char, struct, type FieldType } from 'rxnet';
 *
 * const Point = struct({ x: 'int32', y: 'int32' });
 * const fields = { label: char(8), at: Point, visible: 'uint8' } satisfies Record<string, FieldType>;
 * const Marker = struct(fields); // a Point nested at offset 8
 * ```
 */
export type FieldType = ScalarType | CharField | BytesField | ArrayField | PaddingField | StructCodec<any>;

/**
 * The JavaScript value of one field type.
 *
 * @example
 * ```ts
 * import { arrayOf, type FieldValue } from 'rxnet';
 *
 * const samples = arrayOf('int64', 4);
 * const values: FieldValue<typeof samples> = [1n, 2n, 3n, 4n]; // bigint[]
 * ```
 */
export type FieldValue<F> = F extends BigIntType
  ? bigint
  : F extends NumberType
    ? number
    : F extends CharField
      ? string
      : F extends BytesField
        ? Buffer
        : F extends ArrayField<infer T>
          ? T extends BigIntType
            ? bigint[]
            : number[]
          : F extends StructCodec<infer V>
            ? V
            : never;

/**
 * The JavaScript value of a struct: one property per field, padding left out.
 *
 * @example
 * ```ts
 * import { char, padding, type StructValue } from 'rxnet';
 *
 * const fields = { id: 'uint32', gap: padding(4), name: char(16) } as const;
 * const user: StructValue<typeof fields> = { id: 7, name: 'ada' }; // no `gap`
 * ```
 */
export type StructValue<S extends Record<string, FieldType>> = {
  -readonly [K in keyof S as S[K] extends PaddingField ? never : K]: FieldValue<S[K]>;
};

/**
 * Where a field ended up.
 *
 * @example
 * ```ts
 * import { struct } from 'rxnet';
 *
 * const Header = struct({ kind: 'uint8', length: 'uint32' });
 * for (const f of Header.fields) console.log(`${f.name} @${f.offset} (${f.size} B, align ${f.alignment})`);
 * // kind @0 (1 B, align 1), length @4 (4 B, align 4)
 * ```
 */
export interface FieldLayout {
  /** The field's name, as given to {@link struct}. */
  readonly name: string;
  /** `offsetof`: bytes from the start of the struct. */
  readonly offset: number;
  /** `sizeof` the field, in bytes. */
  readonly size: number;
  /** Alignment the field was placed at (its natural alignment, capped by `pack`). */
  readonly alignment: number;
}

/**
 * Options of {@link struct}.
 *
 * @example
 * ```ts
 * import { struct, type StructOptions } from 'rxnet';
 *
 * // A network protocol's packed, big-endian header.
 * const wire: StructOptions = { byteOrder: 'BE', pack: 1 };
 * const Header = struct({ version: 'uint8', length: 'uint32' }, wire); // 5 bytes, no padding
 * ```
 */
export interface StructOptions {
  /**
   * Byte order of every multi-byte field. Default `'LE'`: the memory order of x86 and ARM hosts,
   * which is what a C program sending its struct with `send(fd, &s, sizeof s, 0)` puts on the wire.
   */
  readonly byteOrder?: 'BE' | 'LE';
  /**
   * Maximum alignment, as `#pragma pack(n)`: `1` packs the struct with no padding at all.
   * Default: natural alignment (each field aligned to its own size, as gcc/clang/MSVC on
   * x86-64 and arm64 lay it out).
   */
  readonly pack?: 1 | 2 | 4 | 8;
}

/**
 * A compiled struct layout that decodes Buffers to values and encodes values to Buffers. Made by {@link struct}.
 *
 * @example
 * ```ts
 * import { struct, type StructCodec } from 'rxnet';
 *
 * interface Pair {
 *   a: number;
 *   b: number;
 * }
 * const PairCodec: StructCodec<Pair> = struct({ a: 'uint16', b: 'uint32' });
 * console.log(PairCodec.size, PairCodec.offsetOf('b')); // 8 4
 * ```
 */
export interface StructCodec<T> {
  /** Tells a codec from the other field types. */
  readonly kind: 'struct';
  /** `sizeof`: the last field's end rounded up to the struct's alignment. */
  readonly size: number;
  /** `alignof`: the largest field alignment (capped by `pack`). */
  readonly alignment: number;
  /** Byte order of every multi-byte field. */
  readonly byteOrder: 'BE' | 'LE';
  /** Fields in declaration order with their offsets (padding fields included). */
  readonly fields: readonly FieldLayout[];
  /** `offsetof(T, name)`. */
  offsetOf(name: keyof T & string): number;
  /** Reads one struct from `buffer` at `offset` (default 0); char fields are copied out as strings, byte fields are views. */
  decode(buffer: Buffer, offset?: number): T;
  /** Writes one struct into a fresh, zero-filled Buffer of `size` bytes (padding is zero). */
  encode(value: T): Buffer;
  /** Writes one struct into `target` at `offset`, padding included (zeroed). */
  encodeInto(value: T, target: Buffer, offset?: number): void;
}

/**
 * `char name[length]`: a field holding a string in `encoding` (default UTF-8), `length` bytes
 * long in the struct, aligned to 1.
 *
 * Decoding reads up to the first NUL (or all `length` bytes when there is none); encoding writes
 * the string NUL-padded and refuses one longer than `length` bytes with `EncodeError`.
 *
 * @throws InvalidArgumentError unless `length` ≥ 1 and `encoding` is one Node knows.
 * @example
 * ```ts
 * import { struct, char } from 'rxnet';
 *
 * const Named = struct({ name: char(16), initial: char(1, 'latin1') });
 * Named.decode(Named.encode({ name: 'Ada', initial: 'L' })).name; // 'Ada'
 * ```
 */
export function char(length: number, encoding: BufferEncoding = 'utf8'): CharField {
  checkInteger('length', length, 1);
  if (!Buffer.isEncoding(encoding)) throw new InvalidArgumentError('encoding', `unknown encoding ${String(encoding)}`);
  return { kind: 'char', length, encoding };
}

/**
 * `uint8_t name[length]`: raw bytes, decoded as a view of the frame (copy it to keep it long),
 * encoded from a Buffer or Uint8Array of at most `length` bytes (zero-filled after).
 *
 * @throws InvalidArgumentError unless `length` ≥ 1.
 * @example
 * ```ts
 * import { struct, bytes } from 'rxnet';
 *
 * const Packet = struct({ id: 'uint16', mac: bytes(6) }, { byteOrder: 'BE' });
 * Packet.size; // 8
 * ```
 */
export function bytes(length: number): BytesField {
  return { kind: 'bytes', length: checkInteger('length', length, 1) };
}

/**
 * `type name[length]` of a scalar type: an array of numbers (bigints for 64-bit types) with the
 * element's alignment; encoding needs exactly `length` items.
 *
 * @throws InvalidArgumentError for an unknown type or `length` < 1.
 * @example
 * ```ts
 * import { struct, arrayOf } from 'rxnet';
 *
 * // struct Sample { uint8_t channel; int16_t values[3]; };  sizeof 8, values at 2
 * const Sample = struct({ channel: 'uint8', values: arrayOf('int16', 3) });
 * Sample.offsetOf('values'); // 2
 * ```
 */
export function arrayOf<T extends ScalarType>(type: T, length: number): ArrayField<T> {
  if (!(type in SCALARS)) throw new InvalidArgumentError('type', `unknown scalar type ${String(type)}`);
  return { kind: 'array', type, length: checkInteger('length', length, 1) };
}

/**
 * `length` bytes of explicit padding or reserved space: skipped when decoding, zero when
 * encoding, absent from the value's type.
 *
 * @throws InvalidArgumentError unless `length` ≥ 1.
 * @example
 * ```ts
 * import { struct, padding } from 'rxnet';
 *
 * const Header = struct({ version: 'uint8', reserved: padding(3), length: 'uint32' });
 * Object.keys(Header.decode(Buffer.alloc(Header.size))); // ['version', 'length']
 * ```
 */
export function padding(length: number): PaddingField {
  return { kind: 'padding', length: checkInteger('length', length, 1) };
}

interface ScalarInfo {
  readonly size: number;
  readonly min: number | bigint;
  readonly max: number | bigint;
  readonly float: boolean;
}

const SCALARS: Record<ScalarType, ScalarInfo> = {
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

/** One field, compiled: where it lies and how to move its value. */
interface Slot {
  readonly name: string;
  readonly offset: number;
  readonly size: number;
  readonly alignment: number;
  readonly field: Exclude<FieldType, ScalarType> | { readonly kind: 'scalar'; readonly type: ScalarType };
}

function readScalar(buffer: Buffer, type: ScalarType, at: number, le: boolean): number | bigint {
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

function writeScalar(buffer: Buffer, type: ScalarType, at: number, le: boolean, value: unknown, name: string): void {
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

function describe(value: unknown): string {
  if (typeof value === 'string')
    return `string ${JSON.stringify(value.length > 20 ? value.slice(0, 20) + '…' : value)}`;
  if (typeof value === 'bigint') return `bigint ${value}`;
  if (value === null) return 'null';
  return `${typeof value}${typeof value === 'number' ? ' ' + String(value) : ''}`;
}

function isStruct(field: unknown): field is StructCodec<unknown> {
  return typeof field === 'object' && field !== null && (field as { kind?: unknown }).kind === 'struct';
}

/** Size and natural alignment of a field type. */
function measure(name: string, field: FieldType): { size: number; alignment: number } {
  if (typeof field === 'string') {
    const info = SCALARS[field];
    if (info === undefined) throw new InvalidArgumentError(`field ${name}`, `unknown type ${field}`);
    return { size: info.size, alignment: info.size };
  }
  if (isStruct(field)) return { size: field.size, alignment: field.alignment };
  if (typeof field !== 'object' || field === null)
    throw new InvalidArgumentError(`field ${name}`, `not a field type: ${String(field)}`);
  switch (field.kind) {
    case 'char':
    case 'bytes':
    case 'padding':
      return { size: field.length, alignment: 1 };
    case 'array': {
      const size = SCALARS[field.type].size;
      return { size: size * field.length, alignment: size };
    }
    default:
      throw new InvalidArgumentError(`field ${name}`, 'not a field type');
  }
}

/**
 * Compiles a C struct layout. Fields are laid out in the order of the object's keys, each at the
 * next offset that is a multiple of its alignment (its size for scalars, its element's size for
 * arrays, 1 for char and byte arrays, the nested struct's alignment), capped by `pack`; the size is
 * rounded up to the largest alignment, as C compilers do on x86-64 and arm64.
 *
 * ```
 * struct CTestData { char a; int b; char c[15]; };       sizeof 24
 *
 * offset:  0    1 .. 3     4 .. 7        8 ........... 22   23
 *         [ a ][ padding ][ b int32 LE ][ c: 15 chars      ][pad]
 * ```
 *
 * Limits: field names that are array indices ("0", "1") are refused, since JavaScript would
 * reorder them. `decode` refuses a buffer shorter than `offset + size`; `encode` raises
 * `EncodeError` for a missing field, a number out of its type's range or not an integer, a string
 * longer than its char array (in bytes), a byte array longer than its field, an array of the wrong
 * length. A char array need not hold a NUL: a string of exactly `length` bytes fills it.
 *
 * @throws InvalidArgumentError for an unknown field type, a bad name or option.
 * @example
 * ```ts
 * import { struct, char } from 'rxnet';
 *
 * const CTestData = struct({ a: char(1), b: 'int32', c: char(15) });
 * CTestData.size; // 24
 * CTestData.offsetOf('b'); // 4
 * const bytes = CTestData.encode({ a: 'A', b: 42, c: 'hello' });
 * CTestData.decode(bytes); // { a: 'A', b: 42, c: 'hello' }
 * ```
 */
export function struct<S extends Record<string, FieldType>>(
  fields: S,
  options: StructOptions = {},
): StructCodec<StructValue<S>> {
  if (fields === null || typeof fields !== 'object')
    throw new InvalidArgumentError('fields', 'expected an object of field types');
  const byteOrder = checkByteOrder(options.byteOrder, 'LE');
  const pack = options.pack === undefined ? Infinity : options.pack;
  if (pack !== Infinity && ![1, 2, 4, 8].includes(pack)) {
    throw new InvalidArgumentError('pack', `expected 1, 2, 4 or 8, got ${String(options.pack)}`);
  }
  const slots: Slot[] = [];
  let offset = 0;
  let structAlignment = 1;
  for (const [name, field] of Object.entries(fields)) {
    if (/^(0|[1-9]\d*)$/.test(name)) {
      throw new InvalidArgumentError(`field ${name}`, 'a name that is an array index would be reordered by JavaScript');
    }
    const { size, alignment: natural } = measure(name, field);
    const alignment = Math.min(natural, pack);
    offset = Math.ceil(offset / alignment) * alignment;
    slots.push({
      name,
      offset,
      size,
      alignment,
      field: typeof field === 'string' ? { kind: 'scalar', type: field } : field,
    });
    offset += size;
    structAlignment = Math.max(structAlignment, alignment);
  }
  if (slots.length === 0) throw new InvalidArgumentError('fields', 'a struct needs at least one field');
  const size = Math.ceil(offset / structAlignment) * structAlignment;
  return new CompiledStruct<StructValue<S>>(slots, size, structAlignment, byteOrder);
}

class CompiledStruct<T> implements StructCodec<T> {
  readonly kind = 'struct' as const;
  readonly fields: readonly FieldLayout[];
  private readonly le: boolean;

  constructor(
    private readonly slots: readonly Slot[],
    readonly size: number,
    readonly alignment: number,
    readonly byteOrder: 'BE' | 'LE',
  ) {
    this.le = byteOrder === 'LE';
    this.fields = slots.map(({ name, offset, size: fieldSize, alignment: a }) => ({
      name,
      offset,
      size: fieldSize,
      alignment: a,
    }));
  }

  offsetOf(name: keyof T & string): number {
    const slot = this.slots.find((s) => s.name === name);
    if (slot === undefined) throw new InvalidArgumentError('name', `no field ${String(name)}`);
    return slot.offset;
  }

  decode(buffer: Buffer, offset = 0): T {
    if (offset + this.size > buffer.length) {
      throw new InvalidArgumentError(
        'buffer',
        `${this.size} byte(s) needed at offset ${offset}, ${buffer.length} held`,
      );
    }
    const value: Record<string, unknown> = {};
    const le = this.le;
    for (const slot of this.slots) {
      const at = offset + slot.offset;
      const field = slot.field;
      switch (field.kind) {
        case 'scalar':
          value[slot.name] = readScalar(buffer, field.type, at, le);
          break;
        case 'char': {
          const limit = at + slot.size;
          let end = at;
          while (end < limit && buffer[end] !== 0) end++;
          value[slot.name] = buffer.toString(field.encoding, at, end);
          break;
        }
        case 'bytes':
          value[slot.name] = buffer.subarray(at, at + slot.size);
          break;
        case 'array': {
          const step = SCALARS[field.type].size;
          const items: Array<number | bigint> = new Array(field.length);
          for (let i = 0; i < field.length; i++) items[i] = readScalar(buffer, field.type, at + i * step, le);
          value[slot.name] = items;
          break;
        }
        case 'struct':
          value[slot.name] = field.decode(buffer, at);
          break;
        default:
          break;
      }
    }
    return value as T;
  }

  encode(value: T): Buffer {
    const out = Buffer.alloc(this.size);
    this.encodeInto(value, out, 0);
    return out;
  }

  encodeInto(value: T, target: Buffer, offset = 0): void {
    if (value === null || typeof value !== 'object')
      throw new EncodeError(`expected an object, got ${describe(value)}`);
    if (offset + this.size > target.length) {
      throw new InvalidArgumentError(
        'target',
        `${this.size} byte(s) needed at offset ${offset}, ${target.length} available`,
      );
    }
    target.fill(0, offset, offset + this.size);
    const record = value as Record<string, unknown>;
    const le = this.le;
    for (const slot of this.slots) {
      const at = offset + slot.offset;
      const field = slot.field;
      const v = record[slot.name];
      switch (field.kind) {
        case 'scalar':
          writeScalar(target, field.type, at, le, v, slot.name);
          break;
        case 'char': {
          if (typeof v !== 'string') throw new EncodeError(`field ${slot.name}: expected a string, got ${describe(v)}`);
          const length = Buffer.byteLength(v, field.encoding);
          if (length > slot.size) {
            throw new EncodeError(`field ${slot.name}: ${length} byte(s) do not fit char[${slot.size}]`);
          }
          target.write(v, at, slot.size, field.encoding);
          break;
        }
        case 'bytes': {
          if (!(v instanceof Uint8Array))
            throw new EncodeError(`field ${slot.name}: expected a Buffer or Uint8Array, got ${describe(v)}`);
          if (v.length > slot.size)
            throw new EncodeError(`field ${slot.name}: ${v.length} byte(s) do not fit uint8_t[${slot.size}]`);
          target.set(v, at);
          break;
        }
        case 'array': {
          if (!Array.isArray(v) || v.length !== field.length) {
            throw new EncodeError(
              `field ${slot.name}: expected an array of ${field.length} ${field.type}, got ${Array.isArray(v) ? `${v.length} item(s)` : describe(v)}`,
            );
          }
          const step = SCALARS[field.type].size;
          for (let i = 0; i < field.length; i++)
            writeScalar(target, field.type, at + i * step, le, v[i], `${slot.name}[${i}]`);
          break;
        }
        case 'struct':
          field.encodeInto(v, target, at);
          break;
        default:
          break;
      }
    }
  }
}
