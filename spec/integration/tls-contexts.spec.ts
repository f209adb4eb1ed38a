// TLS served by listen(), checked with the real openssl s_client: a certificate swapped while serving (secureContext$),
// certificates chosen by server name (sniCallback), ALPN; certificates made at test time.
import { spawn } from 'child_process';
import * as tls from 'tls';
import { Subject } from 'rxjs';
import { listen } from '../../lib/core/listen';
import type { ServerEvent } from '../../lib/core/ServerEvent';
import { sendTo } from '../../lib/core/sendTo';
import { serveEach } from '../../lib/core/serveEach';
import { sniCallback } from '../../lib/core/tls';
import type { Connection } from '../../lib/types';
import { makeTestCerts, type TestCerts } from '../support/certs';
import { expectTcpHandlesBackTo, tcpHandleCount } from '../support/net';
import { findProgram } from '../support/proxies';

const openssl = findProgram('openssl');
const MISSING = 'openssl not found (Debian: apt-get install openssl)';
// Without openssl the tests are registered as skipped (never passed) and the title says why.
const describeWithOpenssl = openssl === undefined ? describe.skip : describe;
const SETUP = openssl ?? `skipped: ${MISSING}`;
if (openssl === undefined) console.warn(`tls-contexts spec skipped: ${MISSING}`);

/** Runs openssl with `args`, `input` on its stdin; resolves with its stdout. */
function run(args: string[], input = ''): Promise<string> {
  return new Promise((resolve, reject) => {
    const child = spawn(openssl!, args, { stdio: ['pipe', 'pipe', 'pipe'] });
    let out = '';
    child.stdout.on('data', (chunk: Buffer) => (out += chunk.toString()));
    child.stderr.resume();
    child.once('error', reject);
    child.once('exit', () => resolve(out));
    child.stdin.end(input);
  });
}

/** The serial number of a PEM certificate, as `openssl x509 -noout -serial` prints it. */
const serialOf = async (pem: Buffer | string) => (await run(['x509', '-noout', '-serial'], pem.toString())).trim();

/** What `openssl s_client` gets from the server: the serial of its certificate, and the ALPN line. */
async function handshake(port: number, ...args: string[]): Promise<{ serial: string; alpn: string | undefined }> {
  const out = await run(['s_client', '-connect', `127.0.0.1:${port}`, ...args]);
  const pem = /-----BEGIN CERTIFICATE-----[\s\S]+?-----END CERTIFICATE-----/.exec(out);
  if (pem === null) throw new Error(`no certificate in s_client's output:\n${out}`);
  return { serial: await serialOf(pem[0]), alpn: /^ALPN protocol: (.+)$/m.exec(out)?.[1] };
}

