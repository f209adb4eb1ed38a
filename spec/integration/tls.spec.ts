// TLS through the same listen/connect API: echo, framing, handshake failure, certificate details.
import { createHash, randomBytes } from 'crypto';
import {
  NEVER,
  ReplaySubject,
  Subject,
  catchError,
  firstValueFrom,
  lastValueFrom,
  map,
  mergeMap,
  of,
  toArray,
} from 'rxjs';
import { connect } from '../../lib/core/connect';
import { TlsHandshakeError } from '../../lib/errors';
import { decodeLengthField } from '../../lib/framing/lengthField/decodeLengthField';
import { encodeLengthField } from '../../lib/framing/lengthField/encodeLengthField';
import { sendTo } from '../../lib/core/sendTo';
import { listen } from '../../lib/core/listen';
import type { ListenOptions, ServerEvent } from '../../lib/core/listen';
import type { Connection } from '../../lib/types';
import { makeTestCerts } from '../support/certs';
import { closed, plainConnect } from '../support/net';

const certs = makeTestCerts();

/** A TLS server on 127.0.0.1:0 running `handle` per connection; `options` and `tls` add to its settings. */
async function tlsServer(
  handle: (c: Connection) => import('rxjs').Observable<unknown>,
  options: Partial<ListenOptions> = {},
  tls: ListenOptions['tls'] = {},
) {
  const port$ = new ReplaySubject<number>(1);
  const events: ServerEvent[] = [];
  const subscription = listen({
    port: 0,
    host: '127.0.0.1',
    ...options,
    tls: { key: certs.key, cert: certs.cert, ...tls },
    listening: (a) => typeof a !== 'string' && port$.next(a.port),
    events: (e) => events.push(e),
  })
    .pipe(mergeMap(handle))
    .subscribe();
  return { port: await firstValueFrom(port$), subscription, events };
}

