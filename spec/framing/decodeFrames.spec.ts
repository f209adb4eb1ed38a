// decodeFrames(): a pull framer as an operator: one framer per subscription made at the first chunk, read to its
// last frame at the end, released on unsubscribe; its cut record offered while a chunk's frames are handed on.
// The operator contract over it: spec/util/operatorContract.spec.ts.
import { Observable, Subject, take } from 'rxjs';
import type { Subscriber } from 'rxjs';
import type { Framer } from '../../lib/framing/Framer';
import { decodeFrames } from '../../lib/framing/decodeFrames';
import { FrameCut, asFrameCutSource } from '../../lib/util/FrameCut';
import type { FrameCutSource } from '../../lib/util/FrameCut';
import { run } from '../support/framing';

/** A framer of single bytes that logs what it is asked, and keeps a cut record. */
class ByteFramer implements Framer<string> {
  readonly frameCut = new FrameCut();
  private held: Buffer[] = [];
  private chunk: Buffer | undefined;
  private at = 0;

  constructor(readonly log: string[]) {
    log.push('made');
  }

  push(chunk: Buffer): void {
    this.log.push(`push ${chunk}`);
    this.held.push(chunk);
  }

  read(): string | undefined {
    while (this.chunk === undefined || this.at >= this.chunk.length) {
      this.chunk = this.held.shift();
      this.at = 0;
      if (this.chunk === undefined) return undefined;
    }
    const at = this.at++;
    this.frameCut.note(this.chunk.subarray(at, at + 1), this.chunk, at, at + 1);
    return String.fromCharCode(this.chunk[at]);
  }

  end(): void {
    this.log.push('end');
    this.held.push(Buffer.from('$'));
  }

  clear(): void {
    this.log.push('clear');
    this.held = [];
  }
}

describe('decodeFrames', () => {
  it('pushes each chunk and emits every frame the framer has, in order; at the end, the frames end() gave', () => {
    const log: string[] = [];
    const result = run(
      decodeFrames(() => new ByteFramer(log)),
      [Buffer.from('ab'), Buffer.from('c')],
    );
    expect(result).toEqual({ values: ['a', 'b', 'c', '$'], completed: true });
    expect(log).toEqual(['made', 'push ab', 'push c', 'end', 'clear']);
  });

  it('makes the framer at the first chunk, one per subscription', () => {
    const log: string[] = [];
    const input = new Subject<Buffer>();
    const framed = input.pipe(decodeFrames(() => new ByteFramer(log)));
    const a = framed.subscribe();
    const b = framed.subscribe();
    expect(log).toEqual([]);
    input.next(Buffer.from('x'));
    expect(log).toEqual(['made', 'push x', 'made', 'push x']);
    a.unsubscribe();
    b.unsubscribe();
  });

  it("makes the framer at the end when no chunk came, so that end()'s frames are emitted", () => {
    const log: string[] = [];
    expect(
      run(
        decodeFrames(() => new ByteFramer(log)),
        [],
      ),
    ).toEqual({ values: ['$'], completed: true });
    expect(log[0]).toBe('made');
  });

  it('clears the framer when unsubscribed, and ignores what the source sends after', () => {
    const log: string[] = [];
    const input = new Subject<Buffer>();
    const values: string[] = [];
    const subscription = input.pipe(decodeFrames(() => new ByteFramer(log))).subscribe((v) => values.push(v));
    input.next(Buffer.from('a'));
    subscription.unsubscribe();
    expect(input.observed).toBe(false);
    input.next(Buffer.from('b'));
    expect(values).toEqual(['a']);
    expect(log).toEqual(['made', 'push a', 'clear']);
  });

  it('stops reading the frames of a chunk once downstream has taken what it wanted, and clears the framer', () => {
    const log: string[] = [];
    let reads = 0;
    const counting = () => {
      const framer = new ByteFramer(log);
      const read = framer.read.bind(framer);
      framer.read = () => (reads++, read());
      return framer;
    };
    const taken = run((source) => source.pipe(decodeFrames(counting), take(2)), [Buffer.from('abcdef')]);
    expect(taken).toEqual({ values: ['a', 'b'], completed: true });
    expect(reads).toBe(2);
    expect(log).toEqual(['made', 'push abcdef', 'clear']);
  });

  it("makes a framer's throw, when made, pushed or ended, the error notification and unsubscribes the source", () => {
    const failure = new Error('bad frame');
    const throwing = (where: 'make' | 'push' | 'end') => () => {
      if (where === 'make') throw failure;
      return Object.assign(new ByteFramer([]), {
        [where]: () => {
          throw failure;
        },
      });
    };
    for (const where of ['make', 'push', 'end'] as const) {
      const input = new Subject<Buffer>();
      let error: unknown;
      input.pipe(decodeFrames(throwing(where))).subscribe({ error: (e) => (error = e) });
      if (where === 'end') input.complete();
      else input.next(Buffer.from('a'));
      expect(error).toBe(failure);
      expect(input.observed).toBe(false);
    }
  });

  it('offers the cut record of its framer to the source it subscribes to, while the frames of a chunk are handed on', () => {
    const input = new Subject<Buffer>();
    let source: FrameCutSource | undefined;
    const seen: Array<[string, number | undefined, number | undefined]> = [];
    // A source that keeps the subscriber it is given, as a connection's data$ does.
    const data$ = {
      subscribe: (subscriber: object) => {
        source = asFrameCutSource(subscriber);
        return input.subscribe(subscriber as never);
      },
    };
    const framed = decodeFrames(() => new ByteFramer([]))(data$ as never);
    framed.subscribe((frame) => seen.push([frame, source?.frameCut?.start, source?.frameCut?.end]));
    expect(source).toBeDefined();
    expect(source!.frameCut).toBeUndefined(); // no framer before the first chunk
    input.next(Buffer.from('xy'));
    expect(seen).toEqual([
      ['x', 0, 1],
      ['y', 1, 2],
    ]);
    // Cleared once the chunk's frames are out: the record keeps no chunk alive.
    expect(source!.frameCut?.chunk).toBeUndefined();
  });

  it('tells downstream first and leaves the source after, on completion, on its own error and on the source error', () => {
    const cases: [string, (source: Subscriber<Buffer>) => void, string][] = [
      ['complete', (source) => source.complete(), 'complete'],
      ['framer error', (source) => source.next(Buffer.from('x')), 'error bad frame'],
      ['source error', (source) => source.error(new Error('reset')), 'error reset'],
    ];
    for (const [, act, told] of cases) {
      const log: string[] = [];
      let source!: Subscriber<Buffer>;
      const input = new Observable<Buffer>((subscriber) => {
        source = subscriber;
        return () => log.push('source left');
      });
      const failing = () =>
        Object.assign(new ByteFramer([]), {
          push: () => {
            throw new Error('bad frame');
          },
        });
      input.pipe(decodeFrames(failing)).subscribe({
        complete: () => log.push('complete'),
        error: (e: Error) => log.push(`error ${e.message}`),
      });
      act(source);
      expect(log).toEqual([told, 'source left']);
    }
  });
});
