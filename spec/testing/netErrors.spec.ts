// The test kit's Node-style errors: the code, errno, syscall, message and address fields a real socket's error has.
import { getSystemErrorName } from 'util';
import {
  addressInUseError,
  bindInUseError,
  brokenPipeError,
  connectionRefusedError,
  connectionResetError,
  sendError,
  streamDestroyedError,
} from '../../lib/testing/netErrors';

/** The fields of an error as Node's net module sets them, the message included. */
const fields = (error: Error) => ({ ...error, message: error.message });

describe('netErrors', () => {
  it.each([
    ['connectionResetError', 'ECONNRESET', 'read', connectionResetError],
    ['brokenPipeError', 'EPIPE', 'write', brokenPipeError],
  ])('%s is %s from %s, as Node words it', (_, code, syscall, make) => {
    const error = make();
    expect(error).toBeInstanceOf(Error);
    expect(fields(error)).toEqual({ errno: error.errno, code, syscall, message: `${syscall} ${code}` });
    // The errno is this platform's, negated as Node gives it.
    expect(error.errno).toBeLessThan(0);
    expect(getSystemErrorName(error.errno!)).toBe(code);
  });

  it('gives ECONNREFUSED and EADDRINUSE the address and port, in the message too', () => {
    const refused = connectionRefusedError('memory', 7000);
    expect(fields(refused)).toEqual({
      errno: refused.errno,
      code: 'ECONNREFUSED',
      syscall: 'connect',
      address: 'memory',
      port: 7000,
      message: 'connect ECONNREFUSED memory:7000',
    });
    expect(getSystemErrorName(refused.errno!)).toBe('ECONNREFUSED');
    const inUse = addressInUseError('memory', 80);
    expect(fields(inUse)).toEqual({
      errno: inUse.errno,
      code: 'EADDRINUSE',
      syscall: 'listen',
      address: 'memory',
      port: 80,
      message: 'listen EADDRINUSE: address already in use memory:80',
    });
    expect(getSystemErrorName(inUse.errno!)).toBe('EADDRINUSE');
  });

  it.each([
    ['bindInUseError', 'EADDRINUSE', 'bind', bindInUseError],
    ['sendError', 'EMSGSIZE', 'send', (address: string, port: number) => sendError('EMSGSIZE', address, port)],
    ['sendError', 'EINVAL', 'send', (address: string, port: number) => sendError('EINVAL', address, port)],
  ])("%s is %s from %s with the address and port, as Node's dgram words it", (_, code, syscall, make) => {
    const error = make('127.0.0.1', 41234);
    expect(fields(error)).toEqual({
      errno: error.errno,
      code,
      syscall,
      address: '127.0.0.1',
      port: 41234,
      message: `${syscall} ${code} 127.0.0.1:41234`,
    });
    expect(getSystemErrorName(error.errno!)).toBe(code);
  });

  it('gives ERR_STREAM_DESTROYED a code only, as Node does for the callbacks of unflushed writes', () => {
    expect(fields(streamDestroyedError())).toEqual({
      code: 'ERR_STREAM_DESTROYED',
      message: 'Cannot call write after a stream was destroyed',
    });
  });

  it('makes a new error each time', () => {
    expect(connectionResetError()).not.toBe(connectionResetError());
  });
});
