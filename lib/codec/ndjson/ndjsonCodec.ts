// ndjsonCodec(): newline-delimited JSON as one Codec, with one line limit both ways.
import type { Codec } from '../Codec';
import type { Framer, Truncation } from '../../framing/Framer';
import { DEFAULT_MAX_LENGTH } from '../../framing/Framer';
import { checkLimit, checkOptions } from '../../util/validate';
import { ndjsonFramer, type MalformedLinePolicy } from './decodeNdjson';
import { ndjsonEncoder } from './encodeNdjson';

/**
 * Options of {@link ndjsonCodec}: those of `decodeNdjson` and `encodeNdjson`, one `maxLength` for
 * both directions.
 *
 * @example
 * ```ts
 * import { ndjsonCodec, type NdjsonCodecOptions } from 'rxnet';
 *
 * const options: NdjsonCodecOptions = { maxLength: 1 << 20, malformed: 'skip' };
 * const codec = ndjsonCodec<{ op: string }>(options);
 * ```
 */
export interface NdjsonCodecOptions {
  /**
   * Longest line, in bytes, line ending not counted, in both directions: a longer line read is a
   * `FrameTooLongError` (raised before its end arrives), and so is a value whose JSON is longer.
   * Default 65536 (64 KiB); `Infinity` turns the limit off.
   */
  readonly maxLength?: number;
  /**
   * A line read that is not valid JSON: `'error'` (default) raises `NdjsonParseError`, `'skip'`
   * drops it, a function is called with the error and the line is dropped.
   */
  readonly malformed?: MalformedLinePolicy;
  /**
   * A last line without `\n` when the bytes end: `'emit'` (default) parses it, `'error'` raises
   * `TruncatedFrameError`, `'discard'` drops it.
   */
  readonly truncation?: Truncation;
}

/**
 * Newline-delimited JSON (NDJSON / JSON Lines), both ways: the {@link Codec} of `decodeNdjson` and
 * `encodeNdjson`. Decodes each line (`\n` or `\r\n` ended, UTF-8; blank lines skipped) to the value
 * it holds, typed `In`; encodes each `Out` as one line of JSON and `\n`.
 *
 * ```
 * bytes:    -['{"a":1}\n[2]']-['\n']-|
 * decoded:  -{a:1}-------------[2]---|
 * encode({ ok: true }) → ['{"ok":true}\n']
 * ```
 *
 * The types are the caller's word: nothing checks that a decoded value is an `In`.
 *
 * Limits: one `maxLength` (default 64 KiB) both ways. Decoding, a line over it is a
 * `FrameTooLongError` before more than `maxLength + 1` bytes plus one chunk are held; a malformed
 * line follows `malformed`. Encoding, a value whose JSON is over it is a `FrameTooLongError` (where
 * `encodeNdjson` has no limit by default), one `JSON.stringify` cannot serialize an `EncodeError`.
 * End of stream: a last line without `\n` follows `truncation` (default: parsed).
 *
 * @throws InvalidArgumentError at creation for a bad option.
 * @example
 * ```ts
 * import { map } from 'rxjs';
 * import { decodeWith, encodeWith, listen, ndjsonCodec, sendTo, serveEach } from 'rxnet';
 *
 * interface Request { id: number; op: string }
 * interface Reply { id: number; ok: boolean }
 * const json = ndjsonCodec<Request, Reply>({ maxLength: 1 << 20 });
 * listen({ port: 8109 })
 *   .pipe(
 *     serveEach((conn) =>
 *       conn.data$.pipe(decodeWith(json), map(({ id, op }) => ({ id, ok: op === 'ping' })), encodeWith(json), sendTo(conn)),
 *     ),
 *   )
 *   .subscribe();
 * ```
 */
export function ndjsonCodec<In = unknown, Out = unknown>(options: NdjsonCodecOptions = {}): Codec<In, Out> {
  const { malformed, truncation } = checkOptions(options);
  const maxLength = checkLimit('maxLength', options.maxLength, DEFAULT_MAX_LENGTH);
  return {
    decoder: ndjsonFramer({ maxLength, malformed, truncation }) as () => Framer<In>,
    encode: ndjsonEncoder({ maxLength }),
  };
}
