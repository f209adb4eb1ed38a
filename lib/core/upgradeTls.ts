// upgradeTls(): STARTTLS, a plain connection turned into a TLS one at the point its protocol chooses, either side.
import { Buffer } from 'buffer';
import type * as net from 'net';
import * as tls from 'tls';
import { Observable, asyncScheduler } from 'rxjs';
import type { SchedulerLike, Subscription } from 'rxjs';
import { InvalidArgumentError, TlsHandshakeError, TlsUpgradeError } from '../errors';
import { ProxiedConnection } from '../proxy/acceptProxyProtocol';
import { SocketConnection } from './SocketConnection';
import type { SocketGate } from './SocketGate';
import { DEFAULT_HANDSHAKE_TIMEOUT } from './listenOptions';
import { NODE_TIMER_MAX, sni } from './tls';
import { checkTimeout } from '../util/validate';
import type { Connection } from '../types';

/** What both sides of {@link upgradeTls} take besides Node's TLS options. */
interface UpgradeTlsTiming {
  /**
   * Milliseconds the handshake may take, from the switch (default 10 000, as `listen`'s); 0 for
   * no limit. A late one is a `TlsHandshakeError` with reason `ERR_TLS_HANDSHAKE_TIMEOUT`.
   */
  readonly handshakeTimeout?: number;
  /** Scheduler of the handshake deadline; `asyncScheduler` by default. */
  readonly scheduler?: SchedulerLike;
}

/**
 * {@link upgradeTls} on the server side: `tls.createServer`'s options (`key`, `cert`, `ca`,
 * `requestCert`, `ALPNProtocols`, `SNICallback`, ...) and `isServer: true`. The key and
 * certificate are read once per options object: make it once and give the same object to every
 * upgrade.
 *
 * @example
 * ```ts
 * import { readFileSync } from 'fs';
 * import type { UpgradeTlsServerOptions } from 'rxnet';
 *
 * const starttls: UpgradeTlsServerOptions = {
 *   isServer: true,
 *   key: readFileSync('server.key'),
 *   cert: readFileSync('server.crt'),
 *   handshakeTimeout: 5000,
 * };
 * ```
 */
export interface UpgradeTlsServerOptions extends Omit<tls.TlsOptions, 'handshakeTimeout'>, UpgradeTlsTiming {
  /** This side is the TLS server. */
  readonly isServer: true;
}

/**
 * {@link upgradeTls} on the client side: `tls.connect`'s options (`ca`, `servername`, `host`,
 * `rejectUnauthorized`, `ALPNProtocols`, a client `key`/`cert`, ...) but for the socket, which
 * is the connection's. The server's certificate is checked against `servername`, else `host`,
 * else `localhost` (as `connect` does).
 *
 * @example
 * ```ts
 * import { readFileSync } from 'fs';
 * import type { UpgradeTlsClientOptions } from 'rxnet';
 *
 * const starttls: UpgradeTlsClientOptions = { servername: 'mail.example.com', ca: readFileSync('ca.crt') };
 * ```
 */
export interface UpgradeTlsClientOptions
  extends Omit<tls.ConnectionOptions, 'socket' | 'port' | 'path' | 'timeout'>, UpgradeTlsTiming {
  /** This side is the TLS client (the default). */
  readonly isServer?: false;
}

/**
 * Options of {@link upgradeTls}: one side's, told apart by `isServer`.
 *
 * @example
 * ```ts
 * import { readFileSync } from 'fs';
 * import type { UpgradeTlsOptions } from 'rxnet';
 *
 * const side = (server: boolean): UpgradeTlsOptions =>
 *   server
 *     ? { isServer: true, key: readFileSync('server.key'), cert: readFileSync('server.crt') }
 *     : { ca: readFileSync('ca.crt'), servername: 'localhost' };
 * ```
 */
export type UpgradeTlsOptions = UpgradeTlsServerOptions | UpgradeTlsClientOptions;

