// The Node-style errors (code, errno, syscall) that in-memory connections and servers raise where a socket would.
import { constants } from 'os';

/**
 * An Error shaped like the ones Node's `net` raises: `code`, `errno`, `syscall`. The in-memory
 * kit raises these where a socket would: ECONNRESET on the peer of `reset()`, EPIPE for bytes
 * written to a destroyed peer, ECONNREFUSED from a `memoryServer` that is not listening,
 * EADDRINUSE from a second `listen()` on the same `memoryServer` or a `MemoryDatagramNetwork` bind on
 * a taken port, EMSGSIZE and EINVAL for a datagram it cannot send, EINVAL for a datagram socket bound
 * to or connected to an address of the other family, ERR_STREAM_DESTROYED for write
 * callbacks a destroyed side never flushed.
 *
 * @example
 * ```ts
 * import { connectionPair, type NetError } from 'rxnet/testing';
 *
 * const [client, server] = connectionPair();
 * server.data$.subscribe({ error: (error: NetError) => console.log(error.code, error.syscall) }); // ECONNRESET read
 * client.reset();
 * ```
 */
export interface NetError extends Error {
  /** Node's error code, e.g. `ECONNRESET`, `EPIPE`, `ECONNREFUSED`, `EADDRINUSE`, `EMSGSIZE`, `ERR_STREAM_DESTROYED`. */
  code: string;
  /** The negated operating-system error number, as Node gives it (`-104` for ECONNRESET on Linux); absent for ERR_STREAM_DESTROYED. */
  errno?: number;
  /** The system call that failed: `read`, `write`, `connect`, `listen`, `bind` or `send`; absent for ERR_STREAM_DESTROYED. */
  syscall?: string;
  /** The address connected, bound or sent to (`'memory'` for a memory server); only on ECONNREFUSED, EADDRINUSE, EMSGSIZE and EINVAL. */
  address?: string;
  /** The port connected, bound or sent to; only on ECONNREFUSED, EADDRINUSE, EMSGSIZE and EINVAL (not for a bind to port 0). */
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

/** `bind EADDRINUSE`: a datagram socket is already bound there (Node's `dgram` wording). */
export function bindInUseError(address: string, port: number): NetError {
  return netError('EADDRINUSE', 'bind', `bind EADDRINUSE ${address}:${port}`, { address, port });
}

/**
 * `bind EINVAL` or `connect EINVAL`: a datagram socket given a local address or a peer of the other
 * family, in Node's `dgram` wording (the port only where it is not 0).
 */
export function wrongFamilyError(syscall: 'bind' | 'connect', address: string, port: number): NetError {
  const where = port > 0 ? `${address}:${port}` : address;
  return netError('EINVAL', syscall, `${syscall} EINVAL ${where}`, port > 0 ? { address, port } : { address });
}

/** `send EMSGSIZE` (a datagram larger than the path allows) or `send EINVAL` (an address of the other family), in Node's `dgram` wording. */
export function sendError(code: 'EMSGSIZE' | 'EINVAL', address: string, port: number): NetError {
  return netError(code, 'send', `send ${code} ${address}:${port}`, { address, port });
}

/** What Node gives the callbacks of writes a destroyed stream never flushed. */
export function streamDestroyedError(): NetError {
  return Object.assign(new Error('Cannot call write after a stream was destroyed'), {
    code: 'ERR_STREAM_DESTROYED',
  }) as NetError;
}
