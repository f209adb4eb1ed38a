// Admission on real sockets from distinct loopback sources (Linux routes all of 127.0.0.0/8 to lo): per-address
// limits, accept rates, allow/deny and trusted PROXY sources decide on the real client, and refusals are told.
import * as net from 'net';
import * as tls from 'tls';
import { map } from 'rxjs';
import { decodeLines } from '../../lib/framing/lines/decodeLines';
import { sendTo } from '../../lib/core/sendTo';
import type { ServerEvent } from '../../lib/core/listen';
import type { ListenOptions } from '../../lib/core/listen';
import { serverMetrics } from '../../lib/observe/metrics';
import type { Connection } from '../../lib/types';
import { makeTestCerts } from '../support/certs';
import { closed, startServer, type Started } from '../support/net';

/** Answers each line with the client address the server sees and the line. */
const whoAmI = (conn: Connection) =>
  conn.data$.pipe(
    decodeLines(),
    map((line) => `${conn.remoteAddress} ${line}\n`),
    sendTo(conn),
  );

interface Server extends Started {
  events: ServerEvent[];
  drops(reason?: string): Extract<ServerEvent, { type: 'drop' }>[];
}

async function serve(options: Partial<ListenOptions>): Promise<Server> {
  const events: ServerEvent[] = [];
  const started = await startServer(whoAmI, { ...options, events: (e) => events.push(e) });
  const drops = (reason?: string) =>
    events.filter(
      (e): e is Extract<ServerEvent, { type: 'drop' }> =>
        e.type === 'drop' && (reason === undefined || e.reason === reason),
    );
  return { ...started, events, drops };
}

/** Opens a socket from `localAddress` and resolves once connected (the kernel completes the handshake). */
function connectFrom(port: number, localAddress: string): Promise<net.Socket> {
  return new Promise((resolve, reject) => {
    const socket = net.connect({ port, host: '127.0.0.1', localAddress }, () => {
      socket.removeListener('error', reject);
      socket.on('error', () => undefined); // a refused socket may be reset
      resolve(socket);
    });
    socket.once('error', reject);
  });
}

/** Writes `line` and resolves with the one-line answer, or with undefined when the server closes instead. */
function ask(socket: net.Socket, line: string): Promise<string | undefined> {
  return new Promise((resolve) => {
    // Refused before we ask: the server's FIN (or reset) may already have closed it.
    if (socket.closed || socket.destroyed) {
      resolve(undefined);
      return;
    }
    let text = '';
    const onData = (chunk: Buffer) => {
      text += chunk.toString();
      const end = text.indexOf('\n');
      if (end < 0) return;
      socket.removeListener('data', onData);
      socket.removeListener('close', onClose);
      resolve(text.slice(0, end));
    };
    const onClose = () => resolve(undefined);
    socket.on('data', onData);
    socket.once('close', onClose);
    socket.write(`${line}\n`);
  });
}

async function until(condition: () => boolean): Promise<void> {
  while (!condition()) await new Promise((resolve) => setImmediate(resolve));
}

async function closeAll(sockets: net.Socket[]): Promise<void> {
  for (const s of sockets) s.destroy();
  await Promise.all(sockets.map(closed));
}

