// The TLS pieces of listen, connect and SocketConnection: handshakes a server has not finished, SNI, and a session's facts.
import * as net from 'net';
import { TLSSocket } from 'tls';
import type { TlsInfo } from '../types';

/**
 * Keeps each raw socket a TLS server accepted until it closes, so that unsubscribing can destroy
 * those still in their handshake (the others are destroyed with their connections).
 */
export function trackRawSockets(server: net.Server): Set<net.Socket> {
  const rawSockets = new Set<net.Socket>();
  server.on('connection', (raw: net.Socket) => {
    rawSockets.add(raw);
    raw.once('close', () => rawSockets.delete(raw));
  });
  return rawSockets;
}

/** The SNI server name for `host`: none for an IP address, as Node requires. */
export function sni(host: string | undefined): string | undefined {
  if (host === undefined) return 'localhost';
  return net.isIP(host) === 0 ? host : undefined;
}

/** What a TLS socket tells about its session (`connection.tls`); undefined for a plain socket. */
export function tlsInfo(socket: net.Socket): TlsInfo | undefined {
  if (!(socket instanceof TLSSocket)) return undefined;
  const error = socket.authorizationError as unknown;
  return {
    authorized: socket.authorized,
    authorizationError:
      error === undefined || error === null ? undefined : error instanceof Error ? error : new Error(String(error)),
    peerCertificate: socket.getPeerCertificate(),
    protocol: socket.getProtocol(),
    alpnProtocol: socket.alpnProtocol,
  };
}
