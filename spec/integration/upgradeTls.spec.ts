// upgradeTls (STARTTLS) over real loopback sockets: both sides, no byte lost or moved across the switch, refusals,
// handshake failures and deadlines, the server's bookkeeping, PROXY views; certificates made at test time.
import * as net from 'net';
import * as tls from 'tls';
import {
  EMPTY,
  Observable,
  ReplaySubject,
  catchError,
  concat,
  defer,
  firstValueFrom,
  ignoreElements,
  lastValueFrom,
  map,
  mergeMap,
  takeWhile,
  tap,
  toArray,
} from 'rxjs';
import { connect } from '../../lib/core/connect';
import { serverMetrics } from '../../lib/observe/metrics';
import { listen } from '../../lib/core/listen';
import type { ListenOptions, ServerEvent } from '../../lib/core/listen';
import { sendTo } from '../../lib/core/sendTo';
import { serveEach } from '../../lib/core/serveEach';
import { upgradeTls, type UpgradeTlsClientOptions, type UpgradeTlsServerOptions } from '../../lib/core/upgradeTls';
import { TlsHandshakeError, TlsUpgradeError, WriteAfterEndError } from '../../lib/errors';
import { decodeLines } from '../../lib/framing/lines/decodeLines';
import { encodeProxyHeader } from '../../lib/proxy/encodeProxyHeader';
import { connectionPair } from '../../lib/testing/connectionPair';
import type { Connection } from '../../lib/types';
import { makeTestCerts } from '../support/certs';
import { closed, expectTcpHandlesBackTo, plainConnect, tcpHandleCount } from '../support/net';

const certs = makeTestCerts();
const serverTls: UpgradeTlsServerOptions = {
  isServer: true,
  key: certs.key,
  cert: certs.cert,
  ALPNProtocols: ['x-rxnet'],
};

/** A line server that answers `ok` to each plain line and, on STARTTLS, says `go` and switches; then it echoes over TLS. */
async function startTlsServer(
  upgrade: (conn: Connection) => Observable<Connection> = (conn) => upgradeTls(conn, serverTls),
  options: Partial<ListenOptions> = {},
) {
  const port$ = new ReplaySubject<number>(1);
  const events: ServerEvent[] = [];
  /** The ids an `upgrade` event named as it was told: [connection's, previous's]. */
  const upgradeIds: [number, number][] = [];
  const upgraded: Connection[] = [];
  const failures: unknown[] = [];
  const subscription = listen({
    port: 0,
    host: '127.0.0.1',
    ...options,
    listening: (a) => typeof a !== 'string' && port$.next(a.port),
    events: (e) => {
      events.push(e);
      if (e.type === 'upgrade') upgradeIds.push([e.connection.id, e.previous.id]);
      const also = options.events;
      if (typeof also === 'function') also(e);
      else also?.next(e);
    },
  })
    .pipe(
      serveEach(
        (conn) => {
          const plain = conn.data$.pipe(
            decodeLines(),
            map((line) => line.toString()),
            takeWhile((line) => line !== 'STARTTLS'),
            map((line) => `ok ${line}\n`),
            sendTo(conn, { end: false }),
          );
          const secure = defer(() => {
            conn.write('go\n');
            return upgrade(conn);
          }).pipe(
            mergeMap((secureConn) => {
              upgraded.push(secureConn);
              return secureConn.data$.pipe(sendTo(secureConn));
            }),
          );
          return concat(plain, secure);
        },
        { onError: (error) => failures.push(error) },
      ),
    )
    .subscribe();
  return { port: await firstValueFrom(port$), subscription, events, upgradeIds, upgraded, failures };
}

/** Reads from `socket` until `text` has come; resolves with everything read. */
function readUntil(socket: net.Socket, text: string): Promise<string> {
  return new Promise((resolve, reject) => {
    let seen = '';
    const onData = (chunk: Buffer) => {
      seen += chunk.toString('latin1');
      if (!seen.includes(text)) return;
      socket.removeListener('data', onData).removeListener('close', onClose);
      socket.pause();
      resolve(seen);
    };
    const onClose = () => reject(new Error(`closed before ${JSON.stringify(text)}; read ${JSON.stringify(seen)}`));
    socket.on('data', onData).once('close', onClose);
    socket.resume();
  });
}