describe('TLS', () => {
  it('echoes 4 MiB over TLS with an intact SHA-256 and reports the session on connection.tls', async () => {
    const server = await tlsServer((conn) => conn.data$.pipe(sendTo(conn, { pauseSource: conn })));
    try {
      const payload = randomBytes(4 * 1024 * 1024);
      const result = await firstValueFrom(
        connect({ port: server.port, host: '127.0.0.1', tls: { ca: certs.ca } }).pipe(
          mergeMap((conn) => {
            const info = conn.tls;
            of(payload).pipe(sendTo(conn)).subscribe();
            return conn.data$.pipe(
              toArray(),
              map((chunks) => ({ info, digest: createHash('sha256').update(Buffer.concat(chunks)).digest('hex') })),
            );
          }),
        ),
      );
      expect(result.digest).toBe(createHash('sha256').update(payload).digest('hex'));
      expect(result.info).toMatchObject({ authorized: true, authorizationError: undefined });
      expect(result.info?.protocol).toMatch(/^TLSv1\.[23]$/);
      expect(result.info?.peerCertificate.subject.CN).toBe('localhost');
    } finally {
      server.subscription.unsubscribe();
    }
  });

  it('carries length-prefixed frames over TLS unchanged', async () => {
    const server = await tlsServer((conn) =>
      conn.data$.pipe(
        decodeLengthField({ lengthFieldLength: 4, initialBytesToStrip: 4, maxFrameLength: 1 << 20 }),
        encodeLengthField({ lengthFieldLength: 4 }),
        sendTo(conn),
      ),
    );
    try {
      const frames = ['one', 'two', 'x'.repeat(70_000)].map((s) => Buffer.from(s));
      const echoed = await firstValueFrom(
        connect({ port: server.port, host: 'localhost', tls: { ca: certs.ca } }).pipe(
          mergeMap((conn) => {
            of(...frames)
              .pipe(encodeLengthField({ lengthFieldLength: 4 }), sendTo(conn))
              .subscribe();
            return conn.data$.pipe(
              decodeLengthField({ lengthFieldLength: 4, initialBytesToStrip: 4, maxFrameLength: 1 << 20 }),
              toArray(),
            );
          }),
        ),
      );
      expect(echoed.map(String)).toEqual(frames.map(String));
    } finally {
      server.subscription.unsubscribe();
    }
  });

  it('fails with a typed TlsHandshakeError when the server certificate is not from a trusted CA', async () => {
    const server = await tlsServer((conn) => conn.data$.pipe(sendTo(conn)));
    try {
      const error = await firstValueFrom(
        connect({ port: server.port, host: '127.0.0.1', tls: { ca: certs.otherCa } }).pipe(catchError((e) => of(e))),
      );
      expect(error).toBeInstanceOf(TlsHandshakeError);
      expect(error).toMatchObject({ name: 'TlsHandshakeError', code: 'ERR_TLS_HANDSHAKE' });
      expect(['UNABLE_TO_VERIFY_LEAF_SIGNATURE', 'UNABLE_TO_GET_ISSUER_CERT_LOCALLY']).toContain(error.reason);
      // The server goes on serving.
      const ok = await firstValueFrom(
        connect({ port: server.port, host: '127.0.0.1', tls: { ca: certs.ca } }).pipe(
          mergeMap((conn) => {
            conn.end('still serving');
            return conn.data$.pipe(toArray());
          }),
        ),
      );
      expect(Buffer.concat(ok).toString()).toBe('still serving');
    } finally {
      server.subscription.unsubscribe();
    }
  });

  it('reports a client that fails the handshake as a tlsClientError event, destroys its socket and goes on', async () => {
    const shutdown = new Subject<void>();
    const events: ServerEvent[] = [];
    const port$ = new ReplaySubject<number>(1);
    const done = lastValueFrom(
      listen({
        port: 0,
        host: '127.0.0.1',
        tls: { key: certs.key, cert: certs.cert },
        shutdown,
        listening: (a) => typeof a !== 'string' && port$.next(a.port),
        events: (e) => events.push(e),
      }).pipe(mergeMap((conn) => conn.data$.pipe(sendTo(conn)))),
      { defaultValue: undefined },
    );
    const port = await firstValueFrom(port$);
    const garbage = await plainConnect(port);
    garbage.on('error', () => undefined);
    garbage.end('this is not a TLS ClientHello\r\n\r\n');
    await closed(garbage);
    while (!events.some((e) => e.type === 'tlsClientError')) await new Promise((r) => setImmediate(r));
    expect(events.find((e) => e.type === 'tlsClientError')).toMatchObject({ remoteAddress: '127.0.0.1' });
    expect(events.some((e) => e.type === 'error')).toBe(false);
    // A graceful shutdown completes only once Node's server has no socket left: the failed one was destroyed.
    shutdown.next();
    await done;
    expect(events[events.length - 1]).toEqual({ type: 'close' });
  });

  it('tells a peer that closes in mid-handshake at once, not at handshakeTimeout; served clients stay half-open', async () => {
    const { port, subscription, events } = await tlsServer(
      (conn) => conn.data$.pipe(sendTo(conn)),
      {},
      {
        handshakeTimeout: 5000,
      },
    );
    try {
      const started = Date.now();
      const quitter = await plainConnect(port);
      quitter.on('error', () => undefined);
      // The first bytes of a TLS record (a handshake, TLS 1.0 record version), then our FIN.
      quitter.end(Buffer.from([0x16, 0x03, 0x01, 0x00]));
      quitter.resume();
      await closed(quitter);
      while (!events.some((e) => e.type === 'tlsClientError')) await new Promise((r) => setImmediate(r));
      expect(Date.now() - started).toBeLessThan(2000);
      // A client that ends its side after the handshake still gets its reply (allowHalfOpen, listen's default).
      const reply = await firstValueFrom(
        connect({ port, host: '127.0.0.1', tls: { ca: certs.ca } }).pipe(
          mergeMap((conn) => {
            conn.end('half-open');
            return conn.data$.pipe(toArray());
          }),
        ),
      );
      expect(Buffer.concat(reply).toString()).toBe('half-open');
    } finally {
      subscription.unsubscribe();
    }
  });

  it('destroys clients that never send a ClientHello at handshakeTimeout, counts them, and frees their slots', async () => {
    const { port, subscription, events } = await tlsServer(
      (conn) => conn.data$.pipe(sendTo(conn)),
      { maxConnections: 5 },
      { handshakeTimeout: 300 },
    );
    try {
      // Eight silent peers against five slots: three are dropped at once, five hold a slot until the deadline.
      const started = Date.now();
      const silent = await Promise.all(Array.from({ length: 8 }, () => plainConnect(port)));
      for (const socket of silent) socket.on('error', () => undefined);
      await Promise.all(silent.map(closed));
      const waited = Date.now() - started;
      const timeouts = events.filter((e) => e.type === 'tlsClientError');
      expect(timeouts.length + events.filter((e) => e.type === 'drop').length).toBe(8);
      expect(timeouts.length).toBeGreaterThanOrEqual(5);
      for (const e of timeouts) {
        expect(e).toMatchObject({ error: { code: 'ERR_TLS_HANDSHAKE_TIMEOUT' }, remoteAddress: '127.0.0.1' });
      }
      // The deadline runs from each accept, which came after `started`.
      expect(waited).toBeGreaterThanOrEqual(300);
      // The slots are free again: an honest client gets in.
      const reply = await firstValueFrom(
        connect({ port, host: '127.0.0.1', tls: { ca: certs.ca } }).pipe(
          mergeMap((conn) => {
            conn.end('served');
            return conn.data$.pipe(toArray());
          }),
        ),
      );
      expect(Buffer.concat(reply).toString()).toBe('served');
    } finally {
      subscription.unsubscribe();
    }
  });

  it('destroys sockets still in their handshake when the subscription ends', async () => {
    const { port, subscription, events: connections } = await tlsServer(() => NEVER);
    const silent = await Promise.all(Array.from({ length: 3 }, () => plainConnect(port)));
    for (const socket of silent) socket.on('error', () => undefined);
    const allClosed = Promise.all(silent.map(closed));
    subscription.unsubscribe();
    // Without the teardown these would wait for the 10 s deadline; the spec's own timeout is shorter.
    const started = Date.now();
    await allClosed;
    expect(Date.now() - started).toBeLessThan(5_000);
    expect(connections.filter((e) => e.type === 'connection')).toEqual([]);
  }, 8_000);
});
