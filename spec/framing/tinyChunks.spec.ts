// The chunking law over tiny pieces: merged chunks give the frames one chunk gives, views stay intact and where the cut record says.
import fc from 'fast-check';
import { Observable, from, type OperatorFunction } from 'rxjs';
import type { Truncation } from '../../lib/framing/Framer';
import { asFrameCutSource, type FrameCutSource } from '../../lib/util/FrameCut';
import { decodeDelimited } from '../../lib/framing/delimited/decodeDelimited';
import { decodeFixedLength } from '../../lib/framing/fixedLength/decodeFixedLength';
import { decodeLengthField } from '../../lib/framing/lengthField/decodeLengthField';
import { decodeLines } from '../../lib/framing/lines/decodeLines';
import { outcome, ownCopy, tinyChunkingsOf, type Run } from '../support/framing';

/**
 * Runs `op` over `chunks` and checks each frame as it is emitted: a frame recorded as the last cut
 * lies where the record the operator hands its source says (a connection's write batch relies on
 * it), and with `copy` no frame shares memory with a chunk. The frames are compared only after the last chunk, so that bytes of a handed-out
 * view overwritten by a later merge would show.
 */
function runChecked(op: OperatorFunction<Buffer, Buffer>, chunks: Buffer[], copy: boolean): Run<Buffer> {
  const result: Run<Buffer> = { values: [], completed: false };
  const chunkMemory = new Set(chunks.map((c) => c.buffer));
  const problems: string[] = [];
  // As a connection's data$ does: it sees the operator's subscriber, and so its cut record.
  let source: FrameCutSource | undefined;
  new Observable<Buffer>((subscriber) => {
    source = asFrameCutSource(subscriber);
    return from(chunks).subscribe(subscriber);
  })
    .pipe(op)
    .subscribe({
      next: (frame) => {
        const cut = source?.frameCut;
        if (cut !== undefined && cut.view === frame) {
          const { chunk, start, end } = cut;
          if (
            chunk?.buffer !== frame.buffer ||
            chunk.byteOffset + start !== frame.byteOffset ||
            end - start !== frame.length
          ) {
            problems.push(`frame ${result.values.length} is not where its cut record says`);
          }
        }
        if (copy && chunkMemory.has(frame.buffer))
          problems.push(`frame ${result.values.length} shares a chunk's memory`);
        result.values.push(frame);
      },
      error: (e) => (result.error = e),
      complete: () => (result.completed = true),
    });
  expect(source).toBeDefined();
  expect(problems).toEqual([]);
  return result;
}

/** Same outcome (frames, error name) over the tiny chunks as over the whole input in one chunk. */
function expectSameAsOneChunk(
  makeOp: () => OperatorFunction<Buffer, Buffer>,
  bytes: Buffer,
  chunks: Buffer[],
  copy: boolean,
) {
  const whole = runChecked(makeOp(), [ownCopy(bytes)], copy);
  const tiny = runChecked(makeOp(), chunks, copy);
  expect(outcome(tiny)).toEqual(outcome(whole));
}

/** Lengths that are mostly small, sometimes around and past the merge threshold. */
const pieceLength = fc.oneof(
  { weight: 4, arbitrary: fc.nat({ max: 20 }) },
  { weight: 1, arbitrary: fc.nat({ max: 1500 }) },
);

/** Bytes over a small alphabet (so that delimiters and `\r` land everywhere), in runs of `pieceLength`. */
const textBytes = (alphabet: string) =>
  fc
    .array(
      fc.tuple(pieceLength, fc.constantFrom(...alphabet)).map(([n, c]) => c.repeat(n)),
      { maxLength: 12 },
    )
    .chain((runs) =>
      fc.array(fc.constantFrom(...alphabet), { maxLength: 12 }).map((singles) => {
        // Interleaves long runs with single characters.
        let text = '';
        for (let i = 0; i < Math.max(runs.length, singles.length); i++) text += (runs[i] ?? '') + (singles[i] ?? '');
        return Buffer.from(text, 'latin1');
      }),
    );

