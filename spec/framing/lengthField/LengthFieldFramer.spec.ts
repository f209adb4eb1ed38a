// LengthFieldFramer without RxJS: the header decides, before the body is held.
import { FrameTooLongError } from '../../../lib/errors';
import { LengthFieldFramer, type LengthFieldFramerOptions } from '../../../lib/framing/lengthField/LengthFieldFramer';
import { byteByByte, hex, runFramer } from '../../support/framing';

const config = (over: Partial<LengthFieldFramerOptions> = {}): LengthFieldFramerOptions => ({
  lengthFieldOffset: 0,
  lengthFieldLength: 2,
  lengthAdjustment: 0,
  initialBytesToStrip: 2,
  byteOrder: 'BE',
  maxFrameLength: 10,
  failFast: true,
  truncation: 'error',
  ...over,
});

describe('LengthFieldFramer', () => {
  it('waits for the whole header, then for the whole body', () => {
    const framer = new LengthFieldFramer(config());
    framer.push(Buffer.from([0]));
    expect(framer.read()).toBeUndefined();
    framer.push(Buffer.from([3, 0x61]));
    expect(framer.read()).toBeUndefined();
    framer.push(Buffer.from([0x62, 0x63]));
    expect(framer.read()?.toString()).toBe('abc');
    expect(framer.buffered).toBe(0);
  });

  it('throws FrameTooLongError from the header alone and drops what it held', () => {
    const framer = new LengthFieldFramer(config());
    framer.push(Buffer.from([0, 9]));
    expect(() => framer.read()).toThrow(FrameTooLongError);
    expect(framer.buffered).toBe(0);
  });

  it('reads a header that arrives one byte per chunk for every field size and both byte orders', () => {
    for (const lengthFieldLength of [1, 2, 3, 4, 8] as const) {
      for (const byteOrder of ['BE', 'LE'] as const) {
        const header = Buffer.alloc(lengthFieldLength);
        if (lengthFieldLength === 8) {
          if (byteOrder === 'BE') header.writeBigUInt64BE(2n);
          else header.writeBigUInt64LE(2n);
        } else if (byteOrder === 'BE') header.writeUIntBE(2, 0, lengthFieldLength);
        else header.writeUIntLE(2, 0, lengthFieldLength);
        const framer = new LengthFieldFramer(
          config({ lengthFieldLength, byteOrder, initialBytesToStrip: lengthFieldLength, maxFrameLength: 16 }),
        );
        const { values, error } = runFramer(framer, byteByByte(Buffer.concat([header, Buffer.from('hi')])));
        expect(error).toBeUndefined();
        expect(hex(values)).toEqual(['6869']);
      }
    }
  });
});
