// encodeNdjson(): values to newline-delimited JSON.
import { Buffer } from 'buffer';
import { map, type OperatorFunction } from 'rxjs';
import { EncodeError, FrameTooLongError } from '../../errors';
import { FRAMES } from '../../util/FrameSlab';
import { checkLimit, checkOptions } from '../../util/validate';

/**
 * Options of {@link encodeNdjson}.
 *
 * @example
 * ```ts
 * import { of } from 'rxjs';
 * import { encodeNdjson, type EncodeNdjsonOptions } from 'rxnet';
 *
 * const config: EncodeNdjsonOptions = { maxLength: 64 * 1024 }; // what the peer's decodeNdjson accepts
 * of({ op: 'ping' }).pipe(encodeNdjson(config)).subscribe(); // <{"op":"ping"}\n>
 * ```
 */
export interface EncodeNdjsonOptions {
  /** Longest line allowed, in bytes, `\n` not counted; longer is a `FrameTooLongError`. Default: no limit. */
  readonly maxLength?: number;
}

/**
 * Serializes each value as one line of JSON followed by `\n`: the encoder matching
 * {@link decodeNdjson}. `JSON.stringify` never writes a raw newline, so every value is one line.
 *
 * ```
 * source:  -{a:1}-'x'-|
 * output:  -'{"a":1}\n'-'"x"\n'-|      (UTF-8 Buffers)
 * ```
 *
 * Limits: a value `JSON.stringify` cannot serialize (undefined, a function, a symbol, a BigInt,
 * a cycle) is an `EncodeError`; a line over `maxLength` bytes is a `FrameTooLongError`.
 *
 * Memory: outputs of 512 B to 4 KiB are cut end to end from a 64 KiB slab shared by rxnet's encoders (as
 * Node cuts smaller Buffers from its 8 KiB pool), so the replies to one chunk go out as one write; a frame
 * kept keeps its slab alive, so copy one kept for long (`Buffer.from(frame)`).
 *
 * End of stream: completes when the source completes.
 *
 * @example
 * ```ts
 * import { of } from 'rxjs';
 * import { encodeNdjson } from 'rxnet';
 *
 * of({ type: 'hello' }).pipe(encodeNdjson()).subscribe((b) => process.stdout.write(b)); // {"type":"hello"}
 * ```
 */
export function encodeNdjson(config: EncodeNdjsonOptions = {}): OperatorFunction<unknown, Buffer> {
  return map(ndjsonEncoder(config));
}

/**
 * The encoding of one value by {@link encodeNdjson} (and `ndjsonCodec`), `config` checked now: its JSON and
 * `\n` in one fresh UTF-8 Buffer.
 */
export function ndjsonEncoder(config: EncodeNdjsonOptions): (value: unknown) => Buffer {
  const maxLength = checkLimit('maxLength', checkOptions(config).maxLength, Infinity);
  return (value) => {
    let json: string | undefined;
    try {
      json = JSON.stringify(value);
    } catch (cause) {
      throw new EncodeError(`value is not serializable as JSON: ${(cause as Error).message}`);
    }
    if (json === undefined) throw new EncodeError(`${typeof value} is not serializable as JSON`);
    const out = FRAMES.encode(json, 0, 1);
    const length = out.length - 1;
    if (length > maxLength) throw new FrameTooLongError(maxLength, length);
    out[length] = 0x0a;
    return out;
  };
}

/** @deprecated The former name of {@link EncodeNdjsonOptions}, kept so that code written for 0.1 compiles. */
export type EncodeNdjsonConfig = EncodeNdjsonOptions;
