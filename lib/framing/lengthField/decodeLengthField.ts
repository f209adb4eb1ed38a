// decodeLengthField(): frames announced by a length field, exactly as Netty's LengthFieldBasedFrameDecoder cuts them.
import type { OperatorFunction } from 'rxjs';
import { InvalidArgumentError } from '../../errors';
import { LengthFieldFramer, type LengthFieldFramerOptions } from './LengthFieldFramer';
import { decodeFrames } from '../decodeFrames';
import { checkBoolean, checkByteOrder, checkInteger, checkTruncation } from '../../util/validate';

/**
 * Options of {@link decodeLengthField}: the parameters of Netty's `LengthFieldBasedFrameDecoder`, with
 * the same names, meanings and defaults, so a Netty protocol ports by copying the numbers.
 *
 * ```
 * [magic : u16][length : u32 BE, counts the payload][payload]
 * lengthFieldOffset 2, lengthFieldLength 4, initialBytesToStrip 6: frames are the payloads
 * ```
 *
 * @example
 * ```ts
 * import { decodeLengthField, type Connection, type DecodeLengthFieldOptions } from 'rxnet';
 *
 * declare const conn: Connection;
 * const config: DecodeLengthFieldOptions = { lengthFieldOffset: 2, lengthFieldLength: 4, initialBytesToStrip: 6, maxFrameLength: 1 << 20 };
 * conn.data$.pipe(decodeLengthField(config)).subscribe((payload) => console.log(payload.length));
 * ```
 */
export interface DecodeLengthFieldOptions {
  /** Longest frame allowed, header included, before stripping (Netty's `maxFrameLength`). Required. */
  readonly maxFrameLength: number;
  /** Size of the length field in bytes: 1, 2, 3, 4 (unsigned) or 8 (signed, as Netty reads it). Required. */
  readonly lengthFieldLength: 1 | 2 | 3 | 4 | 8;
  /** Offset of the length field from the start of the frame. Default 0. */
  readonly lengthFieldOffset?: number;
  /**
   * Added to the field's value to get the number of bytes that follow the length field; e.g.
   * `-lengthFieldLength` when the field counts itself, `-(offset + length)` when it counts the
   * whole frame. May be negative. Default 0.
   */
  readonly lengthAdjustment?: number;
  /** Bytes removed from the start of each decoded frame (e.g. the header). Default 0. */
  readonly initialBytesToStrip?: number;
  /** Byte order of the length field. Default `'BE'` (network order, Netty's default). */
  readonly byteOrder?: 'BE' | 'LE';
  /**
   * `true` (default): `FrameTooLongError` as soon as the length field announces a frame over
   * `maxFrameLength`. `false`: the frame's bytes are skipped (never buffered) as they arrive and
   * the error comes once the whole frame has gone by, as in Netty.
   */
  readonly failFast?: boolean;
  /**
   * A partial frame (header or body) when the source completes: `'error'` (default) raises
   * `TruncatedFrameError`; `'discard'` drops it silently, as Netty does.
   */
  readonly truncation?: 'error' | 'discard';
  /**
   * Emit each frame as its own copy rather than as a view of the chunk it was cut from, so that
   * keeping a frame keeps only its bytes (a view keeps its whole chunk alive). Costs one copy per
   * frame. Default false. See docs/framing-lines.md, "Memory".
   */
  readonly copy?: boolean;
}

