// FixedLengthFramer without RxJS: equal frames, and the remainder at the end of input.
import { FixedLengthFramer } from '../../../lib/framing/fixedLength/FixedLengthFramer';
import { runFramer, texts } from '../../support/framing';

describe('FixedLengthFramer', () => {
  it('emits a frame each time frameLength bytes are held, views inside a chunk', () => {
    const chunk = Buffer.from('abcdef');
    const { values } = runFramer(new FixedLengthFramer(3), [chunk]);
    chunk[0] = 0x41;
    expect(texts(values)).toEqual(['Abc', 'def']);
  });

  it('deals with a short remainder as its truncation option says', () => {
    expect(runFramer(new FixedLengthFramer(4), [Buffer.from('abcdef')]).error).toMatchObject({
      name: 'TruncatedFrameError',
      buffered: 2,
    });
    expect(texts(runFramer(new FixedLengthFramer(4, 'emit'), [Buffer.from('abcdef')]).values)).toEqual(['abcd', 'ef']);
    expect(texts(runFramer(new FixedLengthFramer(4, 'discard'), [Buffer.from('abcdef')]).values)).toEqual(['abcd']);
  });
});
