// C struct layouts: natural alignment and padding (or packing), byte order; the codec that decodes and encodes them.
import { Buffer } from 'buffer';
import { EncodeError, InvalidArgumentError } from '../../errors';
import { checkByteOrder } from '../../util/validate';
import type { FieldType, FieldValue, PaddingField } from './field';
import { SCALARS, describe, readScalar, writeScalar, type ScalarType } from './scalars';

/**
 * The JavaScript value of a struct: one property per field, padding left out.
 *
 * @example
 * ```ts
 * import { field, type StructValue } from 'rxnet';
 *
 * const fields = { id: 'uint32', gap: field.padding(4), name: field.char(16) } as const;
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

/** One field, compiled: where it lies and how to move its value. */
interface Slot {
  readonly name: string;
  readonly offset: number;
  readonly size: number;
  readonly alignment: number;
  readonly field: Exclude<FieldType, ScalarType> | { readonly kind: 'scalar'; readonly type: ScalarType };
}

function isStruct(field: unknown): field is StructCodec<unknown> {
  return typeof field === 'object' && field !== null && (field as { kind?: unknown }).kind === 'struct';
}

/** Checks that `codec` was made by {@link struct} (the struct operators and codec take nothing else). */
export function checkStructCodec(codec: unknown): void {
  if (!isStruct(codec)) throw new InvalidArgumentError('codec', 'expected a codec made by struct()');
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
 * import { field, struct } from 'rxnet';
 *
 * const CTestData = struct({ a: field.char(1), b: 'int32', c: field.char(15) });
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