/** TLS as a client over an open plain socket; resolves once the handshake is done. */
function clientHandshake(socket: net.Socket, options: tls.ConnectionOptions = {}): Promise<tls.TLSSocket> {
  return new Promise((resolve, reject) => {
    const secure = tls.connect({ socket, ca: certs.ca, servername: 'localhost', ...options }, () => resolve(secure));
    secure.once('error', reject);
  });
}

/** Writes `text` on `secure` and reads the same number of bytes back. */
async function echo(secure: tls.TLSSocket, text: string): Promise<string> {
  secure.write(text);
  let back = '';
  for await (const chunk of secure) {
    back += (chunk as Buffer).toString();
    if (back.length >= text.length) break;
  }
  return back;
}

describe('upgradeTls, server side', () => {
  it('answers in clear up to STARTTLS, then serves over TLS with conn.tls filled in, nothing lost either side of the switch', async () => {
    const baseline = tcpHandleCount();
    const server = await startTlsServer();
    const socket = await plainConnect(server.port);
    socket.write('HELLO\nSTARTTLS\n');
    expect(await readUntil(socket, 'go\n')).toBe('ok HELLO\ngo\n');
    const secure = await clientHandshake(socket, { ALPNProtocols: ['x-rxnet'] });
    expect(await echo(secure, 'over tls')).toBe('over tls');

    const [conn] = server.upgraded;
    expect(conn.tls).toMatchObject({ protocol: 'TLSv1.3', alpnProtocol: 'x-rxnet', servername: 'localhost' });
    expect(conn.remoteAddress).toBe('127.0.0.1');
    // The plain connection is over; the TLS one took its place and is the one the server says closed.
    const first = server.events.find((e) => e.type === 'connection')!;
    const plain = (first as { connection: Connection }).connection;
    expect(plain.closed).toBe(true);
    expect(conn.id).toBe(plain.id);
    expect(() => plain.write('x')).toThrow(WriteAfterEndError);
    await expect(lastValueFrom(plain.data$, { defaultValue: 'ended' })).resolves.toBe('ended');
    // Already TLS: no second switch.
    await expect(firstValueFrom(upgradeTls(conn, serverTls))).rejects.toMatchObject({ reason: 'unsupported' });
    secure.end();
    await closed(socket);
    await new Promise<void>((resolve) => {
      const check = () => (server.events.some((e) => e.type === 'disconnect') ? resolve() : setImmediate(check));
      check();
    });
    const disconnects = server.events.filter((e) => e.type === 'disconnect') as { connection: Connection }[];
    expect(disconnects.map((e) => e.connection)).toEqual([conn]);
    expect(server.events.filter((e) => e.type === 'upgrade')).toEqual([
      { type: 'upgrade', connection: conn, previous: plain, open: 1, handshakeMs: expect.any(Number) },
    ]);
    // The handshake's time, from the switch to its end: a round trip or two on loopback, far under the deadline.
    const { handshakeMs } = server.events.find((e) => e.type === 'upgrade') as { handshakeMs: number };
    expect(handshakeMs).toBeGreaterThanOrEqual(0);
    expect(handshakeMs).toBeLessThan(5000);
    // The TLS connection already has the plain one's id when the event names it (a listener keying by id).
    expect(server.upgradeIds).toEqual([[plain.id, plain.id]]);
    expect(server.failures).toEqual([]);
    server.subscription.unsubscribe();
    await expectTcpHandlesBackTo(baseline);
  });

  it('hands TLS the bytes that came after the application stopped reading (the ClientHello already in the socket)', async () => {
    let waiting = 0;
    const server = await startTlsServer((conn) => {
      // Wait until the client's first TLS bytes are in the socket's buffer, then switch.
      return new Observable<Connection>((subscriber) => {
        const raw = conn.socket!;
        const onReadable = () => {
          raw.removeListener('readable', onReadable);
          waiting = raw.readableLength;
          upgradeTls(conn, serverTls).subscribe(subscriber);
        };
        raw.on('readable', onReadable);
      });
    });
    const socket = await plainConnect(server.port);
    socket.write('STARTTLS\n');
    await readUntil(socket, 'go\n');
    const secure = await clientHandshake(socket);
    expect(await echo(secure, 'after the hello')).toBe('after the hello');
    expect(waiting).toBeGreaterThan(0);
    secure.destroy();
    server.subscription.unsubscribe();
  });

  it('refuses bytes sent with STARTTLS before the go-ahead (buffered), never feeding them to TLS', async () => {
    const results: unknown[] = [];
    const server = await startTlsServer((conn) =>
      upgradeTls(conn, serverTls).pipe(
        catchError((error) => {
          results.push(error);
          conn.destroy();
          return EMPTY;
        }),
      ),
    );
    const socket = await plainConnect(server.port);
    // An injection as in CVE-2011-0411: plain commands after STARTTLS in the same packet.
    socket.write('STARTTLS\nRSET\nMAIL FROM:<x@y>\n');
    socket.resume();
    await closed(socket);
    expect(results).toHaveLength(1);
    expect(results[0]).toBeInstanceOf(TlsUpgradeError);
    expect(results[0]).toMatchObject({ code: 'ERR_TLS_UPGRADE', reason: 'buffered' });
    server.subscription.unsubscribe();
  });

  it('refuses a connection whose data$ is still read, and leaves it working', async () => {
    const outcome = new ReplaySubject<unknown>(1);
    const server = await startTlsServer(() => EMPTY, {});
    server.subscription.unsubscribe();
    const port$ = new ReplaySubject<number>(1);
    const sub = listen({ port: 0, host: '127.0.0.1', listening: (a) => typeof a !== 'string' && port$.next(a.port) })
      .pipe(
        serveEach((conn) =>
          conn.data$.pipe(
            tap(() =>
              upgradeTls(conn, serverTls).subscribe({
                error: (error) => {
                  outcome.next(error);
                  conn.write('still plain\n');
                },
              }),
            ),
            ignoreElements(),
          ),
        ),
      )
      .subscribe();
    const socket = await plainConnect(await firstValueFrom(port$));
    socket.write('STARTTLS\n');
    expect(await readUntil(socket, 'still plain\n')).toBe('still plain\n');
    expect(await firstValueFrom(outcome)).toMatchObject({ reason: 'reading' });
    socket.destroy();
    sub.unsubscribe();
  });

  it('fails with TlsHandshakeError (ERR_TLS_HANDSHAKE_TIMEOUT) when no handshake comes within handshakeTimeout, and destroys the connection', async () => {
    const errors: unknown[] = [];
    const quick: UpgradeTlsServerOptions = { ...serverTls, handshakeTimeout: 300 };
    const server = await startTlsServer((conn) => upgradeTls(conn, quick).pipe(tap({ error: (e) => errors.push(e) })));
    const socket = await plainConnect(server.port);
    socket.write('STARTTLS\n');
    await readUntil(socket, 'go\n');
    const started = Date.now();
    socket.resume();
    await closed(socket);
    const waited = Date.now() - started;
    expect(waited).toBeGreaterThanOrEqual(250);
    expect(waited).toBeLessThan(3000);
    expect(errors[0]).toBeInstanceOf(TlsHandshakeError);
    expect(errors[0]).toMatchObject({ reason: 'ERR_TLS_HANDSHAKE_TIMEOUT' });
    // Told as the plain connection's disconnect: it never became a TLS one.
    await new Promise<void>((resolve) => {
      const check = () => (server.events.some((e) => e.type === 'disconnect') ? resolve() : setImmediate(check));
      check();
    });
    expect(server.upgraded).toEqual([]);
    server.subscription.unsubscribe();
  });

  it('fails with TlsHandshakeError when the client rejects the certificate; the client sees it too', async () => {
    const errors: unknown[] = [];
    const server = await startTlsServer((conn) =>
      upgradeTls(conn, serverTls).pipe(tap({ error: (e) => errors.push(e) })),
    );
    const socket = await plainConnect(server.port);
    socket.write('STARTTLS\n');
    await readUntil(socket, 'go\n');
    await expect(clientHandshake(socket, { ca: certs.otherCa })).rejects.toThrow();
    await closed(socket);
    await new Promise<void>((resolve) => {
      const check = () => (errors.length > 0 ? resolve() : setImmediate(check));
      check();
    });
    expect(errors[0]).toBeInstanceOf(TlsHandshakeError);
    server.subscription.unsubscribe();
  });

  it('destroys a connection still in its handshake when the server is unsubscribed, and one upgraded since', async () => {
    const baseline = tcpHandleCount();
    const server = await startTlsServer();
    const waiting = await plainConnect(server.port);
    waiting.write('STARTTLS\n');
    await readUntil(waiting, 'go\n');
    const done = await plainConnect(server.port);
    done.write('STARTTLS\n');
    await readUntil(done, 'go\n');
    const secure = await clientHandshake(done);
    expect(await echo(secure, 'x')).toBe('x');
    waiting.resume();
    server.subscription.unsubscribe();
    await Promise.all([closed(waiting), closed(done)]);
    await expectTcpHandlesBackTo(baseline);
  });

  it('upgrades a PROXY view keeping the client address of its header', async () => {
    const server = await startTlsServer(undefined, { proxyProtocol: true });
    const socket = await plainConnect(server.port);
    const header = encodeProxyHeader({
      version: 1,
      source: { address: '203.0.113.7', port: 5555 },
      destination: { address: '127.0.0.1', port: 25 },
    });
    socket.write(Buffer.concat([header, Buffer.from('STARTTLS\n')]));
    await readUntil(socket, 'go\n');
    const secure = await clientHandshake(socket);
    expect(await echo(secure, 'proxied')).toBe('proxied');
    expect(server.upgraded[0].remoteAddress).toBe('203.0.113.7');
    expect(server.upgraded[0].tls?.protocol).toBe('TLSv1.3');
    secure.destroy();
    server.subscription.unsubscribe();
  });

  it('says closed for a connection destroyed before the switch', async () => {
    const outcome = new ReplaySubject<unknown>(1);
    const port$ = new ReplaySubject<number>(1);
    const sub = listen({ port: 0, host: '127.0.0.1', listening: (a) => typeof a !== 'string' && port$.next(a.port) })
      .pipe(
        serveEach((conn) => {
          conn.destroy();
          return upgradeTls(conn, serverTls).pipe(tap({ error: (e) => outcome.next(e) }));
        }),
      )
      .subscribe();
    const socket = await plainConnect(await firstValueFrom(port$));
    socket.resume();
    expect(await firstValueFrom(outcome)).toMatchObject({ reason: 'closed' });
    await closed(socket);
    sub.unsubscribe();
  });

  it('destroys the TLS connection when its handler fails after the switch (destroy on the plain one reaches it)', async () => {
    const server = await startTlsServer((conn) =>
      upgradeTls(conn, serverTls).pipe(
        mergeMap((secureConn) =>
          secureConn.data$.pipe(
            tap(() => {
              throw new Error('handler failed');
            }),
            map(() => secureConn),
          ),
        ),
      ),
    );
    const socket = await plainConnect(server.port);
    socket.write('STARTTLS\n');
    await readUntil(socket, 'go\n');
    const secure = await clientHandshake(socket);
    secure.write('boom');
    secure.resume();
    await closed(secure);
    expect(server.failures).toMatchObject([{ message: 'handler failed' }]);
    server.subscription.unsubscribe();
  });

  it('refuses bytes sent with STARTTLS after a PROXY header in the same packet (buffered), as without one', async () => {
    const results: unknown[] = [];
    const server = await startTlsServer(
      (conn) =>
        upgradeTls(conn, serverTls).pipe(
          catchError((error) => {
            results.push(error);
            conn.destroy();
            return EMPTY;
          }),
        ),
      { proxyProtocol: true },
    );
    const socket = await plainConnect(server.port);
    const header = encodeProxyHeader({
      version: 1,
      source: { address: '192.0.2.9', port: 9 },
      destination: { address: '127.0.0.1', port: 25 },
    });
    socket.write(Buffer.concat([header, Buffer.from('STARTTLS\nRSET\n')]));
    socket.resume();
    await closed(socket);
    expect(results).toMatchObject([{ code: 'ERR_TLS_UPGRADE', reason: 'buffered' }]);
    server.subscription.unsubscribe();
  });

  it('counts the TLS connection in serverMetrics from the switch on', async () => {
    const metrics = serverMetrics();
    const server = await startTlsServer(undefined, { events: metrics.events });
    const socket = await plainConnect(server.port);
    socket.write('STARTTLS\n');
    await readUntil(socket, 'go\n');
    const secure = await clientHandshake(socket);
    const payload = 'x'.repeat(100_000);
    expect(await echo(secure, payload)).toHaveLength(100_000);
    const snapshot = await firstValueFrom(metrics.metrics$);
    expect(snapshot.bytesRead).toBeGreaterThanOrEqual(100_000 + 'STARTTLS\n'.length);
    expect(snapshot.bytesWritten).toBeGreaterThanOrEqual(100_000 + 'go\n'.length);
    expect(snapshot.open).toBe(1);
    secure.destroy();
    server.subscription.unsubscribe();
  });

  it('says unsupported for an in-memory connection', async () => {
    const [a] = connectionPair();
    await expect(firstValueFrom(upgradeTls(a, serverTls))).rejects.toMatchObject({ reason: 'unsupported' });
    a.destroy();
  });

  it('checks its options', () => {
    const [a] = connectionPair();
    expect(() => upgradeTls(a, null as never)).toThrow('options');
    expect(() => upgradeTls(a, { ...serverTls, handshakeTimeout: -1 })).toThrow('handshakeTimeout');
    expect(() => upgradeTls(a, { isServer: true, key: 'not a key', cert: 'nor a cert' })).toThrow();
    a.destroy();
  });
});