/**
 * Splits a byte stream into frames whose length is read from a header field, with exactly the
 * semantics of Netty's `LengthFieldBasedFrameDecoder`.
 *
 * ```
 * frame:  [ lengthFieldOffset bytes ][ length field ][ ... value + lengthAdjustment bytes ... ]
 *          \_____________ lengthFieldOffset + lengthFieldLength + value + lengthAdjustment ___/
 *         the frame emitted is that, minus its first initialBytesToStrip bytes
 *
 * decodeLengthField({ lengthFieldLength: 2, initialBytesToStrip: 2, maxFrameLength: 1024 }):
 * source:  -[00 03 61]-[62 63 00]-[01 64]-|
 * output:  ------------abc--------d-------|
 * ```
 *
 * A frame lying inside one chunk is emitted as a view of it; one that spans chunks is copied once
 * (see `copy`).
 *
 * Limits: the frame length is checked against `maxFrameLength` as soon as the length field is
 * complete, before any of the body is buffered (`FrameTooLongError` with `limit` and the
 * announced `length`; see `failFast`). A negative 8-byte field, an adjusted length shorter than
 * the header up to the end of the length field, or shorter than `initialBytesToStrip`, is a
 * `CorruptedFrameError`. Small chunks are merged as they arrive, so a frame dripped a byte at a
 * time costs at most about twice `maxFrameLength`, not a Buffer per byte.
 *
 * End of stream: completes after the last whole frame; a partial one follows `truncation`.
 * A source error is passed on at once.
 *
 * @throws InvalidArgumentError at creation for a missing or out-of-range option, including
 *   `lengthFieldOffset + lengthFieldLength > maxFrameLength` (as Netty's constructor), a
 *   `byteOrder` or `truncation` not listed, and `failFast` or `copy` not a boolean.
 * @example
 * ```ts
 * import { of } from 'rxjs';
 * import { decodeLengthField } from 'rxnet';
 *
 * // [uint32 BE length][payload]: Netty's new LengthFieldBasedFrameDecoder(1 << 20, 0, 4, 0, 4)
 * of(Buffer.from([0, 0, 0, 2, 0x68, 0x69]))
 *   .pipe(decodeLengthField({ maxFrameLength: 1 << 20, lengthFieldLength: 4, initialBytesToStrip: 4 }))
 *   .subscribe((payload) => console.log(payload.toString())); // hi
 * ```
 */
export function decodeLengthField(config: DecodeLengthFieldOptions): OperatorFunction<Buffer, Buffer> {
  return decodeFrames(lengthFieldFramer(config));
}

/** The framers of {@link decodeLengthField} (and `lengthFieldCodec`), `config` checked now: one per call. */
export function lengthFieldFramer(config: DecodeLengthFieldOptions): () => LengthFieldFramer {
  const resolved = resolveLengthFieldConfig(config);
  return () => new LengthFieldFramer(resolved);
}

/** Checks a {@link DecodeLengthFieldOptions} and fills in the defaults. */
function resolveLengthFieldConfig(config: DecodeLengthFieldOptions): LengthFieldFramerOptions {
  if (config === null || typeof config !== 'object') {
    throw new InvalidArgumentError('config', 'lengthField needs { maxFrameLength, lengthFieldLength, ... }');
  }
  const maxFrameLength = checkInteger('maxFrameLength', config.maxFrameLength, 1);
  const lengthFieldLength = config.lengthFieldLength;
  if (![1, 2, 3, 4, 8].includes(lengthFieldLength)) {
    throw new InvalidArgumentError('lengthFieldLength', `expected 1, 2, 3, 4 or 8, got ${String(lengthFieldLength)}`);
  }
  // Only a missing option takes its default: `null` is a wrong value, not an absent one.
  const lengthFieldOffset = checkInteger('lengthFieldOffset', orZero(config.lengthFieldOffset), 0);
  const lengthAdjustment = checkInteger('lengthAdjustment', orZero(config.lengthAdjustment), Number.MIN_SAFE_INTEGER);
  const initialBytesToStrip = checkInteger('initialBytesToStrip', orZero(config.initialBytesToStrip), 0);
  if (lengthFieldOffset > maxFrameLength - lengthFieldLength) {
    throw new InvalidArgumentError(
      'maxFrameLength',
      `${maxFrameLength} must be at least lengthFieldOffset (${lengthFieldOffset}) + lengthFieldLength (${lengthFieldLength})`,
    );
  }
  return {
    maxFrameLength,
    lengthFieldLength,
    lengthFieldOffset,
    lengthAdjustment,
    initialBytesToStrip,
    byteOrder: checkByteOrder(config.byteOrder, 'BE'),
    failFast: checkBoolean('failFast', config.failFast, true),
    truncation: checkTruncation(config.truncation, ['error', 'discard'], 'error'),
    copy: checkBoolean('copy', config.copy, false),
  };
}

/** The value of an optional numeric option, 0 when it is left out. */
function orZero(value: unknown): unknown {
  return value === undefined ? 0 : value;
}

/** @deprecated The former name of {@link decodeLengthField}, kept so that code written for 0.1 compiles. */
export const lengthField = decodeLengthField;

/** @deprecated The former name of {@link DecodeLengthFieldOptions}, kept so that code written for 0.1 compiles. */
export type LengthFieldConfig = DecodeLengthFieldOptions;