describe('admission on real sockets', () => {
  it('with maxConnectionsPerAddress 3, five from 127.0.0.2 leave three open and two refused, and 127.0.0.3 is served', async () => {
    const server = await serve({ maxConnectionsPerAddress: 3 });
    const sockets: net.Socket[] = [];
    try {
      for (let i = 0; i < 5; i++) sockets.push(await connectFrom(server.port, '127.0.0.2'));
      await until(
        () => server.drops().length === 2 && server.events.filter((e) => e.type === 'connection').length === 3,
      );
      expect(server.drops().map((d) => [d.reason, d.remoteAddress])).toEqual([
        ['max-per-address', '127.0.0.2'],
        ['max-per-address', '127.0.0.2'],
      ]);
      const answers = await Promise.all(sockets.map((s, i) => ask(s, `c${i}`)));
      expect(answers.filter((a) => a !== undefined).sort()).toEqual(['127.0.0.2 c0', '127.0.0.2 c1', '127.0.0.2 c2']);
      expect(answers.slice(3)).toEqual([undefined, undefined]);
      const other = await connectFrom(server.port, '127.0.0.3');
      sockets.push(other);
      expect(await ask(other, 'hello')).toBe('127.0.0.3 hello');
      // A slot freed by a close is free again.
      sockets[0].destroy();
      await until(() => server.events.filter((e) => e.type === 'disconnect').length >= 1);
      const again = await connectFrom(server.port, '127.0.0.2');
      sockets.push(again);
      expect(await ask(again, 'again')).toBe('127.0.0.2 again');
      expect(server.errors).toEqual([]);
    } finally {
      await closeAll(sockets);
      server.subscription.unsubscribe();
    }
  });

  it('2,000 silent connections from 127.0.0.2 do not stop 127.0.0.3 from being served within 100 ms each', async () => {
    const metrics = serverMetrics();
    const events: ServerEvent[] = [];
    const started = await startServer(whoAmI, {
      maxConnections: 1000,
      maxConnectionsPerAddress: 10,
      events: (e) => {
        events.push(e);
        metrics.events.next(e);
      },
    });
    const silent: net.Socket[] = [];
    const honest: net.Socket[] = [];
    try {
      for (let batch = 0; batch < 8; batch++) {
        const opened = await Promise.all(Array.from({ length: 250 }, () => connectFrom(started.port, '127.0.0.2')));
        silent.push(...opened);
      }
      await until(() => metrics.snapshot().drops['max-per-address'] === 1990);
      const latencies: number[] = [];
      for (let i = 0; i < 20; i++) {
        const begin = performance.now();
        const socket = await connectFrom(started.port, '127.0.0.3');
        honest.push(socket);
        expect(await ask(socket, `q${i}`)).toBe(`127.0.0.3 q${i}`);
        latencies.push(performance.now() - begin);
        socket.end();
      }
      expect(Math.max(...latencies)).toBeLessThan(100);
      const snapshot = metrics.snapshot();
      expect(snapshot.drops['max-per-address']).toBe(1990);
      expect(snapshot.dropped).toBe(1990);
      // 127.0.0.2 held ten slots, never more; the other 990 of maxConnections stayed free for everyone else.
      const from2 = events.filter((e) => e.type === 'connection' && e.connection.remoteAddress === '127.0.0.2');
      expect(from2).toHaveLength(10);
    } finally {
      await closeAll([...silent, ...honest]);
      started.subscription.unsubscribe();
    }
  }, 60_000);

  it('a deny rule for 127.0.0.2/32 refuses it and accepts 127.0.0.3; allow admits only what it lists', async () => {
    const server = await serve({ deny: ['127.0.0.2/32'] });
    const only = await serve({ allow: ['127.0.0.4'] });
    const sockets: net.Socket[] = [];
    try {
      const denied = await connectFrom(server.port, '127.0.0.2');
      const served = await connectFrom(server.port, '127.0.0.3');
      sockets.push(denied, served);
      expect(await ask(denied, 'x')).toBeUndefined();
      expect(await ask(served, 'y')).toBe('127.0.0.3 y');
      expect(server.drops().map((d) => [d.reason, d.remoteAddress])).toEqual([['denied', '127.0.0.2']]);
      // A refused connection was never emitted: no connection event for it.
      expect(server.events.filter((e) => e.type === 'connection')).toHaveLength(1);

      const listed = await connectFrom(only.port, '127.0.0.4');
      const unlisted = await connectFrom(only.port, '127.0.0.5');
      sockets.push(listed, unlisted);
      expect(await ask(listed, 'in')).toBe('127.0.0.4 in');
      expect(await ask(unlisted, 'out')).toBeUndefined();
      expect(only.drops('denied').map((d) => d.remoteAddress)).toEqual(['127.0.0.5']);
    } finally {
      await closeAll(sockets);
      server.subscription.unsubscribe();
      only.subscription.unsubscribe();
    }
  });

  it('an address opening connections faster than acceptRate has the excess refused', async () => {
    const server = await serve({ acceptRate: { burst: 3, rate: 0.5 } });
    const sockets: net.Socket[] = [];
    try {
      for (let i = 0; i < 5; i++) sockets.push(await connectFrom(server.port, '127.0.0.2'));
      sockets.push(await connectFrom(server.port, '127.0.0.3'));
      await until(
        () => server.drops().length === 2 && server.events.filter((e) => e.type === 'connection').length === 4,
      );
      expect(server.drops().map((d) => [d.reason, d.remoteAddress])).toEqual([
        ['accept-rate', '127.0.0.2'],
        ['accept-rate', '127.0.0.2'],
      ]);
      expect(await ask(sockets[5], 'z')).toBe('127.0.0.3 z');
    } finally {
      await closeAll(sockets);
      server.subscription.unsubscribe();
    }
  });

  describe('with PROXY protocol', () => {
    const spoof = 'PROXY TCP4 8.8.8.8 127.0.0.1 1111 2222\r\n';

    it('refuses a direct client sending a PROXY header from an untrusted source; believes a trusted one', async () => {
      const server = await serve({ proxyProtocol: { trusted: ['127.0.0.1/32'] } });
      const sockets: net.Socket[] = [];
      try {
        const liar = await connectFrom(server.port, '127.0.0.2');
        const proxy = await connectFrom(server.port, '127.0.0.1');
        sockets.push(liar, proxy);
        liar.write(spoof);
        proxy.write(spoof);
        expect(await ask(liar, 'hello')).toBeUndefined();
        expect(await ask(proxy, 'hello')).toBe('8.8.8.8 hello');
        expect(server.drops().map((d) => [d.reason, d.remoteAddress])).toEqual([['untrusted-proxy', '127.0.0.2']]);
      } finally {
        await closeAll(sockets);
        server.subscription.unsubscribe();
      }
    });

    it("serves an untrusted client as itself with untrusted: 'direct', its header left as data", async () => {
      const server = await serve({ proxyProtocol: { trusted: ['10.0.0.0/8'], untrusted: 'direct' } });
      const socket = await connectFrom(server.port, '127.0.0.2');
      try {
        socket.write(spoof);
        // The spoofed header is the client's first line, answered as such: it changed no address.
        expect(await ask(socket, 'hello')).toBe(`127.0.0.2 ${spoof.trim()}`);
        expect(server.drops()).toEqual([]);
      } finally {
        await closeAll([socket]);
        server.subscription.unsubscribe();
      }
    });

    it('judges deny and per-address limits on the address the header reports', async () => {
      const server = await serve({
        proxyProtocol: { trusted: ['127.0.0.1'] },
        deny: ['8.8.8.8'],
        maxConnectionsPerAddress: 1,
      });
      const sockets: net.Socket[] = [];
      try {
        const header = (source: string, port: number) => `PROXY TCP4 ${source} 127.0.0.1 ${port} 443\r\n`;
        const [a, b, c, d] = await Promise.all([1, 2, 3, 4].map(() => connectFrom(server.port, '127.0.0.1')));
        sockets.push(a, b, c, d);
        a.write(header('8.8.8.8', 1000));
        expect(await ask(a, 'a')).toBeUndefined();
        b.write(header('9.9.9.9', 1001));
        expect(await ask(b, 'b')).toBe('9.9.9.9 b');
        c.write(header('9.9.9.9', 1002));
        expect(await ask(c, 'c')).toBeUndefined();
        d.write(header('7.7.7.7', 1003));
        expect(await ask(d, 'd')).toBe('7.7.7.7 d');
        expect(server.drops().map((x) => [x.reason, x.remoteAddress])).toEqual([
          ['denied', '8.8.8.8'],
          ['max-per-address', '9.9.9.9'],
        ]);
      } finally {
        await closeAll(sockets);
        server.subscription.unsubscribe();
      }
    });

    it('tells a bad header as a drop with reason proxy-header', async () => {
      const server = await serve({ proxyProtocol: true });
      const socket = await connectFrom(server.port, '127.0.0.2');
      try {
        socket.write('PROXY TCP5 nonsense\r\n');
        await closed(socket);
        await until(() => server.drops().length === 1);
        expect(server.drops()[0]).toMatchObject({ reason: 'proxy-header', remoteAddress: '127.0.0.2' });
      } finally {
        await closeAll([socket]);
        server.subscription.unsubscribe();
      }
    });
  });

  it('over TLS, refuses before the handshake: a drop, no tlsClientError, and the count freed', async () => {
    const certs = makeTestCerts();
    const server = await serve({
      tls: { key: certs.key, cert: certs.cert },
      deny: ['127.0.0.2'],
      maxConnectionsPerAddress: 1,
    });
    const sockets: net.Socket[] = [];
    const secure = (localAddress: string) =>
      new Promise<tls.TLSSocket | undefined>((resolve) => {
        // tls.connect takes no localAddress: the TCP socket is made first, from the source address.
        const raw = net.connect({ host: '127.0.0.1', port: server.port, localAddress });
        raw.on('error', () => undefined);
        sockets.push(raw);
        const socket = tls.connect({ socket: raw, ca: certs.ca, servername: 'localhost' });
        sockets.push(socket);
        socket.on('error', () => resolve(undefined));
        socket.once('close', () => resolve(undefined));
        socket.once('secureConnect', () => resolve(socket));
      });
    try {
      expect(await secure('127.0.0.2')).toBeUndefined();
      const first = await secure('127.0.0.3');
      expect(first).toBeDefined();
      expect(await ask(first!, 'over tls')).toBe('127.0.0.3 over tls');
      expect(await secure('127.0.0.3')).toBeUndefined(); // its one slot is taken
      first!.destroy();
      await until(() => server.events.some((e) => e.type === 'disconnect'));
      const again = await secure('127.0.0.3');
      expect(again).toBeDefined();
      expect(await ask(again!, 'again')).toBe('127.0.0.3 again');
      expect(server.drops().map((d) => [d.reason, d.remoteAddress])).toEqual([
        ['denied', '127.0.0.2'],
        ['max-per-address', '127.0.0.3'],
      ]);
      expect(server.events.filter((e) => e.type === 'tlsClientError')).toEqual([]);
    } finally {
      await closeAll(sockets);
      server.subscription.unsubscribe();
    }
  });
});
