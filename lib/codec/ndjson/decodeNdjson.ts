// decodeNdjson(): newline-delimited JSON to values, with a per-line limit and a choice for malformed lines.
import { Buffer } from 'buffer';
import type { OperatorFunction } from 'rxjs';
import { InvalidArgumentError, NdjsonParseError } from '../../errors';
import type { FrameCut } from '../../util/FrameCut';
import { DelimiterFramer } from '../../framing/delimited/DelimiterFramer';
import { DEFAULT_MAX_LENGTH, type Framer, type Truncation } from '../../framing/Framer';
import { decodeFrames } from '../../framing/decodeFrames';
import { checkLimit, checkOptions, checkTruncation } from '../../util/validate';

const LF = Buffer.from('\n');

/**
 * What {@link decodeNdjson} does with a line that is not valid JSON.
 *
 * @example
 * ```ts
 * import { decodeNdjson, type MalformedLinePolicy } from 'rxnet';
 *
 * let bad = 0;
 * const countAndSkip: MalformedLinePolicy = () => void bad++;
 * const decode = decodeNdjson({ malformed: countAndSkip });
 * ```
 */
export type MalformedLinePolicy = 'error' | 'skip' | ((error: NdjsonParseError) => void);

/**
 * Options of {@link decodeNdjson}.
 *
 * @example
 * ```ts
 * import { decodeNdjson, type Connection, type DecodeNdjsonOptions } from 'rxnet';
 *
 * declare const conn: Connection;
 * const config: DecodeNdjsonOptions = { maxLength: 1024 * 1024, malformed: 'skip', truncation: 'discard' };
 * conn.data$.pipe(decodeNdjson<{ op: string }>(config)).subscribe((msg) => console.log(msg.op));
 * ```
 */
export interface DecodeNdjsonOptions {
  /** Longest line allowed, in bytes, line ending not counted. Default 65536 (64 KiB). */
  readonly maxLength?: number;
  /**
   * A malformed line: `'error'` (default) ends the stream with `NdjsonParseError` (line number and
   * reason); `'skip'` drops it; a function is called with the error and the line is dropped (a
   * throw from it becomes the error notification).
   */
  readonly malformed?: MalformedLinePolicy;
  /**
   * A last line without `\n` when the source completes: `'emit'` (default) parses it,
   * `'error'` raises `TruncatedFrameError`, `'discard'` drops it.
   */
  readonly truncation?: Truncation;
}

/** Lines in, parsed values out; blank lines are skipped but counted. */
class NdjsonFramer implements Framer<unknown> {
  private readonly lines: DelimiterFramer;
  private lineNumber = 0;

  constructor(
    maxLength: number,
    truncation: Truncation,
    private readonly malformed: MalformedLinePolicy,
  ) {
    this.lines = new DelimiterFramer({
      delimiter: LF,
      maxLength,
      includeDelimiter: false,
      truncation,
      stripCarriageReturn: true,
    });
  }

  /** Bytes held toward the next line. */
  get buffered(): number {
    return this.lines.buffered;
  }

  /** The line framer's record, so that the operator clears it after each chunk (it would keep that chunk). */
  get frameCut(): FrameCut | undefined {
    return this.lines.frameCut;
  }

  push(chunk: Buffer): void {
    this.lines.push(chunk);
  }

  read(): unknown {
    let text: string | undefined;
    // Each line is decoded where it lies: only its value is kept, so no view of it is made.
    while ((text = this.lines.readText('utf8')) !== undefined) {
      this.lineNumber++;
      if (text.length === 0) continue;
      try {
        // JSON.parse never returns undefined, so undefined stays free to mean "no value yet".
        return JSON.parse(text) as unknown;
      } catch (cause) {
        if (text.trim().length === 0) continue;
        const error = new NdjsonParseError(this.lineNumber, (cause as Error).message);
        if (this.malformed === 'error') throw error;
        if (this.malformed !== 'skip') this.malformed(error);
      }
    }
    return undefined;
  }

  end(): void {
    this.lines.end();
  }

  clear(): void {
    this.lines.clear();
  }
}

/**
 * Parses newline-delimited JSON (NDJSON / JSON Lines): one JSON value per line, `\n` or `\r\n`
 * ended, UTF-8. Blank lines are skipped (and counted in line numbers).
 *
 * ```
 * source:  -['{"a":1}\n[2]']-['\n\n"x"\n']-[oops\n]-|
 * output:  -{a:1}-------------([2],'x')----#              NdjsonParseError { lineNumber: 5 }
 * ```
 *
 * Limits: a line over `maxLength` bytes is a `FrameTooLongError`, raised before more than
 * `maxLength + 1` bytes plus one chunk are held. A malformed line follows `malformed`.
 *
 * End of stream: a last line without `\n` follows `truncation` (default: parsed), then the output
 * completes.
 *
 * @throws InvalidArgumentError at creation for a bad option.
 * @example
 * ```ts
 * import { decodeNdjson, type Connection } from 'rxnet';
 *
 * interface Event { type: string }
 * declare const connection: Connection;
 * connection.data$
 *   .pipe(decodeNdjson<Event>({ maxLength: 1 << 20, malformed: (e) => console.warn(e.message) }))
 *   .subscribe((event) => console.log(event.type));
 * ```
 */
export function decodeNdjson<T = unknown>(config: DecodeNdjsonOptions = {}): OperatorFunction<Buffer, T> {
  return decodeFrames(ndjsonFramer(config)) as OperatorFunction<Buffer, T>;
}

/** The framers of {@link decodeNdjson} (and `ndjsonCodec`), `config` checked now: one per call. */
export function ndjsonFramer(config: DecodeNdjsonOptions): () => Framer<unknown> {
  const maxLength = checkLimit('maxLength', checkOptions(config).maxLength, DEFAULT_MAX_LENGTH);
  const truncation = checkTruncation(config.truncation, ['error', 'emit', 'discard'], 'emit');
  const malformed = config.malformed ?? 'error';
  if (malformed !== 'error' && malformed !== 'skip' && typeof malformed !== 'function') {
    throw new InvalidArgumentError('malformed', `expected 'error', 'skip' or a function, got ${String(malformed)}`);
  }
  return () => new NdjsonFramer(maxLength, truncation, malformed);
}

/** @deprecated The former name of {@link DecodeNdjsonOptions}, kept so that code written for 0.1 compiles. */
export type DecodeNdjsonConfig = DecodeNdjsonOptions;
