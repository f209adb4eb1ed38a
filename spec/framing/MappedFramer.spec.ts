// MappedFramer: another framer's frames through a function, everything else the inner framer's.
import { FrameTooLongError } from '../../lib/errors';
import { FixedLengthFramer } from '../../lib/framing/fixedLength/FixedLengthFramer';
import type { Framer } from '../../lib/framing/Framer';
import { MappedFramer } from '../../lib/framing/MappedFramer';
import { runFramer } from '../support/framing';

describe('MappedFramer', () => {
  it("maps each of the inner framer's frames, as they are read", () => {
    const framer = new MappedFramer(new FixedLengthFramer(2, 'emit'), (frame) => frame.toString('latin1'));
    expect(runFramer(framer, [Buffer.from('abc'), Buffer.from('de')])).toEqual({ values: ['ab', 'cd', 'e'] });
  });

  it("tells the inner framer's bytes held and frame record, and passes end and clear on", () => {
    const inner = new FixedLengthFramer(4);
    const framer = new MappedFramer(inner, (frame) => frame.length);
    framer.push(Buffer.from('abcdef'));
    expect(framer.read()).toBe(4);
    expect(framer.buffered).toBe(2);
    expect(framer.frameCut).toBe(inner.frameCut);
    framer.clear();
    expect(framer.buffered).toBe(0);
    framer.push(Buffer.from('x'));
    framer.end();
    expect(() => framer.read()).toThrow(expect.objectContaining({ name: 'TruncatedFrameError', buffered: 1 }));
  });

  it('throws what the inner framer or the function throws from read', () => {
    const failing = new MappedFramer(new FixedLengthFramer(1), () => {
      throw new FrameTooLongError(1, 2);
    });
    failing.push(Buffer.from('a'));
    expect(() => failing.read()).toThrow(FrameTooLongError);
  });

  it('tells no bytes held nor record when the inner framer does not', () => {
    const bare: Framer<number> = {
      push: () => undefined,
      read: () => undefined,
      end: () => undefined,
      clear: () => undefined,
    };
    const framer = new MappedFramer(bare, (n) => n + 1);
    expect(framer.buffered).toBeUndefined();
    expect(framer.frameCut).toBeUndefined();
  });
});