describe('upgradeTls, client side', () => {
  /** A plain Node server that says `go` on STARTTLS and switches to TLS as the server, then echoes. */
  async function nodeStartTlsServer(onSecure?: (secure: tls.TLSSocket, raw: net.Socket) => void) {
    const server = net.createServer((socket) => {
      socket.once('data', () => {
        socket.write('go\n', () => {
          const secure = new tls.TLSSocket(socket, { isServer: true, key: certs.key, cert: certs.cert });
          secure.on('error', () => secure.destroy());
          secure.once('secure', () => onSecure?.(secure, socket));
          secure.pipe(secure);
        });
      });
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    return { server, port: (server.address() as net.AddressInfo).port };
  }

  /** connect(), STARTTLS, the plain lines up to the go-ahead, then upgradeTls with `options` and `secure` over it. */
  const overStartTls = <T>(
    port: number,
    options: UpgradeTlsClientOptions,
    secure: (tlsConn: Connection) => Observable<T>,
  ): Observable<T> =>
    connect({ port, host: '127.0.0.1' }).pipe(
      mergeMap((conn) => {
        conn.write('STARTTLS\n');
        const plain = conn.data$.pipe(
          decodeLines(),
          takeWhile((line) => line.toString() !== 'go'),
          ignoreElements(),
        );
        return concat(plain, defer(() => upgradeTls(conn, options)).pipe(mergeMap(secure)));
      }),
    );

  it('switches a connect() connection to TLS after the go-ahead and talks over it', async () => {
    const { server, port } = await nodeStartTlsServer();
    try {
      const reply = await lastValueFrom(
        overStartTls(port, { ca: certs.ca, servername: 'localhost' }, (secureConn) => {
          expect(secureConn.tls).toMatchObject({ authorized: true, protocol: 'TLSv1.3' });
          secureConn.write('ping over tls');
          secureConn.end();
          return secureConn.data$.pipe(
            map((chunk) => chunk.toString()),
            toArray(),
            map((parts) => parts.join('')),
          );
        }),
      );
      expect(reply).toBe('ping over tls');
    } finally {
      server.close();
    }
  });

  it('throws at the call for client options Node refuses (a bad certificate), leaving the connection alone', () => {
    const [a] = connectionPair();
    expect(() => upgradeTls(a, { cert: 'garbage', key: 'garbage' })).toThrow();
    expect(() => upgradeTls(a, { ciphers: 'no-such-cipher' })).toThrow();
    a.destroy();
  });

  it("errors connect() with the TLS connection's reset, so that retry reconnects", async () => {
    let serverSide: net.Socket | undefined;
    const { server, port } = await nodeStartTlsServer((_, raw) => (serverSide = raw));
    try {
      const outcome = lastValueFrom(
        overStartTls(port, { ca: certs.ca, servername: 'localhost' }, (tlsConn) => {
          tlsConn.write('x');
          // The server resets the connection once it has read something.
          return tlsConn.data$.pipe(
            tap(() => serverSide?.resetAndDestroy()),
            catchError(() => EMPTY),
          );
        }),
        { defaultValue: 'completed' },
      );
      await expect(outcome).rejects.toMatchObject({ code: 'ECONNRESET' });
    } finally {
      server.close();
    }
  });

  it('fails with TlsHandshakeError for a server certificate it does not trust', async () => {
    const { server, port } = await nodeStartTlsServer();
    try {
      const outcome = lastValueFrom(overStartTls(port, { ca: certs.otherCa, servername: 'localhost' }, () => EMPTY));
      const error = await outcome.catch((e: unknown) => e);
      expect(error).toBeInstanceOf(TlsHandshakeError);
      expect((error as TlsHandshakeError).reason).toMatch(/VERIFY|CERT|ISSUER/);
    } finally {
      server.close();
    }
  });
});
