// Codec: decodeWith runs a fresh decoder per subscription and obeys the chunking law; encodeWith encodes in order and fails typed.
import fc from 'fast-check';
import { Subject, from, lastValueFrom, toArray } from 'rxjs';
import { decodeWith, encodeWith, type Codec } from '../../lib/codec/Codec';
import { EncodeError, FrameTooLongError, InvalidArgumentError } from '../../lib/errors';
import type { Framer } from '../../lib/framing/Framer';
import { chunkingsOf } from '../support/framing';

/** Decimal numbers, one per line, at most 8 digits: a codec small enough to read at a glance. */
const numbers: Codec<number, number> = {
  decoder: (): Framer<number> => {
    let held = '';
    return {
      push: (chunk) => {
        held += chunk.toString('latin1');
      },
      read: () => {
        const end = held.indexOf('\n');
        if (end < 0) {
          if (held.length > 8) throw new FrameTooLongError(8, held.length);
          return undefined;
        }
        const value = Number(held.slice(0, end));
        held = held.slice(end + 1);
        return value;
      },
      end: () => undefined,
      clear: () => {
        held = '';
      },
    };
  },
  encode: (n) => {
    if (!Number.isInteger(n) || n < 0) throw new EncodeError(`${n} is not a natural number`);
    return `${n}\n`;
  },
};

describe('decodeWith / encodeWith', () => {
  it('decodes the same messages however the bytes are chunked (the chunking law)', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.array(fc.nat({ max: 99_999_999 }), { maxLength: 30 }).chain((values) => {
          const bytes = Buffer.from(values.map((v) => `${v}\n`).join(''));
          return fc.tuple(fc.constant(values), chunkingsOf(bytes));
        }),
        async ([values, chunks]) => {
          const decoded = await lastValueFrom(from(chunks).pipe(decodeWith(numbers), toArray()));
          expect(decoded).toEqual(values);
        },
      ),
    );
  });

  it('round-trips: what encodeWith writes, decodeWith reads back', async () => {
    const values = [0, 1, 42, 12345678];
    const bytes = await lastValueFrom(from(values).pipe(encodeWith(numbers), toArray()));
    const decoded = await lastValueFrom(from(bytes.map((b) => Buffer.from(b))).pipe(decodeWith(numbers), toArray()));
    expect(decoded).toEqual(values);
  });

  it('gives each subscription a decoder of its own', () => {
    const source = new Subject<Buffer>();
    const decoded = source.pipe(decodeWith(numbers));
    const a: number[] = [];
    const b: number[] = [];
    decoded.subscribe((n) => a.push(n));
    source.next(Buffer.from('1'));
    decoded.subscribe((n) => b.push(n));
    source.next(Buffer.from('2\n3\n'));
    expect(a).toEqual([12, 3]);
    expect(b).toEqual([2, 3]);
  });

  it("passes the decoder's typed error on and stops reading", () => {
    const source = new Subject<Buffer>();
    let error: unknown;
    source.pipe(decodeWith(numbers)).subscribe({ error: (e) => (error = e) });
    source.next(Buffer.from('123456789'));
    expect(error).toBeInstanceOf(FrameTooLongError);
    expect(source.observed).toBe(false);
  });

  it('errors with what encode throws and unsubscribes the source', () => {
    const source = new Subject<number>();
    const out: unknown[] = [];
    let error: unknown;
    source.pipe(encodeWith(numbers)).subscribe({ next: (b) => out.push(b), error: (e) => (error = e) });
    source.next(7);
    source.next(-1);
    expect(out).toEqual(['7\n']);
    expect(error).toBeInstanceOf(EncodeError);
    expect(source.observed).toBe(false);
  });

  it.each([null, {}, { decoder: () => undefined }, { encode: () => '' }])(
    'throws InvalidArgumentError for %j, when the operator is made',
    (bad) => {
      expect(() => decodeWith(bad as never)).toThrow(InvalidArgumentError);
      expect(() => encodeWith(bad as never)).toThrow(InvalidArgumentError);
    },
  );
});
