// A real nginx stream proxy (proxy_protocol on) in front of two rxnet servers: each sees its clients' own addresses.
import * as net from 'net';
import { map, type Observable } from 'rxjs';
import { decodeLines } from '../../lib/framing/lines/decodeLines';
import { sendTo } from '../../lib/core/sendTo';
import { ProxiedConnection } from '../../lib/proxy/acceptProxyProtocol';
import type { Connection } from '../../lib/types';
import type { ServerEvent } from '../../lib/core/listen';
import { findNginx, freePort, hasIPv6Loopback, startNginx, type RunningNginx } from '../support/proxies';
import { startServer, type Started } from '../support/net';

const nginx = findNginx();
// Without nginx and its stream module the test is registered as skipped (never passed) and the title says why.
const describeWithNginx = nginx.found ? describe : describe.skip;
const SETUP = nginx.found ? `nginx ${nginx.version}` : `skipped: ${nginx.reason}`;
if (!nginx.found) console.warn(`nginx-proxy spec skipped: ${nginx.reason}`);

/** What a server reports about a connection, as JSON, one line per line received. */
function reportAs(name: string) {
  return (conn: Connection): Observable<unknown> =>
    conn.data$.pipe(
      decodeLines(),
      map((line) => {
        const proxied = conn instanceof ProxiedConnection ? conn : undefined;
        return `${JSON.stringify({
          server: name,
          line: line.toString(),
          remoteAddress: conn.remoteAddress,
          remotePort: conn.remotePort,
          remoteFamily: conn.remoteFamily,
          localPort: conn.localPort,
          proxyAddress: proxied?.proxy.address,
          proxyPort: proxied?.proxy.port,
          version: proxied?.proxy.header?.version,
        })}\n`;
      }),
      sendTo(conn),
    );
}

interface Report {
  server: string;
  line: string;
  remoteAddress: string;
  remotePort: number;
  remoteFamily: string;
  localPort: number;
  proxyAddress: string;
  proxyPort: number;
  version: number;
}

/** Connects (from `localAddress`), sends one line, reads the one-line report, closes. */
function ask(
  host: string,
  port: number,
  localAddress: string,
  line: string,
): Promise<{ clientPort: number; report: Report }> {
  return new Promise((resolve, reject) => {
    const socket = net.connect({ host, port, localAddress });
    let text = '';
    socket.setEncoding('utf8');
    socket.once('error', reject);
    socket.on('data', (chunk: string) => {
      text += chunk;
      if (!text.includes('\n')) return;
      const clientPort = socket.localPort!;
      socket.end();
      socket.once('close', () => resolve({ clientPort, report: JSON.parse(text) as Report }));
    });
    socket.once('connect', () => socket.write(`${line}\n`));
  });
}

