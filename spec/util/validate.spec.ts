// The argument checks every option goes through: what each accepts, its defaults, and the InvalidArgumentError it throws.
import { InvalidArgumentError } from '../../lib/errors';
import { asyncScheduler } from 'rxjs';
import {
  checkBoolean,
  checkByteOrder,
  checkDelimiter,
  checkFraction,
  checkInteger,
  checkLimit,
  checkTimeout,
  checkObserver,
  checkOptions,
  checkRate,
  checkScheduler,
  checkTruncation,
} from '../../lib/util/validate';
import { errorData } from '../support/framing';

/** What `check` threw, as data (name, code, argument); fails the test when it did not throw. */
function refusal(check: () => unknown): Record<string, unknown> & { message?: string } {
  try {
    check();
  } catch (error) {
    expect(error).toBeInstanceOf(InvalidArgumentError);
    return { ...errorData(error), message: (error as Error).message };
  }
  throw new Error('did not throw');
}

describe('checkInteger', () => {
  it('returns an integer within [min, max], bounds included', () => {
    expect(checkInteger('n', 0, 0)).toBe(0);
    expect(checkInteger('n', 10, 1, 10)).toBe(10);
    expect(checkInteger('n', Number.MAX_SAFE_INTEGER, 0)).toBe(Number.MAX_SAFE_INTEGER);
  });

  it('refuses a value outside the range, a fraction, NaN, Infinity and non-numbers, naming the argument', () => {
    for (const value of [-1, 11, 1.5, NaN, Infinity, '3', undefined, null]) {
      expect(refusal(() => checkInteger('port', value, 0, 10))).toMatchObject({
        name: 'InvalidArgumentError',
        code: 'ERR_INVALID_ARGUMENT',
        argument: 'port',
      });
    }
    expect(refusal(() => checkInteger('port', 11, 0, 10)).message).toMatch(/expected an integer in \[0, 10\], got 11/);
    expect(() => checkInteger('n', Number.MAX_SAFE_INTEGER + 1, 0)).toThrow(InvalidArgumentError);
  });
});

describe('checkTimeout', () => {
  it('takes ms, Infinity or the fallback, reads 0 as none (Infinity), and refuses the rest', () => {
    expect(checkTimeout('timeout', undefined, 30_000)).toBe(30_000);
    expect(checkTimeout('timeout', 500, 30_000)).toBe(500);
    expect(checkTimeout('timeout', 0, 30_000)).toBe(Infinity);
    expect(checkTimeout('timeout', undefined, 0)).toBe(Infinity);
    expect(refusal(() => checkTimeout('acquireTimeout', -1, 10))).toMatchObject({ argument: 'acquireTimeout' });
  });
});

describe('checkLimit', () => {
  it('gives the fallback for undefined, and takes Infinity or an integer from min', () => {
    expect(checkLimit('maxLength', undefined, 42)).toBe(42);
    expect(checkLimit('maxLength', Infinity, 42)).toBe(Infinity);
    expect(checkLimit('maxLength', 0, 42)).toBe(0);
    expect(checkLimit('highWaterMark', 1, 42, 1)).toBe(1);
  });

  it('refuses below min, fractions, -Infinity, NaN and non-numbers', () => {
    for (const value of [0, 2.5, -Infinity, NaN, '5', null]) {
      expect(refusal(() => checkLimit('highWaterMark', value, 42, 1))).toMatchObject({ argument: 'highWaterMark' });
    }
    expect(refusal(() => checkLimit('maxLength', -1, 0)).message).toMatch(
      /expected an integer >= 0 or Infinity, got -1/,
    );
  });
});

describe('checkTruncation', () => {
  it('takes one of the allowed values, or the fallback for undefined', () => {
    expect(checkTruncation('emit', ['error', 'emit'], 'error')).toBe('emit');
    expect(checkTruncation(undefined, ['error', 'emit'], 'error')).toBe('error');
  });

  it('refuses a value not allowed, listing the allowed ones', () => {
    const error = refusal(() => checkTruncation('emit', ['error', 'discard'], 'error'));
    expect(error).toMatchObject({ argument: 'truncation' });
    expect(error.message).toMatch(/expected one of error, discard, got emit/);
  });
});

