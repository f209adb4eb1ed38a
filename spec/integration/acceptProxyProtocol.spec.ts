// listen({ proxyProtocol }) over real loopback sockets: each connection's reported address, a bad or late header per connection.
import { filter, map, type Observable } from 'rxjs';
import { ProxyProtocolTimeoutError } from '../../lib/errors';
import { encodeProxyHeader } from '../../lib/proxy/encodeProxyHeader';
import type { ServerEvent } from '../../lib/core/listen';
import { sendTo } from '../../lib/core/sendTo';
import { decodeLines } from '../../lib/framing/lines/decodeLines';
import type { Connection } from '../../lib/types';
import { errorData } from '../support/framing';
import { closed, plainConnect, readAll, startServer } from '../support/net';

const V1 = 'PROXY TCP4 203.0.113.7 198.51.100.1 40000 443\r\n';

describe('listen({ proxyProtocol }) on loopback', () => {
  /** Answers each line with the address the connection reports and the line. */
  const whoAmI = (conn: Connection): Observable<unknown> =>
    conn.data$.pipe(
      decodeLines(),
      map((line) => `${conn.remoteAddress}:${conn.remotePort} ${line}\n`),
      sendTo(conn),
    );

  it('each connection reports the address its header gives, v1 and v2, and its bytes are intact', async () => {
    const server = await startServer(whoAmI, { proxyProtocol: true });
    try {
      const v1 = await plainConnect(server.port);
      v1.end(`${V1}one\ntwo\n`);
      const v2 = await plainConnect(server.port);
      v2.write(
        encodeProxyHeader({
          source: { address: '2001:db8::42', port: 6000 },
          destination: { address: '2001:db8::1', port: 443 },
        }),
      );
      v2.end('three\n');
      expect((await readAll(v1)).toString()).toBe('203.0.113.7:40000 one\n203.0.113.7:40000 two\n');
      expect((await readAll(v2)).toString()).toBe('2001:db8::42:6000 three\n');
      expect(server.errors).toEqual([]);
    } finally {
      server.subscription.unsubscribe();
    }
  });

  it('a bad header ends that connection only, told as a disconnect with hadError; the server goes on', async () => {
    const events: ServerEvent[] = [];
    const server = await startServer(whoAmI, { proxyProtocol: { timeout: 5000 }, events: (e) => events.push(e) });
    try {
      const bad = await plainConnect(server.port);
      bad.on('error', () => undefined);
      bad.write('GET / HTTP/1.1\r\n\r\n');
      await closed(bad);
      const good = await plainConnect(server.port);
      good.end(`${V1}still here\n`);
      expect((await readAll(good)).toString()).toBe('203.0.113.7:40000 still here\n');
      const disconnects = events.filter(
        (e): e is Extract<ServerEvent, { type: 'disconnect' }> => e.type === 'disconnect',
      );
      expect(disconnects[0].hadError).toBe(true);
      expect(server.errors).toEqual([]);
    } finally {
      server.subscription.unsubscribe();
    }
  });

  it('a silent client is destroyed after the timeout with ProxyProtocolTimeoutError', async () => {
    const failures: Promise<unknown>[] = [];
    // The connection event tells the raw connection, before its header is read.
    const onEvent = (event: ServerEvent) => {
      if (event.type !== 'connection') return;
      failures.push(
        new Promise((resolve) =>
          event.connection.events$
            .pipe(filter((e) => e.type === 'error'))
            .subscribe((e) => resolve((e as { error: Error }).error)),
        ),
      );
    };
    const server = await startServer(whoAmI, { proxyProtocol: { timeout: 50 }, events: onEvent });
    try {
      const silent = await plainConnect(server.port);
      silent.on('error', () => undefined);
      await closed(silent);
      expect(errorData(await failures[0])).toEqual(errorData(new ProxyProtocolTimeoutError(50, 0)));
    } finally {
      server.subscription.unsubscribe();
    }
  });
});