describeWithNginx(`behind a real nginx stream proxy with proxy_protocol on [${SETUP}]`, () => {
  it("each of two rxnet servers sees its own clients' addresses, not nginx's", async () => {
    if (!nginx.found) throw new Error(nginx.reason); // not reached: the describe is skipped then
    let a: Started | undefined;
    let b: Started | undefined;
    let proxy: RunningNginx | undefined;
    try {
      a = await startServer(reportAs('A'), { proxyProtocol: { timeout: 5000 } });
      b = await startServer(reportAs('B'), { proxyProtocol: { timeout: 5000 } });
      const frontA = await freePort();
      const frontB = await freePort();
      const ipv6 = await hasIPv6Loopback();
      const frontA6 = ipv6 ? await freePort('::1') : 0;
      proxy = await startNginx(nginx, [
        { listen: `127.0.0.1:${frontA}`, upstream: `127.0.0.1:${a.port}` },
        { listen: `127.0.0.1:${frontB}`, upstream: `127.0.0.1:${b.port}` },
        ...(ipv6 ? [{ listen: `[::1]:${frontA6}`, upstream: `127.0.0.1:${a.port}` }] : []),
      ]);

      // Clients from other loopback addresses than nginx's own 127.0.0.1, three per server, at once.
      const asks = [
        ...[1, 2, 3].map((i) => ask('127.0.0.1', frontA, '127.0.0.2', `a${i}`)),
        ...[1, 2, 3].map((i) => ask('127.0.0.1', frontB, '127.0.0.3', `b${i}`)),
      ];
      const answers = await Promise.all(asks);
      for (const { clientPort, report } of answers) {
        const toA = report.line.startsWith('a');
        expect(report).toEqual({
          server: toA ? 'A' : 'B',
          line: report.line,
          remoteAddress: toA ? '127.0.0.2' : '127.0.0.3',
          remotePort: clientPort,
          remoteFamily: 'IPv4',
          // The header's destination: the nginx front end the client connected to.
          localPort: toA ? frontA : frontB,
          // The TCP peer is nginx itself, from its own ephemeral port.
          proxyAddress: '127.0.0.1',
          proxyPort: expect.any(Number),
          version: 1,
        });
        expect(report.proxyPort).not.toBe(clientPort);
      }
      expect(answers.map((x) => x.report.line).sort()).toEqual(['a1', 'a2', 'a3', 'b1', 'b2', 'b3']);

      if (ipv6) {
        const { clientPort, report } = await ask('::1', frontA6, '::1', 'six');
        expect(report).toMatchObject({
          server: 'A',
          remoteAddress: '::1',
          remotePort: clientPort,
          remoteFamily: 'IPv6',
          proxyAddress: '127.0.0.1',
        });
      } else {
        console.warn('nginx-proxy spec: no IPv6 loopback here, the TCP6 header case was not exercised');
      }
      expect(a.errors).toEqual([]);
      expect(b.errors).toEqual([]);
    } finally {
      await proxy?.stop();
      a?.subscription.unsubscribe();
      b?.subscription.unsubscribe();
    }
  }, 60_000);

  it('applies the per-address limit and the deny list to the addresses nginx reports, trusting only nginx', async () => {
    if (!nginx.found) throw new Error(nginx.reason); // not reached: the describe is skipped then
    const events: ServerEvent[] = [];
    let server: Started | undefined;
    let proxy: RunningNginx | undefined;
    const held: net.Socket[] = [];
    try {
      server = await startServer(reportAs('A'), {
        proxyProtocol: { trusted: ['127.0.0.1'], timeout: 5000 },
        maxConnectionsPerAddress: 1,
        deny: ['127.0.0.4'],
        events: (e) => events.push(e),
      });
      const front = await freePort();
      proxy = await startNginx(nginx, [{ listen: `127.0.0.1:${front}`, upstream: `127.0.0.1:${server.port}` }]);

      // 127.0.0.2 holds its one slot open...
      const first = await tryAsk(front, '127.0.0.2', 'first', true);
      expect(first.report?.remoteAddress).toBe('127.0.0.2');
      held.push(first.socket);
      // ...so its second connection is refused, while 127.0.0.3 is served and 127.0.0.4 is denied.
      expect((await tryAsk(front, '127.0.0.2', 'second')).report).toBeUndefined();
      expect((await tryAsk(front, '127.0.0.3', 'third')).report?.remoteAddress).toBe('127.0.0.3');
      expect((await tryAsk(front, '127.0.0.4', 'fourth')).report).toBeUndefined();
      const drops = events.flatMap((e) => (e.type === 'drop' ? [[e.reason, e.remoteAddress]] : []));
      expect(drops).toEqual([
        ['max-per-address', '127.0.0.2'],
        ['denied', '127.0.0.4'],
      ]);
      // The same server refuses a client that reaches it directly with a header of its own.
      const direct = net.connect({ host: '127.0.0.1', port: server.port, localAddress: '127.0.0.5' });
      direct.on('error', () => undefined);
      direct.write('PROXY TCP4 1.2.3.4 127.0.0.1 1000 2000\r\nhello\n');
      await new Promise((resolve) => direct.once('close', resolve));
      expect(events.filter((e) => e.type === 'drop').at(-1)).toMatchObject({
        reason: 'untrusted-proxy',
        remoteAddress: '127.0.0.5',
      });
      expect(server.errors).toEqual([]);
    } finally {
      for (const socket of held) socket.destroy();
      await proxy?.stop();
      server?.subscription.unsubscribe();
    }
  }, 60_000);
});

/**
 * Connects to nginx from `localAddress` and sends one line; resolves with the report, or with no report when the
 * connection closes without one (refused upstream). Closes the socket unless `keep`.
 */
function tryAsk(
  port: number,
  localAddress: string,
  line: string,
  keep = false,
): Promise<{ socket: net.Socket; report: Report | undefined }> {
  return new Promise((resolve) => {
    const socket = net.connect({ host: '127.0.0.1', port, localAddress });
    let text = '';
    socket.setEncoding('utf8');
    socket.on('error', () => undefined);
    const onClose = () => resolve({ socket, report: undefined });
    socket.once('close', onClose);
    socket.on('data', (chunk: string) => {
      text += chunk;
      if (!text.includes('\n')) return;
      socket.removeListener('close', onClose);
      const report = JSON.parse(text) as Report;
      if (keep) resolve({ socket, report });
      else {
        socket.end();
        socket.once('close', () => resolve({ socket, report }));
      }
    });
    socket.once('connect', () => socket.write(`${line}\n`));
  });
}