/**
 * STARTTLS: turns an open plain connection into a TLS one at the point its protocol chooses (SMTP,
 * IMAP, XMPP, PostgreSQL and LDAP all switch after a plain exchange). On subscribe the switch is
 * made and the handshake run, as the server (`isServer: true`) or as the client; the TLS
 * connection is emitted once it is done, then the Observable completes.
 *
 * ```
 * plain conn:  --"STARTTLS\r\n"--(220 written)--x          data$ unsubscribed: stop reading first
 * upgradeTls:                                    ---handshake---(tlsConn|)
 * tlsConn.data$:                                                 --"EHLO"--…   conn.tls filled in
 * still reading:                                 #  TlsUpgradeError 'reading'
 * late:                                          ---handshakeTimeout---#  TlsHandshakeError
 * ```
 *
 * No byte is lost or moves across the switch. What was written before it goes out in clear
 * first. Stop reading the plain `data$` before subscribing (a `takeWhile` that ends at the
 * STARTTLS command does): a connection still read is refused (`TlsUpgradeError` `'reading'`), and
 * so is one whose framer let go of it holding part of a next message, bytes the peer sent before
 * the switch that nobody read (`'buffered'`: a client must wait for the go-ahead, and a man in
 * the middle's plain bytes must not pass for protected ones). Chunks that came after the
 * application stopped reading are the peer's first TLS bytes and go to TLS.
 *
 * The plain connection is over once the switch is made: its streams complete, writes throw, `end()`
 * no longer reaches the socket, while `destroy()` and `closeReason` are the TLS connection's. That
 * keeps the plain one's `id` and takes its place at its server (`listen` tells an `upgrade` event,
 * counts it, destroys it at the end, and tells its `disconnect`). A PROXY view is upgraded with its header kept, so `remoteAddress`
 * stays the client's. A failed or late handshake destroys the connection and errors with
 * `TlsHandshakeError`; unsubscribing before the handshake is done destroys it too.
 *
 * The refusal of left-over bytes sees a framer that reads `data$` itself (`data$.pipe(decodeLines(), ...)`);
 * an operator of your own before the framer hides what it holds.
 *
 * @param connection A plain socket connection (from `listen` or `connect`), or a PROXY view of one;
 * a shaped one (`listen({ shaping })`) is `'unsupported'`: shape the TLS connection instead.
 * @param options This side's TLS options, with `isServer: true` on the server side.
 * @throws InvalidArgumentError for bad options; Node's error for a bad key or certificate.
 * @example
 * ```ts
 * import { readFileSync } from 'fs';
 * import { concat, defer, ignoreElements, map, mergeMap, takeWhile } from 'rxjs';
 * import { decodeLines, listen, sendTo, serveEach, upgradeTls, type Connection } from 'rxnet';
 *
 * // Made once: the key and certificate are read once for every upgrade.
 * const starttls = { isServer: true as const, key: readFileSync('server.key'), cert: readFileSync('server.crt') };
 * const secureEcho = (conn: Connection) =>
 *   conn.data$.pipe(decodeLines(), map((line) => `echo ${line}\r\n`), sendTo(conn));
 *
 * listen({ port: 2525 })
 *   .pipe(
 *     serveEach((conn) => {
 *       conn.write('220 ready\r\n');
 *       // Plain lines up to STARTTLS; takeWhile lets go of data$ there.
 *       const plain = conn.data$.pipe(
 *         decodeLines(),
 *         takeWhile((line) => line.toString() !== 'STARTTLS'),
 *         ignoreElements(),
 *       );
 *       const secure = defer(() => {
 *         conn.write('220 go ahead\r\n'); // in clear, before the handshake
 *         return upgradeTls(conn, starttls);
 *       }).pipe(mergeMap(secureEcho));
 *       return concat(plain, secure);
 *     }),
 *   )
 *   .subscribe();
 * ```
 */
