// acceptProxyProtocol on the test kit: the view's addresses and data$, errors per connection, timeouts in virtual time.
// listen({ proxyProtocol }) over real loopback sockets is in spec/integration/acceptProxyProtocol.spec.ts.
import { Subject, map, mergeMap, take } from 'rxjs';
import { TestScheduler } from 'rxjs/testing';
import { VirtualTimeScheduler } from 'rxjs';
import {
  InvalidArgumentError,
  ProxyHeaderMissingError,
  ProxyHeaderTooLongError,
  ProxyProtocolError,
  ProxyProtocolTimeoutError,
} from '../../lib/errors';
import { encodeProxyHeader } from '../../lib/proxy/encodeProxyHeader';
import {
  ProxiedConnection,
  acceptProxyProtocol,
  type AcceptProxyProtocolOptions,
} from '../../lib/proxy/acceptProxyProtocol';
import { listen } from '../../lib/core/listen';
import { connectionPair } from '../../lib/testing/connectionPair';
import type { MemoryConnection } from '../../lib/testing/MemoryConnection';
import type { Connection } from '../../lib/types';
import { errorData } from '../support/framing';

const V1 = 'PROXY TCP4 203.0.113.7 198.51.100.1 40000 443\r\n';

interface Accepted {
  view?: ProxiedConnection;
  error?: unknown;
  completed: boolean;
}

/** Runs the adapter over the server side of an in-memory pair; the test writes on `client`. */
function accept(server: Connection, options?: AcceptProxyProtocolOptions): Accepted {
  const result: Accepted = { completed: false };
  acceptProxyProtocol(server, options).subscribe({
    next: (view) => (result.view = view),
    error: (error) => (result.error = error),
    complete: () => (result.completed = true),
  });
  return result;
}

/** Collects a connection's data$ as text. */
function collect(connection: Connection): { text: string; done: boolean; error?: unknown } {
  const out: { text: string; done: boolean; error?: unknown } = { text: '', done: false };
  connection.data$.subscribe({
    next: (chunk) => (out.text += chunk.toString('latin1')),
    error: (error) => (out.error = error),
    complete: () => (out.done = true),
  });
  return out;
}

/** A scheduler nobody flushes: the adapter's timeout never fires where a test does not want it to. */
const never = new VirtualTimeScheduler();

function virtual(body: (helpers: { flush: () => void; scheduler: TestScheduler }) => void): void {
  const scheduler = new TestScheduler((a, b) => expect(a).toEqual(b));
  scheduler.run(({ flush }) => body({ flush, scheduler }));
}

