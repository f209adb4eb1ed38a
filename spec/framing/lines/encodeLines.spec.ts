// encodeLines(): values as lines, and the values it refuses.
import type { OperatorFunction } from 'rxjs';
import { EncodeError, FrameTooLongError, InvalidArgumentError } from '../../../lib/errors';
import { encodeLines } from '../../../lib/framing/lines/encodeLines';
import { bufferValues, hex, marbles, run } from '../../support/framing';
import { behavesAsOperator } from '../../support/operatorContract';

const enc = <I>(op: OperatorFunction<I, Buffer>, values: I[]) => run(op as never, values as never);

describe('encodeLines', () => {
  behavesAsOperator(() => encodeLines(), 'a');

  it('ends each value with \\n, or \\r\\n when asked', () => {
    expect(hex(enc(encodeLines(), ['a', '']).values as Buffer[])).toEqual(['610a', '0a']);
    expect(hex(enc(encodeLines({ newline: '\r\n' }), ['a']).values as Buffer[])).toEqual(['610d0a']);
  });

  it('refuses a value containing \\n or ending with \\r with EncodeError', () => {
    expect(enc(encodeLines(), ['a\nb']).error).toBeInstanceOf(EncodeError);
    expect(enc(encodeLines(), ['a\r']).error).toBeInstanceOf(EncodeError);
  });

  it('encodes strings as UTF-8 and takes Buffers and plain Uint8Arrays alike; maxLength counts bytes', () => {
    const values = ['é€', Buffer.from('ab'), new Uint8Array([0x63, 0x64])];
    expect(hex(enc(encodeLines(), values).values as Buffer[])).toEqual(['c3a9e282ac0a', '61620a', '63640a']);
    expect(enc(encodeLines({ maxLength: 5 }), ['é€']).values).toHaveLength(1);
    expect(enc(encodeLines({ maxLength: 4 }), ['é€']).error).toEqual(new FrameTooLongError(4, 5));
    expect(enc(encodeLines(), ['é\n']).error).toEqual(new EncodeError('a line must not contain \\n (found at byte 2)'));
    expect(enc(encodeLines(), [new Uint8Array([0x61, 0x0a])]).error).toBeInstanceOf(EncodeError);
    expect(enc(encodeLines({ newline: '\r\n' }), ['x\r']).error).toBeInstanceOf(EncodeError);
  });

  it('refuses a line over maxLength and a bad newline option', () => {
    expect(enc(encodeLines({ maxLength: 1 }), ['ab']).error).toBeInstanceOf(FrameTooLongError);
    expect(() => encodeLines({ newline: '\r' as never })).toThrow(InvalidArgumentError);
    expect(() => encodeLines({ maxLength: 0 })).toThrow(expect.objectContaining({ argument: 'maxLength' }));
    expect(() => encodeLines(null as never)).toThrow(expect.objectContaining({ argument: 'config' }));
    expect(() => encodeLines({ maxLength: Infinity })).not.toThrow();
  });

  it('emits in order and completes with the source, in marbles', () => {
    marbles().run(({ cold, expectObservable }) => {
      const v = bufferValues({ x: 'a\n', y: 'b\n' });
      expectObservable(cold('-a-b-|', { a: 'a', b: 'b' }).pipe(encodeLines())).toBe('-x-y-|', v);
    });
  });

  it('errors at the first value it cannot encode, in marbles', () => {
    marbles().run(({ cold, expectObservable, expectSubscriptions }) => {
      const source = cold('-a-b-a-|', { a: 'a', b: 'b\n' });
      expectObservable(source.pipe(encodeLines())).toBe(
        '-x-#',
        bufferValues({ x: 'a\n' }),
        new EncodeError('a line must not contain \\n (found at byte 1)'),
      );
      expectSubscriptions(source.subscriptions).toBe('^--!');
    });
  });
});