export function upgradeTls(connection: Connection, options: UpgradeTlsOptions): Observable<Connection> {
  if (options === null || typeof options !== 'object') {
    throw new InvalidArgumentError('options', `expected TLS options, got ${String(options)}`);
  }
  const timeout = checkTimeout('handshakeTimeout', options.handshakeTimeout, DEFAULT_HANDSHAKE_TIMEOUT);
  const scheduler = options.scheduler ?? asyncScheduler;
  if (options.isServer === true) {
    const server = upgradeServer(options);
    return startTls(connection, timeout, scheduler, (raw, done) => handshakeAsServer(server, raw, done));
  }
  // Made now, so that a bad key, certificate or cipher list throws here and not at the switch.
  const secureContext = options.secureContext ?? tls.createSecureContext(options);
  return startTls(connection, timeout, scheduler, (raw, done) =>
    handshakeAsClient(raw, { ...options, secureContext }, done),
  );
}

/** Told once when a handshake ends: its error, or none and the TLS socket. */
type HandshakeDone = (error: Error | undefined, secure: tls.TLSSocket | undefined) => void;

/** Starts a handshake on `raw`; returns what gives it up (late, or no longer wanted). */
export type Handshake = (raw: net.Socket, done: HandshakeDone) => () => void;

/**
 * The switch itself, for `upgradeTls` and for `listen({ proxyProtocol, tls })`: checks the
 * connection, takes its socket, runs `handshake` within `timeout` ms (Infinity: none), and emits
 * the TLS connection (a PROXY view again when it was one). @internal
 */
export function startTls(
  connection: Connection,
  timeout: number,
  scheduler: SchedulerLike,
  handshake: Handshake,
): Observable<Connection> {
  return new Observable<Connection>((subscriber) => {
    const proxied = connection instanceof ProxiedConnection ? connection : undefined;
    const plain = proxied !== undefined ? proxied.inner : connection;
    const refusal = refuse(plain);
    if (refusal !== undefined) {
      subscriber.error(new TlsUpgradeError(connection.id, refusal));
      return undefined;
    }
    const socketConnection = plain as SocketConnection;
    // Bytes nobody read (a PROXY view's after its header among them) go back in front of the
    // socket's, where TLS reads first; in their order.
    const early = (socketConnection.data$ as SocketGate).takePending();
    const raw = socketConnection.release();
    if (early !== undefined) for (let i = early.length - 1; i >= 0; i--) raw.unshift(early[i]);

    const started = scheduler.now();
    let settled = false;
    let giveUp = noop;
    let timer: Subscription | undefined = undefined;
    const finish = (error: Error | undefined, secure: tls.TLSSocket | undefined) => {
      if (settled) return;
      settled = true;
      timer?.unsubscribe();
      raw.removeListener('close', onClose);
      if (error !== undefined || secure === undefined) {
        secure?.destroy();
        raw.destroy();
        subscriber.error(handshakeError(error));
        return;
      }
      const upgraded = socketConnection.adopted(secure, scheduler.now() - started);
      subscriber.next(
        proxied !== undefined
          ? new ProxiedConnection(upgraded, { header: proxied.proxy.header, rest: NO_BYTES })
          : upgraded,
      );
      subscriber.complete();
    };
    const onClose = () => {
      giveUp();
      finish(
        new TlsHandshakeError('ECONNRESET', new Error('the connection closed during the TLS handshake')),
        undefined,
      );
    };
    raw.once('close', onClose);
    try {
      giveUp = handshake(raw, finish);
    } catch (error) {
      // Node refused to start it (options it checks only then): the connection goes, as for a failed one.
      finish(error instanceof Error ? error : new Error(String(error)), undefined);
      return undefined;
    }
    timer =
      timeout === Infinity
        ? undefined
        : scheduler.schedule(() => {
            giveUp();
            const late = Object.assign(new Error(`no TLS handshake within ${timeout} ms`), {
              code: 'ERR_TLS_HANDSHAKE_TIMEOUT',
            });
            finish(new TlsHandshakeError('ERR_TLS_HANDSHAKE_TIMEOUT', late), undefined);
          }, timeout);
    return () => {
      if (settled) return;
      settled = true;
      timer?.unsubscribe();
      raw.removeListener('close', onClose);
      giveUp();
      raw.destroy();
    };
  });
}

/** Why `connection` cannot switch to TLS now, or undefined when it can. */
function refuse(connection: Connection): TlsUpgradeError['reason'] | undefined {
  if (!(connection instanceof SocketConnection) || connection.tls !== undefined) return 'unsupported';
  const gate = connection.data$ as SocketGate;
  if (connection.closed || connection.writeEnded || gate.ended) return 'closed';
  if (gate.observed) return 'reading';
  return gate.stranded ? 'buffered' : undefined;
}

