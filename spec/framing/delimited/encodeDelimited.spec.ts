// encodeDelimited(): frames followed by a delimiter, and the frames it refuses.
import type { OperatorFunction } from 'rxjs';
import { EncodeError, InvalidArgumentError } from '../../../lib/errors';
import { encodeDelimited } from '../../../lib/framing/delimited/encodeDelimited';
import { errorData, hex, run } from '../../support/framing';
import { behavesAsOperator } from '../../support/operatorContract';

const enc = <I>(op: OperatorFunction<I, Buffer>, values: I[]) => run(op as never, values as never);

describe('encodeDelimited', () => {
  behavesAsOperator(() => encodeDelimited(','), Buffer.from('a'));

  it('appends the delimiter to Buffers, Uint8Arrays and strings (as UTF-8)', () => {
    const result = enc(encodeDelimited('\0'), [Buffer.from('a'), new Uint8Array([0x62]), 'é']);
    expect(hex(result.values as Buffer[])).toEqual(['6100', '6200', 'c3a900']);
  });

  it('refuses a frame containing the delimiter with EncodeError', () => {
    const result = enc(encodeDelimited(','), ['a,b']);
    expect(result.error).toBeInstanceOf(EncodeError);
    expect(errorData(result.error)).toEqual({
      name: 'EncodeError',
      code: 'ERR_ENCODE',
      reason: 'the delimiter occurs inside the frame at byte 1',
    });
  });

  it('refuses a frame whose tail and the delimiter would overlap into an earlier match', () => {
    // 'ab' + 'aba' = 'ababa': the decoder would find 'aba' at 0.
    expect(enc(encodeDelimited('aba'), ['ab']).error).toBeInstanceOf(EncodeError);
  });

  it('refuses a frame over maxLength with FrameTooLongError', () => {
    expect(errorData(enc(encodeDelimited(',', { maxLength: 2 }), ['abc']).error)).toEqual({
      name: 'FrameTooLongError',
      code: 'ERR_FRAME_TOO_LONG',
      limit: 2,
      length: 3,
    });
  });

  it('refuses an empty delimiter when created', () => {
    expect(() => encodeDelimited('')).toThrow(InvalidArgumentError);
    expect(() => encodeDelimited(';', { maxLength: 0 })).toThrow(expect.objectContaining({ argument: 'maxLength' }));
    expect(() => encodeDelimited(';', null as never)).toThrow(expect.objectContaining({ argument: 'config' }));
  });
});
