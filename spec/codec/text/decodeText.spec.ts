// decodeText(): text that never breaks a character across chunks, for every encoding setEncoding accepts.
import fc from 'fast-check';
import { InvalidArgumentError } from '../../../lib/errors';
import { decodeText } from '../../../lib/codec/text/decodeText';
import { bufferValues, chunkingsOf, marbles, run } from '../../support/framing';
import { behavesAsOperator } from '../../support/operatorContract';

const ENCODINGS: BufferEncoding[] = [
  'utf8',
  'utf-8',
  'utf16le',
  'utf-16le',
  'ucs2',
  'ucs-2',
  'latin1',
  'binary',
  'ascii',
  'base64',
  'base64url',
  'hex',
];

describe('decodeText', () => {
  behavesAsOperator(() => decodeText(), Buffer.from('abc'));

  it('holds back a UTF-8 character split across chunks until it is complete', () => {
    const e = Buffer.from('é'); // c3 a9
    const result = run(decodeText('utf8'), [Buffer.from([0x61, e[0]]), Buffer.from([e[1], 0x62])]);
    expect(result.values).toEqual(['a', 'éb']);
  });

  it('holds back a four-byte character sent one byte per chunk and emits no empty strings', () => {
    const result = run(
      decodeText(),
      [...Buffer.from('😀')].map((b) => Buffer.from([b])),
    );
    expect(result.values).toEqual(['😀']);
  });

  it('keeps a UTF-16 surrogate pair together across chunks', () => {
    const bytes = Buffer.from('a😀', 'utf16le');
    expect(
      run(decodeText('utf16le'), [bytes.subarray(0, 3), bytes.subarray(3, 5), bytes.subarray(5)]).values.join(''),
    ).toBe('a😀');
  });

  it('emits U+FFFD for an incomplete last character, as a socket with setEncoding does', () => {
    const result = run(decodeText(), [Buffer.from([0x61, 0xe2, 0x82])]);
    expect(result.values).toEqual(['a', '\ufffd']);
    expect(result.completed).toBe(true);
  });

  it.each(ENCODINGS)(
    'concatenates to exactly what decoding all %s bytes at once gives, however they are chunked',
    (encoding) => {
      fc.assert(
        fc.property(
          fc
            .oneof(
              fc.string({ unit: 'binary', maxLength: 40 }).map((s) => Buffer.from(s, 'utf8')),
              fc.uint8Array({ maxLength: 60 }).map((a) => Buffer.from(a)),
            )
            .chain((bytes) => fc.tuple(fc.constant(bytes), chunkingsOf(bytes))),
          ([bytes, chunks]) => {
            const result = run(decodeText(encoding), chunks);
            expect(result.values.join('')).toBe(bytes.toString(encoding));
            expect(result.values).not.toContain('');
          },
        ),
        { numRuns: 200 },
      );
    },
  );

  it('refuses an encoding Node does not know when created', () => {
    expect(() => decodeText('utf7' as BufferEncoding)).toThrow(InvalidArgumentError);
  });

  describe('in marbles', () => {
    it('emits text as characters complete and the replacement for a broken tail at completion', () => {
      marbles().run(({ cold, expectObservable }) => {
        const v = bufferValues({ a: [0x61, 0xc3], b: [0xa9], c: [0xc3] });
        expectObservable(cold('-a-b-c-|', v).pipe(decodeText())).toBe('-x-y---(z|)', { x: 'a', y: 'é', z: '\ufffd' });
      });
    });

    it('passes a source error on', () => {
      marbles().run(({ cold, expectObservable }) => {
        expectObservable(cold('-a-#', bufferValues({ a: 'hi' })).pipe(decodeText())).toBe('-x-#', { x: 'hi' });
      });
    });
  });
});
