// The TLS pieces of listen, connect and SocketConnection: handshakes a server has not finished, SNI, contexts swapped
// while serving, and a session's facts.
import * as net from 'net';
import { TLSSocket, createSecureContext } from 'tls';
import type * as tls from 'tls';
import type { Observable, Subscription } from 'rxjs';
import { InvalidArgumentError } from '../errors';
import type { TlsInfo } from '../types';
import type { ListenTlsOptions } from './listenOptions';
import type { ServerEvent } from './ServerEvent';

/**
 * Keeps each raw socket a TLS server accepted until it closes, with the time it was accepted (on
 * `now`'s clock): unsubscribing destroys those still in their handshake (the others are destroyed
 * with their connections), and a handshake's time is read from it.
 */
export function trackRawSockets(server: net.Server, now: () => number): Map<net.Socket, number> {
  const rawSockets = new Map<net.Socket, number>();
  server.on('connection', (raw: net.Socket) => {
    rawSockets.set(raw, now());
    raw.once('close', () => rawSockets.delete(raw));
  });
  return rawSockets;
}

/** The longest delay Node's timers take (ms): a Node handshake deadline that never comes before ours. */
export const NODE_TIMER_MAX = 2 ** 31 - 1;

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
    servername: (socket as TLSSocket & { servername?: string | false | null }).servername ?? null,
  };
}

/** `tls.createServer`'s options without rxnet's own. */
export function withoutContexts(options: ListenTlsOptions): tls.TlsOptions {
  const { secureContext$: _contexts, ...rest } = options;
  return rest;
}

/**
 * Applies each new secure context to `server` for handshakes from then on, telling a `tlsContext`
 * event; one Node refuses is told with its error, and the one before stays in force. Each value is
 * laid over `base` (the server's own options): Node's `setSecureContext` replaces every context
 * setting, so a renewal of key and certificate alone would otherwise drop the server's `ca` (and
 * with it client certificate checks), `crl`, `ciphers` and the rest.
 */
export function watchContexts(
  server: tls.Server,
  base: tls.SecureContextOptions,
  contexts: Observable<tls.SecureContextOptions>,
  tell: (event: ServerEvent) => void,
): Subscription {
  const told = (error: unknown) =>
    tell({
      type: 'tlsContext',
      error: error === undefined || error instanceof Error ? error : new Error(String(error)),
    });
  return contexts.subscribe({
    next: (context) => {
      try {
        server.setSecureContext({ ...base, ...context });
      } catch (error) {
        return told(error ?? new Error('secure context refused'));
      }
      told(undefined);
    },
    error: (error: unknown) => told(error ?? new Error('secureContext$ failed')),
  });
}

/**
 * An `SNICallback` for `listen({ tls })` choosing the certificate by the server name the client
 * sent: an exact name, or a wildcard `*.example.com` (one label, as certificates match). A name
 * not listed, or no name, gets the server's own `key`/`cert` (the default). Contexts are made
 * once, here, so a bad key or certificate throws now, not at a client's handshake; the name a
 * client asked for is on `conn.tls.servername`.
 *
 * ```
 * openssl s_client -servername a.test  ──▶ a.test's certificate
 * openssl s_client -servername c.test  ──▶ the default (tls.key, tls.cert)
 * ```
 *
 * @param contexts Key, certificate (and CA) by server name.
 * @throws InvalidArgumentError for a bad name; Node's error for a bad key or certificate.
 * @example
 * ```ts
 * import { readFileSync } from 'fs';
 * import { listen, sendTo, serveEach, sniCallback } from 'rxnet';
 *
 * const pem = (name: string) => ({ key: readFileSync(`${name}.key`), cert: readFileSync(`${name}.crt`) });
 * listen({ port: 8443, tls: { ...pem('default'), SNICallback: sniCallback({ 'a.test': pem('a'), '*.b.test': pem('b') }) } })
 *   .pipe(serveEach((conn) => conn.data$.pipe(sendTo(conn))))
 *   .subscribe();
 * ```
 */
export function sniCallback(
  contexts: Readonly<Record<string, tls.SecureContextOptions>>,
): (servername: string, callback: (error: Error | null, context?: tls.SecureContext) => void) => void {
  if (contexts === null || typeof contexts !== 'object') {
    throw new InvalidArgumentError(
      'contexts',
      `expected secure context options by server name, got ${String(contexts)}`,
    );
  }
  const exact = new Map<string, tls.SecureContext>();
  const wildcard = new Map<string, tls.SecureContext>();
  for (const [name, options] of Object.entries(contexts)) {
    const lower = name.toLowerCase();
    if (!/^(\*\.)?[a-z0-9-]+(\.[a-z0-9-]+)*$/.test(lower)) {
      throw new InvalidArgumentError('contexts', `expected a host name or *.domain, got ${JSON.stringify(name)}`);
    }
    const context = createSecureContext(options);
    if (lower.startsWith('*.')) wildcard.set(lower.slice(2), context);
    else exact.set(lower, context);
  }
  return (servername, callback) => {
    const name = String(servername).toLowerCase();
    const dot = name.indexOf('.');
    callback(null, exact.get(name) ?? (dot > 0 ? wildcard.get(name.slice(dot + 1)) : undefined));
  };
}
