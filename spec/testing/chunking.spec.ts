// Chunking policies: how a memory wire cuts what has arrived ('writes', 'merge', n bytes, a function), and that a framer
// downstream gets the same frames whatever the cut.
import fc from 'fast-check';
import { asyncScheduler, toArray } from 'rxjs';
import { InvalidArgumentError } from '../../lib/errors';
import { decodeLines } from '../../lib/framing/lines/decodeLines';
import { asText, connectionPair, createTestScheduler } from '../../lib/testing';
import { checkChunking, cutChunks } from '../../lib/testing/chunking';

const marbles = () => createTestScheduler({ assertDeepEqual: (actual, expected) => expect(actual).toEqual(expected) });
/** Runs `work` at `frame` of the current TestScheduler.run (asyncScheduler is virtual there). */
const at = (frame: number, work: () => void) => asyncScheduler.schedule(work, frame);

describe('cutChunks', () => {
  const bytes = Buffer.from('hello');
  const text = (pieces: Buffer[]) => pieces.map((p) => p.toString());

  it("keeps the bytes whole for 'writes' and 'merge'", () => {
    expect(cutChunks(bytes, 'writes')).toEqual([bytes]);
    expect(cutChunks(bytes, 'merge')).toEqual([bytes]);
  });

  it('cuts into pieces of at most n bytes, views of the bytes given', () => {
    expect(text(cutChunks(bytes, 2))).toEqual(['he', 'll', 'o']);
    expect(text(cutChunks(bytes, 1))).toEqual(['h', 'e', 'l', 'l', 'o']);
    expect(text(cutChunks(bytes, 5))).toEqual(['hello']);
    expect(text(cutChunks(bytes, 6))).toEqual(['hello']);
    expect(cutChunks(bytes, 2)[0].buffer).toBe(bytes.buffer);
  });

  it("leaves out a function's empty pieces and rejects pieces that are not the bytes given", () => {
    expect(text(cutChunks(bytes, (b) => [b.subarray(0, 0), b.subarray(0, 2), Buffer.alloc(0), b.subarray(2)]))).toEqual(
      ['he', 'llo'],
    );
    expect(() => cutChunks(bytes, () => [Buffer.from('hellO')])).toThrow(InvalidArgumentError);
    expect(() => cutChunks(bytes, (b) => [b.subarray(0, 4)])).toThrow(
      expect.objectContaining({ code: 'ERR_INVALID_ARGUMENT', argument: 'chunking' }),
    );
  });
});

describe('checkChunking', () => {
  it('takes the named policies, functions and integers from 1, and rejects other numbers', () => {
    const cut = (b: Buffer) => [b];
    expect([checkChunking('writes'), checkChunking('merge'), checkChunking(cut), checkChunking(1)]).toEqual([
      'writes',
      'merge',
      cut,
      1,
    ]);
    expect(() => checkChunking(0)).toThrow(InvalidArgumentError);
    expect(() => checkChunking(1.5)).toThrow(InvalidArgumentError);
  });
});

describe('chunking on a connection pair', () => {
  it('cuts what arrived into n-byte chunks with chunking: n', () => {
    marbles().run(({ expectObservable }) => {
      const [client, server] = connectionPair({ chunking: 2 });
      at(1, () => client.end('hello'));
      expectObservable(server.data$).toBe('-(abc|)', { a: 'he', b: 'll', c: 'o' });
    });
  });

  it("merges the writes of a frame into one chunk with chunking: 'merge'", () => {
    marbles().run(({ expectObservable }) => {
      const [client, server] = connectionPair({ chunking: 'merge' });
      at(1, () => {
        client.write('a');
        client.write('b');
      });
      at(2, () => client.write('c'));
      expectObservable(server.data$, '^--!').toBe('-xy', { x: 'ab', y: 'c' });
    });
  });

  it('cuts with a chunking function, and rejects chunks that do not add up', () => {
    marbles().run(({ expectObservable }) => {
      const [client, server] = connectionPair({ chunking: (b) => [b.subarray(0, 1), b.subarray(1)] });
      at(1, () => client.write('abc'));
      expectObservable(server.data$, '^-!').toBe('-(xy)', { x: 'a', y: 'bc' });
    });
    expect(() =>
      marbles().run(() => {
        const [client, server] = connectionPair({ chunking: () => [Buffer.from('x')] });
        server.data$.subscribe();
        client.write('abc');
      }),
    ).toThrow(InvalidArgumentError);
  });

  it('gives a framer the same frames whatever chunking and latency the wire applies', () => {
    const text = fc.array(fc.constantFrom('a', 'b', '\n', 'é'), { maxLength: 30 }).map((a) => a.join(''));
    const chunking = fc.oneof(fc.constantFrom<'writes' | 'merge'>('writes', 'merge'), fc.integer({ min: 1, max: 7 }));
    fc.assert(
      fc.property(fc.array(text, { maxLength: 8 }), chunking, fc.nat(3), (writes, cut, latency) => {
        const expected = writes.join('').split('\n');
        let got: string[] = [];
        marbles().run(() => {
          const [client, server] = connectionPair({ chunking: cut, latency });
          writes.forEach((w, i) => at(i, () => client.write(w)));
          at(writes.length, () => client.end());
          server.data$.pipe(decodeLines(), asText(), toArray()).subscribe((l) => (got = l));
        });
        // decodeLines() emits a last line without ending; an empty last piece is no line.
        if (expected[expected.length - 1] === '') expected.pop();
        expect(got).toEqual(expected);
      }),
      { numRuns: 200 },
    );
  });
});