function handshakeError(error: Error | undefined): Error {
  if (error instanceof TlsHandshakeError) return error;
  const cause = error ?? new Error('TLS handshake failed');
  return new TlsHandshakeError((cause as NodeJS.ErrnoException).code ?? 'UNKNOWN', cause);
}

/** The client side: `tls.connect` over the socket. */
function handshakeAsClient(raw: net.Socket, options: UpgradeTlsClientOptions, done: HandshakeDone): () => void {
  const { isServer: _isServer, handshakeTimeout: _timeout, scheduler: _scheduler, ...tlsOptions } = options;
  const secure = tls.connect({ ...tlsOptions, socket: raw, servername: tlsOptions.servername ?? sni(tlsOptions.host) });
  const onSecure = () => {
    secure.removeListener('error', onError);
    done(undefined, secure);
  };
  // Stays after a failure: a late error from the socket being destroyed must not go unhandled.
  const onError = (error: Error) => {
    secure.removeListener('secureConnect', onSecure);
    done(error, secure);
  };
  secure.once('secureConnect', onSecure).on('error', onError);
  return () => {
    secure.removeListener('secureConnect', onSecure);
    secure.destroy();
  };
}

/**
 * The servers (never listening) that run the server side of upgrades, one per options object, so
 * that its key and certificate are read once.
 */
const upgradeServers = new WeakMap<UpgradeTlsServerOptions, tls.Server>();

function upgradeServer(options: UpgradeTlsServerOptions): tls.Server {
  let server = upgradeServers.get(options);
  if (server === undefined) {
    const { isServer: _isServer, handshakeTimeout: _timeout, scheduler: _scheduler, ...tlsOptions } = options;
    // The deadline is startTls's, on its scheduler: Node's own (it reads 0 as 120 s) is pushed out of the way.
    server = tls.createServer({ ...tlsOptions, handshakeTimeout: NODE_TIMER_MAX });
    upgradeServers.set(options, server);
  }
  return server;
}

/** The handshakes under way on each server, by raw socket: its events name the TLS socket, whose parent that is. */
const handshakes = new WeakMap<tls.Server, Map<net.Socket, HandshakeDone>>();

/**
 * The server side: `raw` is handed to `server` as if it had accepted it (so a `tls.Server`'s own
 * checks, SNI, ALPN and contexts swapped while serving all apply), and `done` is told of the
 * `secureConnection` or `tlsClientError` that follows. @internal
 */
export function handshakeAsServer(server: tls.Server, raw: net.Socket, done: HandshakeDone): () => void {
  let pending = handshakes.get(server);
  if (pending === undefined) {
    const running = (pending = new Map<net.Socket, HandshakeDone>());
    handshakes.set(server, running);
    const settle = (error: Error | undefined, secure: tls.TLSSocket) => {
      const parent = (secure as { _parent?: net.Socket })._parent;
      const handshake = parent === undefined ? undefined : running.get(parent);
      if (handshake === undefined) return;
      running.delete(parent!);
      handshake(error, secure);
    };
    server.on('secureConnection', (secure: tls.TLSSocket) => settle(undefined, secure));
    server.on('tlsClientError', (error: Error, secure: tls.TLSSocket) => settle(error, secure));
  }
  // A TLS socket takes its half-open setting from the socket it wraps. Half-open, one whose peer
  // closes in mid-handshake would wait for us to end: Node tells no tlsClientError, and the
  // handshake would end only at its deadline. Not half-open until the handshake is done.
  const halfOpen = raw.allowHalfOpen;
  raw.allowHalfOpen = false;
  pending.set(raw, (error, secure) => {
    raw.allowHalfOpen = halfOpen;
    if (secure !== undefined) secure.allowHalfOpen = halfOpen;
    done(error, secure);
  });
  server.emit('connection', raw);
  return () => pending.delete(raw);
}

const NO_BYTES = Buffer.alloc(0);

function noop(): void {}
