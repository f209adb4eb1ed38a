// The Node-style errors (code, errno, syscall) that in-memory connections and servers raise where a socket would.
import { constants } from 'os';

/** An Error shaped like the ones Node's `net` raises: `code`, `errno`, `syscall`. */
export interface NetError extends Error {
  code: string;
  errno?: number;
  syscall?: string;
  address?: string;
  port?: number;
}

function netError(code: keyof typeof constants.errno, syscall: string, message: string, extra: object = {}): NetError {
  return Object.assign(new Error(message), { errno: -constants.errno[code], code, syscall }, extra) as NetError;
}

/** `read ECONNRESET`: the peer reset the connection. */
export function connectionResetError(): NetError {
  return netError('ECONNRESET', 'read', 'read ECONNRESET');
}

/** `write EPIPE`: bytes were written to a peer that had closed. */
export function brokenPipeError(): NetError {
  return netError('EPIPE', 'write', 'write EPIPE');
}

/** `connect ECONNREFUSED`: nothing listens there. */
export function connectionRefusedError(address: string, port: number): NetError {
  return netError('ECONNREFUSED', 'connect', `connect ECONNREFUSED ${address}:${port}`, { address, port });
}

/** `listen EADDRINUSE`: something already listens there. */
export function addressInUseError(address: string, port: number): NetError {
  return netError('EADDRINUSE', 'listen', `listen EADDRINUSE: address already in use ${address}:${port}`, {
    address,
    port,
  });
}

/** What Node gives the callbacks of writes a destroyed stream never flushed. */
export function streamDestroyedError(): NetError {
  return Object.assign(new Error('Cannot call write after a stream was destroyed'), {
    code: 'ERR_STREAM_DESTROYED',
  }) as NetError;
}
