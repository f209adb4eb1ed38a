// RespError, RespVerbatim and RespPush: the value classes of the RESP model.
import { RespError, RespPush, RespVerbatim } from '../../../lib/codec/resp/RespValue';

describe('RespError', () => {
  it('tells its prefix, the first word of its message', () => {
    expect(new RespError('WRONGTYPE Operation against a key').prefix).toBe('WRONGTYPE');
    expect(new RespError('NOAUTH').prefix).toBe('NOAUTH');
    expect(new RespError('').prefix).toBe('');
  });

  it('is a value, not a thrown Error: no stack is captured', () => {
    const error = new RespError('ERR x');
    expect(error).not.toBeInstanceOf(Error);
    expect(Object.keys(error)).toEqual(['message']);
  });
});

describe('RespVerbatim and RespPush', () => {
  it('hold their format and text, and their values', () => {
    expect({ ...new RespVerbatim('mkd', '# hi') }).toEqual({ format: 'mkd', text: '# hi' });
    expect(new RespPush(['message', 1]).values).toEqual(['message', 1]);
  });
});