describe('acceptProxyProtocol', () => {
  it('emits a view with the header source as remote address and the header destination as local address', () => {
    virtual(({ flush }) => {
      const [client, server] = connectionPair();
      const accepted = accept(server);
      client.write(V1 + 'HEL');
      flush();
      const view = accepted.view!;
      expect(accepted.completed).toBe(true);
      expect(view).toBeInstanceOf(ProxiedConnection);
      expect([view.remoteAddress, view.remotePort, view.remoteFamily]).toEqual(['203.0.113.7', 40000, 'IPv4']);
      expect([view.localAddress, view.localPort]).toEqual(['198.51.100.1', 443]);
      expect(view.proxy).toEqual({
        header: view.proxy.header,
        address: 'memory',
        port: server.remotePort,
        family: server.remoteFamily,
      });
      expect(view.proxy.header).toMatchObject({ version: 1, source: { address: '203.0.113.7', port: 40000 } });
      expect(view.id).toBe(server.id);
      expect(view.inner).toBe(server);
    });
  });

  it('loses no byte: what followed the header in its chunk, and what came later, is the view data$', () => {
    virtual(({ flush }) => {
      const [client, server] = connectionPair();
      const accepted = accept(server);
      client.write(V1 + 'HEL');
      flush();
      // Nobody reads the view yet: later bytes wait (the connection is paused), then all arrive in order.
      client.write('LO ');
      client.write('WORLD');
      client.end();
      flush();
      const data = collect(accepted.view!);
      flush();
      expect(data).toEqual({ text: 'HELLO WORLD', done: true });
    });
  });

  it.each([
    ['one byte per chunk', 1],
    ['7-byte chunks', 7],
    ['everything merged', 'merge' as const],
  ])('gives the same view and bytes with %s', (_, chunking) => {
    virtual(({ flush }) => {
      const [client, server] = connectionPair({ chunking });
      const accepted = accept(server);
      const header = encodeProxyHeader({
        version: 2,
        source: { address: '2001:db8::7', port: 5000 },
        destination: { address: '2001:db8::1', port: 80 },
        tlvs: [{ type: 0x02, value: Buffer.from('example.com') }],
      });
      client.write(Buffer.concat([header, Buffer.from('GET / HTTP/1.0\r\n')]));
      client.write('\r\n');
      client.end();
      flush();
      const data = collect(accepted.view!);
      flush();
      expect([accepted.view!.remoteAddress, accepted.view!.remotePort, accepted.view!.remoteFamily]).toEqual([
        '2001:db8::7',
        5000,
        'IPv6',
      ]);
      expect(accepted.view!.proxy.header!.tlvs[0].value.toString()).toBe('example.com');
      expect(data).toEqual({ text: 'GET / HTTP/1.0\r\n\r\n', done: true });
    });
  });

  it('reports the socket addresses for a LOCAL header (a health check) and for UNKNOWN', () => {
    virtual(({ flush }) => {
      for (const header of [encodeProxyHeader({ command: 'local' }), Buffer.from('PROXY UNKNOWN\r\n')]) {
        const [client, server] = connectionPair();
        const accepted = accept(server);
        client.write(header);
        flush();
        const view = accepted.view!;
        expect([view.remoteAddress, view.remotePort, view.localPort]).toEqual([
          server.remoteAddress,
          server.remotePort,
          server.localPort,
        ]);
        expect(view.proxy.header).toBeDefined();
      }
    });
  });

  it.each([
    [
      'a malformed v1 header',
      'PROXY TCP4 1.2.3.4 5.6.7.8 1 99999\r\nhello',
      new ProxyProtocolError(1, 'bad destination port "99999"'),
    ],
    ['a missing header', 'GET / HTTP/1.1\r\n', new ProxyHeaderMissingError('47')],
    ['a v1 line without CRLF', `PROXY UNKNOWN ${'x'.repeat(120)}`, new ProxyHeaderTooLongError(1, 107, 108)],
  ])('errors with the typed error and destroys only that connection on %s', (_, bytes, expected) => {
    virtual(({ flush }) => {
      const [client, server] = connectionPair();
      const [otherClient, otherServer] = connectionPair();
      const accepted = accept(server);
      const other = accept(otherServer);
      client.write(bytes);
      otherClient.write(V1 + 'fine');
      flush();
      expect(errorData(accepted.error)).toEqual(errorData(expected));
      expect(accepted.view).toBeUndefined();
      expect(server.closed).toBe(true);
      expect(otherServer.closed).toBe(false);
      const data = collect(other.view!);
      flush();
      expect(data.text).toBe('fine');
    });
  });

  it('times out a required header on its scheduler: ProxyProtocolTimeoutError at exactly `timeout` ms', () => {
    const scheduler = new TestScheduler((a, b) => expect(a).toEqual(b));
    scheduler.run(({ cold, expectObservable }) => {
      const [client, server] = connectionPair();
      cold('-a', { a: 'PROXY TCP4 1.2' }).subscribe((text) => client.write(text));
      expectObservable(acceptProxyProtocol(server, { timeout: 50 }).pipe(map(() => 'view'))).toBe(
        '50ms #',
        undefined,
        new ProxyProtocolTimeoutError(50, 14),
      );
    });
  });

  it('hands an optional connection on without a header when nothing arrived within `timeout` (server speaks first)', () => {
    virtual(({ flush, scheduler }) => {
      const [client, server] = connectionPair();
      let at = -1;
      let view: ProxiedConnection | undefined;
      acceptProxyProtocol(server, { required: false, timeout: 20 }).subscribe((v) => {
        view = v;
        at = scheduler.now();
      });
      flush();
      expect(at).toBe(20);
      expect(view!.proxy.header).toBeUndefined();
      expect(view!.remotePort).toBe(server.remotePort);
      view!.write('220 hello\r\n');
      const got = collect(client);
      const data = collect(view!);
      client.write('PROX');
      client.end();
      flush();
      expect(got.text).toBe('220 hello\r\n');
      expect(data).toEqual({ text: 'PROX', done: true });
    });
  });

  it('with an optional header, lets a direct client through at its first byte, and still decodes a proxied one', () => {
    virtual(({ flush }) => {
      const [direct, directServer] = connectionPair();
      const [proxied, proxiedServer] = connectionPair();
      const a = accept(directServer, { required: false });
      const b = accept(proxiedServer, { required: false });
      direct.write('hello');
      proxied.write(V1 + 'hello');
      flush();
      expect(a.view!.proxy.header).toBeUndefined();
      expect(collect(a.view!).text).toBe('hello');
      expect(b.view!.remoteAddress).toBe('203.0.113.7');
      expect(collect(b.view!).text).toBe('hello');
    });
  });

  it('a peer that ends before the header: a missing header when required, an ended view when optional', () => {
    virtual(({ flush }) => {
      const [c1, s1] = connectionPair();
      const [c2, s2] = connectionPair();
      const required = accept(s1);
      const optional = accept(s2, { required: false });
      c1.end();
      c2.end();
      flush();
      expect(errorData(required.error)).toEqual(errorData(new ProxyHeaderMissingError('')));
      const data = collect(optional.view!);
      flush();
      expect(data).toEqual({ text: '', done: true });
    });
  });

  it('passes a socket error before the header on as it is', () => {
    virtual(({ flush }) => {
      const [client, server] = connectionPair();
      const accepted = accept(server, { scheduler: never });
      client.write('PROX');
      flush();
      client.reset();
      flush();
      expect(accepted.error).toMatchObject({ code: 'ECONNRESET' });
    });
  });

  it('early unsubscribe stops reading and leaves the connection open to its owner', () => {
    virtual(({ flush }) => {
      const [client, server] = connectionPair();
      const subscription = acceptProxyProtocol(server, { scheduler: never }).subscribe();
      client.write('PROXY TCP4');
      flush();
      subscription.unsubscribe();
      client.write(' rest');
      flush();
      expect(server.closed).toBe(false);
      // The bytes the adapter had not decided about are its own; later bytes wait for the next reader.
      const data = collect(server);
      flush();
      expect(data.text).toBe(' rest');
    });
  });

  it('unsubscribes through mergeMap when the outer subscription ends', () => {
    virtual(({ flush }) => {
      const [, server] = connectionPair();
      const seen: unknown[] = [];
      const subscription = new Subject<Connection>()
        .pipe(mergeMap((conn) => acceptProxyProtocol(conn, { timeout: 10 })))
        .subscribe({ next: (v) => seen.push(v), error: (e) => seen.push(e) });
      const outer = new Subject<MemoryConnection>();
      const sub2 = outer
        .pipe(mergeMap((conn) => acceptProxyProtocol(conn, { timeout: 10 })))
        .subscribe({ error: (e) => seen.push(e) });
      outer.next(server);
      sub2.unsubscribe();
      subscription.unsubscribe();
      flush();
      // The timer died with the subscription: no timeout error, and the connection is untouched.
      expect(seen).toEqual([]);
      expect(server.closed).toBe(false);
    });
  });

  it('works with take(1) on a synchronous source of connections', () => {
    virtual(({ flush }) => {
      const [client, server] = connectionPair();
      client.write(V1);
      flush();
      const views: ProxiedConnection[] = [];
      acceptProxyProtocol(server)
        .pipe(take(1))
        .subscribe((v) => views.push(v));
      flush();
      expect(views.map((v) => v.remoteAddress)).toEqual(['203.0.113.7']);
    });
  });

  it('checks its options when created', () => {
    const [, server] = connectionPair();
    expect(() => acceptProxyProtocol(server, { timeout: -1 })).toThrow(InvalidArgumentError);
    expect(() => acceptProxyProtocol(server, { maxHeaderLength: 1 })).toThrow(InvalidArgumentError);
    expect(() => listen({ port: 0, proxyProtocol: { timeout: 1.5 } })).toThrow(InvalidArgumentError);
    // With tls too (the header, then the handshake: spec/integration/tls-proxy.spec.ts).
    expect(() => listen({ port: 0, proxyProtocol: { timeout: -1 }, tls: {} })).toThrow(InvalidArgumentError);
  });

  it('the view delegates the write side and socket options to the connection', () => {
    virtual(({ flush }) => {
      const [client, server] = connectionPair();
      const accepted = accept(server);
      client.write(V1);
      flush();
      const view = accepted.view!;
      expect(view.setNoDelay(true)).toBe(view);
      expect(server.noDelay).toBe(true);
      const got = collect(client);
      view.write('a');
      view.end('b');
      flush();
      expect(got).toEqual({ text: 'ab', done: true });
      expect(view.writeEnded).toBe(true);
    });
  });
});
