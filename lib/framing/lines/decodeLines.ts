// decodeLines(): frames ended by \n or \r\n.
import { Buffer } from 'buffer';
import type { OperatorFunction } from 'rxjs';
import { delimiterFramer, type DelimiterFramer } from '../delimited/DelimiterFramer';
import type { Truncation } from '../Framer';
import { decodeFrames } from '../decodeFrames';

const LF = Buffer.from('\n');

/**
 * Options of {@link decodeLines}.
 *
 * @example
 * ```ts
 * import { decodeLines, type Connection, type DecodeLinesOptions } from 'rxnet';
 *
 * declare const conn: Connection;
 * // A strict protocol: lines up to 512 bytes, and a last line without its ending is an error.
 * const config: DecodeLinesOptions = { maxLength: 512, truncation: 'error' };
 * conn.data$.pipe(decodeLines(config)).subscribe((line) => console.log(line.toString('latin1')));
 * ```
 */
export interface DecodeLinesOptions {
  /**
   * Longest line allowed, in bytes, the line ending not counted: an integer >= 1. Default 65536
   * (64 KiB); `Infinity` turns the limit off.
   */
  readonly maxLength?: number;
  /** Keep the line ending (`\n` or `\r\n`, as received) at the end of each line. Default false. */
  readonly includeDelimiter?: boolean;
  /**
   * A last line without a line ending when the source completes: `'emit'` (default, like
   * `readline` and `split2`) emits it, `'error'` raises `TruncatedFrameError`, `'discard'` drops it.
   */
  readonly truncation?: Truncation;
  /**
   * Emit each line as its own copy rather than as a view of the chunk it was cut from, so that
   * keeping a line keeps only its bytes (a view keeps its whole chunk alive, up to 64 KiB for a
   * socket read). Costs one copy per line. Default false. See docs/framing-lines.md, "Memory".
   */
  readonly copy?: boolean;
}

/**
 * Splits a byte stream into lines ended by `\n` or `\r\n`, as Buffers without the ending; the
 * reactive twin of reading lines from a socket. Decode them to text with
 * `map((line) => line.toString('utf8'))` (a line is never cut inside a character), or with
 * `decodeWith(linesCodec({ encoding: 'utf8' }))`, which decodes each line where it lies in its
 * chunk without making a Buffer of it first (measured in one process: 103 against 130 ns per
 * 64 B line).
 *
 * ```
 * source:  -[ab\r]-[\ncd\n\n]-[ef]-|
 * output:  --------(ab,cd,'')-------(ef|)      '' is an empty line
 * ```
 *
 * Only `\n` ends a line; a `\r` not followed by `\n` is part of the line.
 *
 * Limits: a line longer than `maxLength` errors with `FrameTooLongError` as soon as more than
 * `maxLength` bytes (plus a possible trailing `\r`) without `\n` are held, so at most
 * `maxLength + 1` bytes plus one chunk are ever buffered. Small chunks are merged as they arrive,
 * so a line dripped a byte at a time costs at most about twice its bytes, not a Buffer per byte.
 * A line is a view of the chunk it was cut from, one that spans chunks a copy (see `copy`).
 *
 * End of stream: a last line without ending follows `truncation` (default `'emit'`), then the
 * output completes. A source error is passed on at once.
 *
 * @throws InvalidArgumentError at creation for a bad option (`maxLength` not an integer >= 1 nor
 *   `Infinity`, a `truncation` not listed, `includeDelimiter` or `copy` not a boolean).
 * @example
 * ```ts
 * import { map } from 'rxjs';
 * import { decodeLines, type Connection } from 'rxnet';
 *
 * declare const connection: Connection;
 * connection.data$
 *   .pipe(decodeLines({ maxLength: 4096 }), map((line) => line.toString('utf8')))
 *   .subscribe((text) => console.log('>', text));
 * ```
 */
export function decodeLines(config: DecodeLinesOptions = {}): OperatorFunction<Buffer, Buffer> {
  return decodeFrames(lineFramer(config));
}

/** The framers of {@link decodeLines} (and `linesCodec`), `config` checked now: one per call. */
export function lineFramer(config: DecodeLinesOptions): () => DelimiterFramer {
  return delimiterFramer(LF, config, 'emit', true);
}

/** @deprecated The former name of {@link decodeLines}, kept so that code written for 0.1 compiles. */
export const lines = decodeLines;

/** @deprecated The former name of {@link DecodeLinesOptions}, kept so that code written for 0.1 compiles. */
export type LinesConfig = DecodeLinesOptions;
