// Tells the failures a connection's peer or the network caused from those the application raised.

/** Error codes of failures caused by the peer or the network, not by the application. */
const PEER_FAILURE_CODES = new Set([
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
]);

/**
 * True for an error that a connection's peer or the network caused: a reset (`ECONNRESET`), a
 * broken pipe (`EPIPE`), a keep-alive or retransmission timeout (`ETIMEDOUT`), an unreachable
 * host or network, or a TLS record the peer spoiled (`ERR_SSL_...`). A sink ends quietly on
 * such a failure of its connection (see `sendTo`): the peer is gone, and the server goes on.
 * Errors the application raises (a framer's `FrameTooLongError`, `destroy(error)`) are not.
 *
 * @example
 * ```ts
 * import { isPeerFailure, type Connection } from 'rxnet';
 *
 * declare const conn: Connection;
 * conn.events$.subscribe((e) => {
 *   if (e.type === 'close' && conn.closeReason !== undefined) {
 *     console.log(isPeerFailure(conn.closeReason) ? 'the peer went away' : 'we ended it', conn.closeReason);
 *   }
 * });
 * ```
 */
export function isPeerFailure(error: unknown): boolean {
  if (typeof error !== 'object' || error === null) return false;
  const code = (error as { code?: unknown }).code;
  return typeof code === 'string' && (PEER_FAILURE_CODES.has(code) || code.startsWith('ERR_SSL_'));
}
