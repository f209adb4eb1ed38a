// isPeerFailure(): the error codes of a peer or network failure (and OpenSSL's), not the application's errors.
import { FrameTooLongError } from '../../lib/errors';
import { isPeerFailure } from '../../lib/util/isPeerFailure';
import { brokenPipeError, connectionResetError } from '../../lib/testing/netErrors';

const withCode = (code: unknown) => Object.assign(new Error(String(code)), { code });

describe('isPeerFailure', () => {
  it.each([
    'ECONNRESET',
    'EPIPE',
    'ETIMEDOUT',
    'ECONNABORTED',
    'ENETRESET',
    'ENETUNREACH',
    'ENETDOWN',
    'EHOSTUNREACH',
    'EHOSTDOWN',
    'ENOTCONN',
    'EPROTO',
  ])('is true for %s', (code) => {
    expect(isPeerFailure(withCode(code))).toBe(true);
  });

  it("is true for OpenSSL's ERR_SSL_ codes and for the kit's own reset and broken pipe", () => {
    expect(isPeerFailure(withCode('ERR_SSL_DECRYPTION_FAILED_OR_BAD_RECORD_MAC'))).toBe(true);
    expect(isPeerFailure(connectionResetError())).toBe(true);
    expect(isPeerFailure(brokenPipeError())).toBe(true);
  });

  it("is false for the application's errors, other codes, and what is not an error with a string code", () => {
    expect(isPeerFailure(new FrameTooLongError(4, 5))).toBe(false);
    expect(isPeerFailure(new Error('ECONNRESET'))).toBe(false);
    for (const code of ['ECONNREFUSED', 'EADDRINUSE', 'ERR_STREAM_DESTROYED', 'econnreset', 104]) {
      expect(isPeerFailure(withCode(code))).toBe(false);
    }
    for (const value of [undefined, null, 'ECONNRESET', 42]) expect(isPeerFailure(value)).toBe(false);
    // Only the code counts, not the kind of object.
    expect(isPeerFailure({ code: 'EPIPE' })).toBe(true);
  });
});
