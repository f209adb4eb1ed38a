// ndjsonCodec(): decodes as decodeNdjson and encodes as encodeNdjson, with one line limit both ways.
import fc from 'fast-check';
import { Subject } from 'rxjs';
import { decodeWith } from '../../../lib/codec/Codec';
import { decodeNdjson, type MalformedLinePolicy } from '../../../lib/codec/ndjson/decodeNdjson';
import { encodeNdjson } from '../../../lib/codec/ndjson/encodeNdjson';
import { ndjsonCodec } from '../../../lib/codec/ndjson/ndjsonCodec';
import { EncodeError, FrameTooLongError, type NdjsonParseError } from '../../../lib/errors';
import type { Truncation } from '../../../lib/framing/Framer';
import { chunkingFree, decodeData, encodeAll, encodeData, runData } from '../../support/codecs';
import { chunkingsOf, errorData, expectInvalidArgument } from '../../support/framing';

/** NDJSON text with blank lines, malformed lines, both endings and maybe no last ending. */
const ndjsonBytes = fc
  .tuple(
    fc.array(
      fc.oneof(
        { weight: 4, arbitrary: fc.jsonValue({ maxDepth: 2 }).map((v) => JSON.stringify(v)) },
        { weight: 1, arbitrary: fc.constantFrom('', '  ', '{oops', 'é', '[1,') },
      ),
      { maxLength: 12 },
    ),
    fc.constantFrom('\n', '\r\n'),
    fc.boolean(),
  )
  .map(([lines, ending, last]) => Buffer.from(lines.join(ending) + (last ? ending : '')));

describe('ndjsonCodec', () => {
  it('decodes exactly what decodeNdjson decodes, however the bytes are chunked', () => {
    fc.assert(
      fc.property(
        ndjsonBytes.chain((bytes) => fc.tuple(fc.constant(bytes), chunkingsOf(bytes))),
        fc.option(fc.integer({ min: 0, max: 40 }), { nil: undefined }),
        fc.constantFrom<'error' | 'skip' | 'report'>('error', 'skip', 'report'),
        fc.option(fc.constantFrom<Truncation>('error', 'emit', 'discard'), { nil: undefined }),
        ([bytes, chunks], maxLength, policy, truncation) => {
          const reported: number[][] = [[], []];
          const options = (i: number) => {
            const malformed: MalformedLinePolicy =
              policy === 'report' ? (e: NdjsonParseError) => void reported[i].push(e.lineNumber) : policy;
            return { maxLength, malformed, truncation };
          };
          const decoded = decodeData(ndjsonCodec(options(0)), chunks);
          expect(decoded).toEqual(runData(decodeNdjson(options(1)), chunks));
          expect(reported[0]).toEqual(reported[1]);
          expect(chunkingFree(decoded)).toEqual(chunkingFree(runData(decodeNdjson(options(1)), [bytes])));
        },
      ),
      { numRuns: 500 },
    );
  });

  it('encodes exactly what encodeNdjson encodes, refusals included', () => {
    const value = fc.oneof(
      { weight: 5, arbitrary: fc.jsonValue({ maxDepth: 2 }) },
      { weight: 1, arbitrary: fc.constantFrom<unknown>(undefined, () => 1, Symbol('s'), 1n) },
    );
    fc.assert(
      fc.property(
        fc.array(value, { maxLength: 10 }),
        fc.option(fc.integer({ min: 0, max: 60 }), { nil: undefined }),
        (values, maxLength) => {
          expect(encodeData(ndjsonCodec({ maxLength }), values)).toEqual(
            runData(encodeNdjson({ maxLength: maxLength ?? 65536 }), values),
          );
        },
      ),
      { numRuns: 300 },
    );
  });

  it('decodes what it encoded, however the bytes are chunked', () => {
    fc.assert(
      fc.property(fc.array(fc.jsonValue(), { maxLength: 10 }), (values) => {
        const codec = ndjsonCodec();
        const bytes = encodeAll(codec, values);
        fc.assert(
          fc.property(chunkingsOf(bytes), (chunks) => {
            expect(decodeData(codec, chunks)).toEqual({
              values: values.map((v) => JSON.parse(JSON.stringify(v)) as unknown),
              completed: true,
            });
          }),
          { numRuns: 5 },
        );
      }),
      { numRuns: 200 },
    );
  });

  it('emits FrameTooLongError once a line is over maxLength, before its end comes', () => {
    const source = new Subject<Buffer>();
    let error: unknown;
    source.pipe(decodeWith(ndjsonCodec({ maxLength: 8 }))).subscribe({ error: (e) => (error = e) });
    source.next(Buffer.from('{"a":1}\n{"b":'));
    expect(error).toBeUndefined();
    source.next(Buffer.from('1234'));
    expect(errorData(error)).toEqual({ name: 'FrameTooLongError', code: 'ERR_FRAME_TOO_LONG', limit: 8, length: 9 });
    expect(source.observed).toBe(false);
  });

  it('refuses to encode a value whose JSON is over maxLength, 64 KiB by default, and one JSON cannot hold', () => {
    const big = 'x'.repeat(65535); // "xxx…" with its quotes: 65537 bytes
    expect(() => ndjsonCodec().encode(big)).toThrow(new FrameTooLongError(65536, 65537));
    expect(ndjsonCodec({ maxLength: Infinity }).encode(big)).toHaveLength(65538);
    expect(() => ndjsonCodec({ maxLength: 4 }).encode({ a: 1 })).toThrow(new FrameTooLongError(4, 7));
    expect(() => ndjsonCodec().encode(undefined)).toThrow(EncodeError);
  });

  it('types its two directions apart', () => {
    const codec = ndjsonCodec<{ id: number }, { ok: boolean }>();
    const reply: Uint8Array = codec.encode({ ok: true }) as Uint8Array;
    expect(Buffer.from(reply).toString()).toBe('{"ok":true}\n');
  });

  it('throws InvalidArgumentError at creation for a bad option', () => {
    expectInvalidArgument(() => ndjsonCodec(null as never), 'config');
    expectInvalidArgument(() => ndjsonCodec({ maxLength: -1 }), 'maxLength');
    expectInvalidArgument(() => ndjsonCodec({ maxLength: 1.5 }), 'maxLength');
    expectInvalidArgument(() => ndjsonCodec({ malformed: 'ignore' as never }), 'malformed');
    expectInvalidArgument(() => ndjsonCodec({ truncation: 'keep' as never }), 'truncation');
  });
});
