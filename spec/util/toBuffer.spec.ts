// toBuffer(): a Buffer as it is, any other Uint8Array as a view of its own memory, a string as UTF-8.
import { toBuffer } from '../../lib/util/toBuffer';

describe('toBuffer', () => {
  it('returns a Buffer itself', () => {
    const buffer = Buffer.from('abc');
    expect(toBuffer(buffer)).toBe(buffer);
  });

  it('views a Uint8Array without copying, its offset and length kept', () => {
    const memory = new Uint8Array([1, 2, 3, 4, 5]);
    const view = memory.subarray(1, 4);
    const buffer = toBuffer(view);
    expect(Buffer.isBuffer(buffer)).toBe(true);
    expect([...buffer]).toEqual([2, 3, 4]);
    expect(buffer.buffer).toBe(memory.buffer);
    expect(buffer.byteOffset).toBe(1);
    memory[2] = 9;
    expect(buffer[1]).toBe(9);
  });

  it('encodes a string as UTF-8', () => {
    expect(toBuffer('é😀').toString('hex')).toBe('c3a9f09f9880');
    expect(toBuffer('')).toHaveLength(0);
  });
});
