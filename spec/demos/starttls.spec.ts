// The starttls demo against the real `openssl s_client -starttls smtp` and against the demo's own rxnet client:
// greeting and EHLO in clear, STARTTLS, the handshake, EHLO over TLS; certificates made at test time with openssl.
import { spawn } from 'child_process';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { ReplaySubject, firstValueFrom, type Subscription } from 'rxjs';
import { startTlsClient, startTlsServer } from '../../demos/starttls';
import { TlsHandshakeError } from '../../lib/errors';
import { makeTestCerts, type TestCerts } from '../support/certs';
import { closed, expectTcpHandlesBackTo, plainConnect, tcpHandleCount } from '../support/net';
import { findProgram } from '../support/proxies';

const openssl = findProgram('openssl');
const MISSING = 'openssl not found (Debian: apt-get install openssl)';
// Without openssl (it also makes the certificates) the tests are registered as skipped, never passed.
const describeWithOpenssl = openssl === undefined ? describe.skip : describe;
const SETUP = openssl ?? `skipped: ${MISSING}`;
if (openssl === undefined) console.warn(`starttls demo spec skipped: ${MISSING}`);

/** Runs `openssl s_client` with `args` and `input` on its stdin; resolves with stdout and stderr together. */
function sClient(args: string[], input: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const child = spawn(openssl!, ['s_client', ...args], { stdio: ['pipe', 'pipe', 'pipe'] });
    let out = '';
    child.stdout.on('data', (chunk: Buffer) => (out += chunk.toString()));
    child.stderr.on('data', (chunk: Buffer) => (out += chunk.toString()));
    child.once('error', reject);
    child.once('exit', () => resolve(out));
    child.stdin.end(input);
  });
}

describeWithOpenssl(`starttls demo [${SETUP}]`, () => {
  let certs: TestCerts;
  let dir: string;
  let server: { port: number; log: string[]; subscription: Subscription };
  let handles = 0;

  beforeAll(async () => {
    certs = makeTestCerts();
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'rxnet-starttls-'));
    fs.writeFileSync(path.join(dir, 'ca.crt'), certs.ca);
    handles = tcpHandleCount();
    const log: string[] = [];
    const bound = new ReplaySubject<number>(1);
    const subscription = startTlsServer({
      port: 0,
      host: '127.0.0.1',
      key: certs.key,
      cert: certs.cert,
      log: (line) => log.push(line),
      listening: (address) => typeof address !== 'string' && bound.next(address.port),
    }).subscribe({ error: (error) => bound.error(error) });
    server = { port: await firstValueFrom(bound), log, subscription };
  });

  afterAll(async () => {
    server?.subscription.unsubscribe();
    if (dir !== undefined) fs.rmSync(dir, { recursive: true, force: true });
    await expectTcpHandlesBackTo(handles);
  });

  it('openssl s_client -starttls smtp completes the handshake, and EHLO after it gets 250', async () => {
    const out = await sClient(
      [
        '-starttls',
        'smtp',
        '-connect',
        `127.0.0.1:${server.port}`,
        '-CAfile',
        path.join(dir, 'ca.crt'),
        '-servername',
        'localhost',
        '-verify_return_error',
        '-crlf',
        '-ign_eof',
      ],
      'EHLO after.tls\nQUIT\n',
    );
    // s_client sent its own EHLO in clear, found 250-STARTTLS, sent STARTTLS and got 220 before the handshake.
    expect(out).toMatch(/Verify return code: 0 \(ok\)/);
    expect(out).toMatch(/Protocol\s*:\s*TLSv1\.3/);
    // Over TLS: the EHLO reply no longer offers STARTTLS.
    expect(out).toMatch(/250-rxnet\.localhost greets after\.tls\r?\n250 8BITMIME/);
    expect(out).not.toMatch(/greets after\.tls\r?\n250-STARTTLS/);
    expect(out).toMatch(/221 2\.0\.0 Bye/);
    expect(server.log.some((line) => /switched to TLSv1\.3$/.test(line))).toBe(true);
  });

  it('npm run demo -- starttls --port 0 (a process, with its --key and --cert) is what s_client talks to', async () => {
    fs.writeFileSync(path.join(dir, 'server.key'), certs.key);
    fs.writeFileSync(path.join(dir, 'server.crt'), certs.cert);
    const args = ['demos/run.ts', 'starttls', '--port', '0', '--host', '127.0.0.1'];
    const demo = spawn(
      process.execPath,
      [
        '-r',
        'ts-node/register/transpile-only',
        ...args,
        '--key',
        path.join(dir, 'server.key'),
        '--cert',
        path.join(dir, 'server.crt'),
      ],
      {
        cwd: path.resolve(__dirname, '../..'),
        stdio: ['ignore', 'pipe', 'pipe'],
      },
    );
    const exited = new Promise<number | null>((resolve) => demo.once('exit', (code) => resolve(code)));
    try {
      let printed = '';
      const port = await new Promise<number>((resolve, reject) => {
        demo.stdout.on('data', (chunk: Buffer) => {
          printed += chunk.toString();
          const m = /starttls server listening: (\{.*\})/.exec(printed);
          if (m) resolve((JSON.parse(m[1]) as { port: number }).port);
        });
        demo.stderr.on('data', (chunk: Buffer) => (printed += chunk.toString()));
        demo.once('exit', () => reject(new Error(`the demo exited:\n${printed}`)));
      });
      const out = await sClient(
        [
          '-starttls',
          'smtp',
          '-connect',
          `127.0.0.1:${port}`,
          '-CAfile',
          path.join(dir, 'ca.crt'),
          '-verify_return_error',
          '-crlf',
          '-ign_eof',
        ],
        'EHLO from.process\nQUIT\n',
      );
      expect(out).toMatch(/Verify return code: 0 \(ok\)/);
      expect(out).toMatch(/250-rxnet\.localhost greets from\.process\r?\n250 8BITMIME/);
    } finally {
      demo.kill('SIGINT');
      expect(await exited).toBe(0);
    }
  });

  it("the demo's rxnet client does the same dialogue with upgradeTls on its side", async () => {
    const { lines, protocol } = await startTlsClient({ port: server.port, ca: certs.ca });
    expect(protocol).toBe('TLSv1.3');
    expect(lines).toEqual([
      '220 rxnet.localhost ESMTP rxnet starttls demo',
      '250-rxnet.localhost greets rxnet.client',
      '250-STARTTLS',
      '250 8BITMIME',
      '220 2.0.0 Ready to start TLS',
      // From here over TLS.
      '250-rxnet.localhost greets rxnet.client',
      '250 8BITMIME',
      '221 2.0.0 Bye',
    ]);
  });

  it('the client fails with TlsHandshakeError against a certificate it does not trust', async () => {
    const error = await startTlsClient({ port: server.port, ca: certs.otherCa }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(TlsHandshakeError);
  });

  it('closes a connection that sends plain commands after STARTTLS before the go-ahead (no injection)', async () => {
    const socket = await plainConnect(server.port);
    let seen = '';
    socket.on('data', (chunk: Buffer) => (seen += chunk.toString('latin1')));
    socket.write('EHLO x\r\nSTARTTLS\r\nRSET\r\n');
    await closed(socket);
    // The go-ahead went out in clear, then the connection was refused: RSET was never answered.
    expect(seen).toMatch(/220 2\.0\.0 Ready to start TLS\r\n$/);
    expect(server.log.some((line) => line.endsWith('ERR_TLS_UPGRADE'))).toBe(true);
  });
});