const withChunkings = (bytes: fc.Arbitrary<Buffer>) =>
  bytes.chain((b) => fc.record({ bytes: fc.constant(b), chunks: tinyChunkingsOf(b) }));

const truncations = fc.constantFrom<Truncation>('error', 'emit', 'discard');
const limit = (max: number) => fc.oneof(fc.constant(Infinity), fc.integer({ min: 1, max }));

describe('framing over tiny chunks (one byte, empty, random, mixed with large ones)', () => {
  it('lines() gives the frames it gives over one chunk', () => {
    fc.assert(
      fc.property(
        withChunkings(textBytes('ab\r\n')),
        limit(1600),
        truncations,
        fc.boolean(),
        fc.boolean(),
        ({ bytes, chunks }, maxLength, truncation, includeDelimiter, copy) => {
          expectSameAsOneChunk(
            () => decodeLines({ maxLength, truncation, includeDelimiter, copy }),
            bytes,
            chunks,
            copy,
          );
        },
      ),
      { numRuns: 150 },
    );
  });

  it('delimited() gives the frames it gives over one chunk, for one- and multi-byte delimiters', () => {
    fc.assert(
      fc.property(
        withChunkings(textBytes('ab|')),
        fc.constantFrom('|', '||', 'b|a'),
        limit(1600),
        truncations,
        fc.boolean(),
        fc.boolean(),
        ({ bytes, chunks }, delimiter, maxLength, truncation, includeDelimiter, copy) => {
          expectSameAsOneChunk(
            () => decodeDelimited(delimiter, { maxLength, truncation, includeDelimiter, copy }),
            bytes,
            chunks,
            copy,
          );
        },
      ),
      { numRuns: 150 },
    );
  });

  it('lengthField() gives the frames it gives over one chunk', () => {
    const frame = pieceLength.map((n) => {
      const bytes = Buffer.alloc(2 + n);
      bytes.writeUInt16BE(n);
      for (let i = 2; i < bytes.length; i++) bytes[i] = i & 0xff;
      return bytes;
    });
    const input = fc
      .tuple(fc.array(frame, { maxLength: 8 }), fc.nat({ max: 3 }))
      // Sometimes cut short, to reach the end of stream inside a frame.
      .map(([frames, cut]) => {
        const all = Buffer.concat(frames);
        return all.subarray(0, Math.max(0, all.length - cut));
      });
    fc.assert(
      fc.property(
        withChunkings(input),
        fc.integer({ min: 2, max: 1600 }),
        fc.constantFrom(0, 2),
        fc.boolean(),
        fc.constantFrom<'error' | 'discard'>('error', 'discard'),
        fc.boolean(),
        ({ bytes, chunks }, maxFrameLength, initialBytesToStrip, failFast, truncation, copy) => {
          expectSameAsOneChunk(
            () =>
              decodeLengthField({
                lengthFieldLength: 2,
                maxFrameLength,
                initialBytesToStrip,
                failFast,
                truncation,
                copy,
              }),
            bytes,
            chunks,
            copy,
          );
        },
      ),
      { numRuns: 150 },
    );
  });

  it('fixedLength() gives the frames it gives over one chunk', () => {
    const input = fc.uint8Array({ maxLength: 4000, size: 'max' }).map((a) => Buffer.from(a));
    fc.assert(
      fc.property(
        withChunkings(input),
        fc.oneof(fc.integer({ min: 1, max: 8 }), fc.integer({ min: 9, max: 1500 })),
        truncations,
        fc.boolean(),
        ({ bytes, chunks }, frameLength, truncation, copy) => {
          expectSameAsOneChunk(() => decodeFixedLength(frameLength, { truncation, copy }), bytes, chunks, copy);
        },
      ),
      { numRuns: 150 },
    );
  });
});