describe('checkByteOrder', () => {
  it("takes 'BE' and 'LE', or the fallback for undefined, and refuses anything else", () => {
    expect(checkByteOrder('LE', 'BE')).toBe('LE');
    expect(checkByteOrder(undefined, 'BE')).toBe('BE');
    for (const value of ['le', 'big', 0]) {
      expect(refusal(() => checkByteOrder(value, 'BE'))).toMatchObject({ argument: 'byteOrder' });
    }
  });
});

describe('checkOptions', () => {
  it('returns an options object as it is and refuses null and primitives', () => {
    const options = { maxLength: 3 };
    expect(checkOptions(options)).toBe(options);
    for (const value of [null, 42, 'x']) {
      expect(refusal(() => checkOptions(value as never))).toMatchObject({ argument: 'config' });
    }
  });
});

describe('checkDelimiter', () => {
  it('returns a copy of the bytes of a Buffer, a Uint8Array or a string (UTF-8)', () => {
    const given = Buffer.from(';');
    const bytes = checkDelimiter(given);
    expect(bytes).toEqual(given);
    expect(bytes).not.toBe(given);
    given[0] = 0x2c;
    expect(bytes.toString()).toBe(';');
    expect(checkDelimiter(new Uint8Array([0, 1]))).toEqual(Buffer.from([0, 1]));
    expect(checkDelimiter('é')).toEqual(Buffer.from([0xc3, 0xa9]));
  });

  it('refuses an empty delimiter and anything but bytes or a string', () => {
    for (const bad of ['', new Uint8Array(0), 7, null, undefined, [10]]) {
      expect(refusal(() => checkDelimiter(bad))).toMatchObject({ argument: 'delimiter' });
    }
  });
});

describe('checkBoolean', () => {
  it('takes a boolean, the fallback for undefined, and refuses truthy non-booleans', () => {
    expect(checkBoolean('noDelay', false, true)).toBe(false);
    expect(checkBoolean('noDelay', undefined, true)).toBe(true);
    for (const value of [1, 'yes', null]) {
      expect(refusal(() => checkBoolean('noDelay', value, false))).toMatchObject({ argument: 'noDelay' });
    }
  });
});

describe('checkObserver', () => {
  it('takes undefined, a function or an object with next, and refuses anything else', () => {
    expect(() => checkObserver('events', undefined)).not.toThrow();
    expect(() => checkObserver('events', () => undefined)).not.toThrow();
    expect(() => checkObserver('events', { next: () => undefined })).not.toThrow();
    for (const value of [{}, { next: 1 }, null, 42]) {
      expect(refusal(() => checkObserver('events', value))).toMatchObject({ argument: 'events' });
    }
  });
});

describe('checkRate', () => {
  it('takes a finite number > 0, fractions included, and names the option and what was expected otherwise', () => {
    expect(checkRate('rate', 0.5)).toBe(0.5);
    for (const bad of [0, -1, Infinity, NaN, '5', undefined]) {
      expect(() => checkRate('rate', bad)).toThrow(InvalidArgumentError);
    }
    expect(() => checkRate('readLimit', 0, 'bytes per second')).toThrow(
      'invalid readLimit: expected bytes per second, got 0',
    );
  });
});

describe('checkFraction', () => {
  it('takes a number in [0, 1], bounds included, or the fallback for undefined, and refuses the rest', () => {
    expect(checkFraction('loss', undefined, 0)).toBe(0);
    expect(checkFraction('loss', 0, 0.5)).toBe(0);
    expect(checkFraction('loss', 0.25, 0)).toBe(0.25);
    expect(checkFraction('loss', 1, 0)).toBe(1);
    for (const bad of [-0.1, 1.01, NaN, Infinity, '0.5', null]) {
      expect(refusal(() => checkFraction('loss', bad, 0))).toMatchObject({ argument: 'loss' });
    }
    expect(() => checkFraction('loss', 2, 0)).toThrow('invalid loss: expected a number in [0, 1], got 2');
  });
});

describe('checkScheduler', () => {
  it('gives the fallback for undefined, the scheduler for one, and throws for anything without now() and schedule()', () => {
    expect(checkScheduler(undefined, asyncScheduler)).toBe(asyncScheduler);
    expect(checkScheduler(undefined, undefined)).toBeUndefined();
    expect(checkScheduler(asyncScheduler, undefined)).toBe(asyncScheduler);
    for (const bad of [null, 'async', {}, { now: () => 0 }, { schedule: () => undefined }]) {
      expect(() => checkScheduler(bad, undefined)).toThrow(InvalidArgumentError);
    }
  });
});