describeWithOpenssl(`listen({ tls }) seen by openssl s_client [${SETUP}]`, () => {
  let first: TestCerts;
  let second: TestCerts;
  let third: TestCerts;
  beforeAll(() => {
    [first, second, third] = [makeTestCerts(), makeTestCerts(), makeTestCerts()];
  });

  /** An echo server with `tls`; resolves with its port, the events it told and the connections it served. */
  async function serve(options: Parameters<typeof listen>[0]['tls']) {
    const events: ServerEvent[] = [];
    const served: Connection[] = [];
    let port = 0;
    const subscription = listen({
      port: 0,
      host: '127.0.0.1',
      tls: options,
      listening: (address) => (port = typeof address === 'string' ? 0 : address.port),
      events: (event) => events.push(event),
    })
      .pipe(
        serveEach((conn) => {
          served.push(conn);
          return conn.data$.pipe(sendTo(conn));
        }),
      )
      .subscribe();
    while (port === 0) await new Promise((resolve) => setImmediate(resolve));
    return { port, events, served, subscription };
  }

  it('swaps the certificate for new connections while one opened before is still served; a bad one is refused', async () => {
    const baseline = tcpHandleCount();
    const contexts = new Subject<tls.SecureContextOptions>();
    const server = await serve({ key: first.key, cert: first.cert, secureContext$: contexts });
    const before = tls.connect({ host: '127.0.0.1', port: server.port, rejectUnauthorized: false });
    try {
      await new Promise((resolve) => before.once('secureConnect', resolve));
      expect((await handshake(server.port)).serial).toBe(await serialOf(first.cert));

      contexts.next({ key: second.key, cert: second.cert });
      expect(server.events.filter((e) => e.type === 'tlsContext')).toEqual([{ type: 'tlsContext', error: undefined }]);
      expect((await handshake(server.port)).serial).toBe(await serialOf(second.cert));

      // The connection made before the swap still answers.
      before.write('still here\n');
      await new Promise<void>((resolve) =>
        before.once('data', (chunk: Buffer) => (expect(chunk.toString()).toBe('still here\n'), resolve())),
      );

      // A key that does not belong to its certificate: refused, told, the second stays in force.
      contexts.next({ key: third.key, cert: second.cert });
      const refused = server.events.filter((e) => e.type === 'tlsContext').at(-1);
      expect(refused).toMatchObject({ type: 'tlsContext', error: expect.any(Error) });
      expect((await handshake(server.port)).serial).toBe(await serialOf(second.cert));
      expect(contexts.observed).toBe(true);
    } finally {
      before.destroy();
      server.subscription.unsubscribe();
    }
    expect(contexts.observed).toBe(false); // unsubscribed with the server
    await expectTcpHandlesBackTo(baseline);
  }, 30_000);

  it('keeps the settings a renewal leaves out (the CA for client certificates) and drops one given as undefined', async () => {
    const baseline = tcpHandleCount();
    const contexts = new Subject<tls.SecureContextOptions>();
    // Mutual TLS: clients must show a certificate first's CA signed.
    const server = await serve({
      key: second.key,
      cert: second.cert,
      ca: first.ca,
      requestCert: true,
      rejectUnauthorized: true,
      secureContext$: contexts,
    });
    /** Echoes one line over a new TLS connection, with first's client certificate or none; false if refused. */
    const echoes = (withCertificate: boolean) =>
      new Promise<boolean>((resolve) => {
        const client = tls.connect({
          host: '127.0.0.1',
          port: server.port,
          rejectUnauthorized: false,
          ...(withCertificate ? { key: first.key, cert: first.cert } : {}),
        });
        client.once('data', (chunk: Buffer) => (client.destroy(), resolve(chunk.toString() === 'hi\n')));
        client.once('error', () => (client.destroy(), resolve(false)));
        client.once('close', () => resolve(false));
        client.write('hi\n');
      });
    try {
      expect([await echoes(true), await echoes(false)]).toEqual([true, false]);
      // A renewal of key and certificate only: the CA given to listen still decides who may connect.
      contexts.next({ key: third.key, cert: third.cert });
      expect(server.events.filter((e) => e.type === 'tlsContext')).toEqual([{ type: 'tlsContext', error: undefined }]);
      expect([await echoes(true), await echoes(false)]).toEqual([true, false]);
      // A CA given as undefined is dropped: no client certificate can be verified any more.
      contexts.next({ key: third.key, cert: third.cert, ca: undefined });
      expect(await echoes(true)).toBe(false);
    } finally {
      server.subscription.unsubscribe();
    }
    await expectTcpHandlesBackTo(baseline);
  }, 30_000);

  it('chooses the certificate by server name (sniCallback), tells the name on conn.tls, and negotiates ALPN', async () => {
    const baseline = tcpHandleCount();
    const server = await serve({
      key: first.key,
      cert: first.cert,
      SNICallback: sniCallback({ 'a.test': { key: second.key, cert: second.cert }, '*.b.test': third }),
      ALPNProtocols: ['x-rxnet', 'http/1.1'],
    });
    try {
      const a = await handshake(server.port, '-servername', 'a.test', '-alpn', 'h2,x-rxnet');
      expect(a).toEqual({ serial: await serialOf(second.cert), alpn: 'x-rxnet' });
      expect((await handshake(server.port, '-servername', 'api.b.test')).serial).toBe(await serialOf(third.cert));
      expect((await handshake(server.port, '-servername', 'c.test')).serial).toBe(await serialOf(first.cert));
      expect((await handshake(server.port, '-noservername')).serial).toBe(await serialOf(first.cert));
      expect(server.served.map((conn) => conn.tls?.servername)).toEqual(['a.test', 'api.b.test', 'c.test', false]);
      expect(server.served[0].tls?.alpnProtocol).toBe('x-rxnet');
    } finally {
      server.subscription.unsubscribe();
    }
    await expectTcpHandlesBackTo(baseline);
  }, 30_000);

  it('sniCallback refuses a bad name, and a bad certificate at once', () => {
    expect(() => sniCallback({ 'bad name': { key: first.key, cert: first.cert } })).toThrow(
      expect.objectContaining({ code: 'ERR_INVALID_ARGUMENT', argument: 'contexts' }),
    );
    expect(() => sniCallback({ 'a.test': { key: first.key, cert: 'not a certificate' } })).toThrow();
    expect(() => listen({ port: 0, tls: { secureContext$: 'later' as never } })).toThrow(
      expect.objectContaining({ argument: 'tls.secureContext$' }),
    );
  });
});
