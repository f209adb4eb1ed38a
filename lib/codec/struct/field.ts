// The fields of a C struct beyond bare scalars (char and byte arrays, scalar arrays, padding), built by `field`.
import { Buffer } from 'buffer';
import { InvalidArgumentError } from '../../errors';
import { checkInteger } from '../../util/validate';
import { SCALARS, type BigIntType, type NumberType, type ScalarType } from './scalars';
import type { StructCodec } from './struct';

/**
 * `char name[length]`: a C string, read up to its first NUL, written NUL-padded. Made by {@link field.char}.
 *
 * @example
 * ```ts
 * import { field, type CharField } from 'rxnet';
 *
 * const name: CharField = field.char(32); // { kind: 'char', length: 32, encoding: 'utf8' }
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
 * `uint8_t name[length]` as raw bytes (a Buffer). Made by {@link field.bytes}.
 *
 * @example
 * ```ts
 * import { field, type BytesField } from 'rxnet';
 *
 * const mac: BytesField = field.bytes(6); // uint8_t mac[6]
 * ```
 */
export interface BytesField {
  /** Tells this field type from the others: `'bytes'`. */
  readonly kind: 'bytes';
  /** Bytes the array takes in the struct. */
  readonly length: number;
}
/**
 * `type name[length]` of a scalar type, as an array of numbers (or bigints). Made by {@link field.arrayOf}.
 *
 * @example
 * ```ts
 * import { field, type ArrayField } from 'rxnet';
 *
 * const samples: ArrayField<'int16'> = field.arrayOf('int16', 8); // int16_t samples[8], 16 bytes
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
 * Explicit unused bytes: skipped when decoding, zero when encoding, absent from the value. Made by {@link field.padding}.
 *
 * @example
 * ```ts
 * import { field, struct, type PaddingField } from 'rxnet';
 *
 * const reserved: PaddingField = field.padding(3);
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
 * import { field, struct, type FieldType } from 'rxnet';
 *
 * const Point = struct({ x: 'int32', y: 'int32' });
 * const fields = { label: field.char(8), at: Point, visible: 'uint8' } satisfies Record<string, FieldType>;
 * const Marker = struct(fields); // a Point nested at offset 8
 * ```
 */
export type FieldType = ScalarType | CharField | BytesField | ArrayField | PaddingField | StructCodec<any>;

/**
 * The JavaScript value of one field type.
 *
 * @example
 * ```ts
 * import { field, type FieldValue } from 'rxnet';
 *
 * const samples = field.arrayOf('int64', 4);
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
 * The builders of struct fields that are more than a scalar's name: char and byte arrays,
 * arrays of a scalar type, explicit padding. Each returns a plain description to give
 * {@link struct} as a field; a scalar field is its type's name (`'uint16'`), a nested struct its codec.
 *
 * ```
 * struct Packet { uint16_t id; char name[8]; uint8_t mac[6]; uint8_t reserved[2]; int16_t xyz[3]; };  sizeof 24
 *
 * offset:  0 .. 1       2 .. 9            10 .. 15           16 .. 17             18 .. 23
 *         [ id        ][ name           ][ mac             ][ reserved          ][ xyz                        ]
 *           'uint16'     field.char(8)     field.bytes(6)     field.padding(2)     field.arrayOf('int16', 3)
 * ```
 *
 * Limits: every length is an integer >= 1, checked when the field is built
 * (`InvalidArgumentError`); what a value must be to fit is checked by `encode`.
 *
 * In 0.1 the builders were the root exports `char`, `bytes`, `arrayOf` and `padding`; those
 * still work, deprecated (`bytes` is also the marble helper of `rxnet/testing`).
 *
 * @namespace
 * @example
 * ```ts
 * import { field, struct } from 'rxnet';
 *
 * const Packet = struct({
 *   id: 'uint16',
 *   name: field.char(8),
 *   mac: field.bytes(6),
 *   reserved: field.padding(2),
 *   xyz: field.arrayOf('int16', 3),
 * });
 * Packet.size; // 24
 * Packet.offsetOf('xyz'); // 18
 * ```
 */
export const field = {
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
   * import { field, struct } from 'rxnet';
   *
   * const Named = struct({ name: field.char(16), initial: field.char(1, 'latin1') });
   * Named.decode(Named.encode({ name: 'Ada', initial: 'L' })).name; // 'Ada'
   * ```
   */
  char(length: number, encoding: BufferEncoding = 'utf8'): CharField {
    checkInteger('length', length, 1);
    if (!Buffer.isEncoding(encoding))
      throw new InvalidArgumentError('encoding', `unknown encoding ${String(encoding)}`);
    return { kind: 'char', length, encoding };
  },

  /**
   * `uint8_t name[length]`: raw bytes, decoded as a view of the frame (copy it to keep it long),
   * encoded from a Buffer or Uint8Array of at most `length` bytes (zero-filled after).
   *
   * @throws InvalidArgumentError unless `length` ≥ 1.
   * @example
   * ```ts
   * import { field, struct } from 'rxnet';
   *
   * const Packet = struct({ id: 'uint16', mac: field.bytes(6) }, { byteOrder: 'BE' });
   * Packet.size; // 8
   * ```
   */
  bytes(length: number): BytesField {
    return { kind: 'bytes', length: checkInteger('length', length, 1) };
  },

  /**
   * `type name[length]` of a scalar type: an array of numbers (bigints for 64-bit types) with the
   * element's alignment; encoding needs exactly `length` items.
   *
   * @throws InvalidArgumentError for an unknown type or `length` < 1.
   * @example
   * ```ts
   * import { field, struct } from 'rxnet';
   *
   * // struct Sample { uint8_t channel; int16_t values[3]; };  sizeof 8, values at 2
   * const Sample = struct({ channel: 'uint8', values: field.arrayOf('int16', 3) });
   * Sample.offsetOf('values'); // 2
   * ```
   */
  arrayOf<T extends ScalarType>(type: T, length: number): ArrayField<T> {
    if (!(type in SCALARS)) throw new InvalidArgumentError('type', `unknown scalar type ${String(type)}`);
    return { kind: 'array', type, length: checkInteger('length', length, 1) };
  },

  /**
   * `length` bytes of explicit padding or reserved space: skipped when decoding, zero when
   * encoding, absent from the value's type.
   *
   * @throws InvalidArgumentError unless `length` ≥ 1.
   * @example
   * ```ts
   * import { field, struct } from 'rxnet';
   *
   * const Header = struct({ version: 'uint8', reserved: field.padding(3), length: 'uint32' });
   * Object.keys(Header.decode(Buffer.alloc(Header.size))); // ['version', 'length']
   * ```
   */
  padding(length: number): PaddingField {
    return { kind: 'padding', length: checkInteger('length', length, 1) };
  },
} as const;

/** @deprecated The former name of {@link field.char}, kept so that code written for 0.1 compiles. */
export const char = field.char;

/** @deprecated The former name of {@link field.bytes}, kept so that code written for 0.1 compiles. */
export const bytes = field.bytes;

/** @deprecated The former name of {@link field.arrayOf}, kept so that code written for 0.1 compiles. */
export const arrayOf = field.arrayOf;

/** @deprecated The former name of {@link field.padding}, kept so that code written for 0.1 compiles. */
export const padding = field.padding;
