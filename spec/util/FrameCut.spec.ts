// FrameCut: the record of where the last frame handed out lies in its chunk, and who can be asked for one.
import { asFrameCutSource, FrameCut } from '../../lib/util/FrameCut';

describe('FrameCut', () => {
  it('starts empty and records the view, its chunk and its bounds there', () => {
    const cut = new FrameCut();
    expect([cut.view, cut.chunk, cut.start, cut.end]).toEqual([undefined, undefined, 0, 0]);
    const chunk = Buffer.from('ab\ncd\n');
    const frame = chunk.subarray(3, 5);
    cut.note(frame, chunk, 3, 5);
    expect(cut.view).toBe(frame);
    expect(cut.chunk).toBe(chunk);
    expect([cut.start, cut.end]).toEqual([3, 5]);
    expect(Buffer.from(cut.chunk!.subarray(cut.start, cut.end)).toString()).toBe('cd');
  });

  it('keeps the latest note only, and forgets the view and chunk on clear so it holds no memory', () => {
    const cut = new FrameCut();
    const first = Buffer.from('one\n');
    const second = Buffer.from('two\n');
    cut.note(first.subarray(0, 3), first, 0, 3);
    cut.note(second, second, 0, 4);
    expect([cut.view, cut.chunk, cut.start, cut.end]).toEqual([second, second, 0, 4]);
    cut.clear();
    expect([cut.view, cut.chunk]).toEqual([undefined, undefined]);
  });
});

describe('asFrameCutSource', () => {
  it('is the subscriber itself when it has a frameCut, even an undefined one, and undefined otherwise', () => {
    const cut = new FrameCut();
    const framer = { frameCut: cut, closed: false };
    expect(asFrameCutSource(framer)).toBe(framer);
    expect(asFrameCutSource(framer)?.frameCut).toBe(cut);
    const notYet = { frameCut: undefined, closed: false };
    expect(asFrameCutSource(notYet)).toBe(notYet);
    expect(asFrameCutSource({ closed: false })).toBeUndefined();
  });
});
