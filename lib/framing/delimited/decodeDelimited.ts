// decodeDelimited(): frames ended by any byte sequence.
import type { Buffer } from 'buffer';
import type { OperatorFunction } from 'rxjs';
import { delimiterFramer, type DelimiterFramer } from './DelimiterFramer';
import type { Truncation } from '../Framer';
import { decodeFrames } from '../decodeFrames';
import { checkDelimiter } from '../../util/validate';

/**
 * Options of {@link decodeDelimited}.
 *
 * @example
 * ```ts
 * import { decodeDelimited, type Connection, type DecodeDelimitedOptions } from 'rxnet';
 *
 * declare const conn: Connection;
 * // STOMP-like frames ended by NUL, kept with their NUL, a last unterminated frame dropped.
 * const config: DecodeDelimitedOptions = { maxLength: 1 << 20, includeDelimiter: true, truncation: 'discard' };
 * conn.data$.pipe(decodeDelimited('\0', config)).subscribe((frame) => console.log(frame.length));
 * ```
 */
export interface DecodeDelimitedOptions {
  /**
   * Longest frame allowed, in bytes, the delimiter not counted: an integer >= 1. Default 65536
   * (64 KiB); `Infinity` turns the limit off (then a peer that never sends a delimiter fills memory).
   */
  readonly maxLength?: number;
  /** Keep the delimiter at the end of each frame. Default false. */
  readonly includeDelimiter?: boolean;
  /**
   * Bytes left without a delimiter when the source completes: `'error'` (default) raises
   * `TruncatedFrameError`, `'emit'` emits them as a last frame, `'discard'` drops them.
   */
  readonly truncation?: Truncation;
  /**
   * Emit each frame as its own copy rather than as a view of the chunk it was cut from, so that
   * keeping a frame keeps only its bytes (a view keeps its whole chunk alive). Costs one copy per
   * frame. Default false. See docs/framing-lines.md, "Memory".
   */
  readonly copy?: boolean;
}

/**
 * Splits a byte stream into the frames between occurrences of `delimiter` (any non-empty byte
 * sequence, found even when it is split across chunks).
 *
 * ```
 * source:  -[ab,c]-[d,ef,]-[g]-|            decodeDelimited(',')
 * output:  -ab-----cd-ef---------#          TruncatedFrameError (truncation 'error')
 * output:  -ab-----cd-ef------------(g|)    truncation 'emit'
 * ```
 *
 * A frame lying inside one chunk is emitted as a view of it (no copy); one that spans chunks is
 * copied once. An empty frame (two delimiters in a row) is emitted as an empty Buffer.
 *
 * Limits: a frame longer than `maxLength` errors with `FrameTooLongError` (`limit`, and in
 * `length` the length seen so far) as soon as that many bytes without a delimiter are held, so
 * at most `maxLength + delimiter.length - 1` bytes plus one chunk are ever buffered. Small chunks
 * are merged as they arrive, so a frame dripped a byte at a time costs at most about twice its
 * bytes, not a Buffer per byte.
 *
 * End of stream: completes after the last frame; leftover bytes follow `truncation` (a leftover
 * longer than `maxLength` is a `FrameTooLongError` whatever `truncation` says). A source error
 * is passed on at once and the bytes held are dropped.
 *
 * @throws InvalidArgumentError at creation for an empty delimiter or a bad option (`maxLength`
 *   not an integer >= 1 nor `Infinity`, a `truncation` not listed, `includeDelimiter` or `copy`
 *   not a boolean).
 * @example
 * ```ts
 * import { of } from 'rxjs';
 * import { decodeDelimited } from 'rxnet';
 *
 * of(Buffer.from('one\0tw'), Buffer.from('o\0'))
 *   .pipe(decodeDelimited('\0', { maxLength: 1024 }))
 *   .subscribe((frame) => console.log(frame.toString())); // one, two
 * ```
 */
export function decodeDelimited(
  delimiter: Buffer | Uint8Array | string,
  config: DecodeDelimitedOptions = {},
): OperatorFunction<Buffer, Buffer> {
  return decodeFrames(delimitedFramer(delimiter, config));
}

/** The framers of {@link decodeDelimited} (and `delimitedCodec`), arguments checked now: one per call. */
export function delimitedFramer(
  delimiter: Buffer | Uint8Array | string,
  config: DecodeDelimitedOptions,
): () => DelimiterFramer {
  return delimiterFramer(checkDelimiter(delimiter), config, 'error', false);
}

/** @deprecated The former name of {@link decodeDelimited}, kept so that code written for 0.1 compiles. */
export const delimited = decodeDelimited;

/** @deprecated The former name of {@link DecodeDelimitedOptions}, kept so that code written for 0.1 compiles. */
export type DelimitedConfig = DecodeDelimitedOptions;
