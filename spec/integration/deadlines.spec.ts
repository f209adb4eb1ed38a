// Nothing outlives its deadline on real sockets: peers that never answer our FIN, never speak, or drip a frame. listen()'s arguments: spec/core/listenOptions.spec.ts.
import * as net from 'net';
import { asyncScheduler, map, merge, of, take, tap } from 'rxjs';
import { serveEach } from '../../lib/core/serveEach';
import { serverMetrics } from '../../lib/observe/metrics';
import type { SchedulerAction, SchedulerLike, Subscription } from 'rxjs';
import { endOnIdle } from '../../lib/time/endOnIdle';
import { idleWatch } from '../../lib/time/idleWatch';
import { decodeLines } from '../../lib/framing/lines/decodeLines';
import { sendTo } from '../../lib/core/sendTo';
import { DEFAULT_CLOSE_TIMEOUT, DEFAULT_FIRST_BYTE_TIMEOUT, DEFAULT_FRAME_TIMEOUT } from '../../lib/core/listen';
import type { ListenOptions, ServerEvent } from '../../lib/core/listen';
import type { Connection } from '../../lib/types';
import { closed, once, plainConnect, readAll, startServer } from '../support/net';

/** A scheduler that records the delays asked of it and runs each after `instead` ms of real time. */
function recordingScheduler(instead: number): SchedulerLike & { delays: number[] } {
  const delays: number[] = [];
  return {
    delays,
    now: () => Date.now(),
    schedule<T>(work: (this: SchedulerAction<T>, state?: T) => void, delay = 0, state?: T): Subscription {
      delays.push(delay);
      return asyncScheduler.schedule(work, Math.min(delay, instead), state);
    },
  };
}

/** Waits until `count` connections have closed on the server (its `disconnect` events). */
async function disconnects(events: ServerEvent[], count: number): Promise<void> {
  while (events.filter((e) => e.type === 'disconnect').length < count) await new Promise((r) => setImmediate(r));
}

/** Answers the first line with a goodbye and ends: our FIN goes out first. */
const sayGoodbye = (conn: Connection) =>
  conn.data$.pipe(
    decodeLines(),
    take(1),
    map(() => 'goodbye\n'),
    sendTo(conn),
  );

/** Answers every line, and ends once the peer has ended: the peer's FIN comes first. */
const answerUntilEnd = (conn: Connection) =>
  conn.data$.pipe(
    decodeLines(),
    map(() => 'ok\n'),
    sendTo(conn),
  );

/** A peer that reads everything and, after our FIN, keeps its own side open (it never closes). */
async function halfOpenPeer(port: number): Promise<net.Socket> {
  const socket = net.connect({ port, host: '127.0.0.1', allowHalfOpen: true });
  socket.on('error', () => undefined);
  await once(socket, 'connect');
  socket.resume();
  return socket;
}

describe('after our FIN', () => {
  it('destroys 20 peers that got their goodbye but never close, after closeTimeout', async () => {
    const events: ServerEvent[] = [];
    const server = await startServer(
      (conn) =>
        merge(
          conn.data$.pipe(decodeLines(), sendTo(conn, { end: false })),
          conn.events$.pipe(idleWatch({ allIdle: 50 }), endOnIdle(conn, { goodbye: 'goodbye\n', closeTimeout: 0 })),
        ),
      { closeTimeout: 200, events: (e) => events.push(e) },
    );
    try {
      // Peers that read the goodbye and our FIN, then sit half-open forever (allowHalfOpen).
      const started = Date.now();
      const peers = await Promise.all(Array.from({ length: 20 }, () => halfOpenPeer(server.port)));
      await Promise.all(peers.map((p) => once(p, 'end')));
      await disconnects(events, 20);
      // 50 ms of idleness, the goodbye, then closeTimeout's 200 ms: none closed by itself.
      expect(Date.now() - started).toBeGreaterThanOrEqual(250);
      for (const peer of peers) peer.destroy();
      await Promise.all(peers.map(closed));
      expect(server.errors).toEqual([]);
    } finally {
      server.subscription.unsubscribe();
    }
  });

  it(`waits ${DEFAULT_CLOSE_TIMEOUT} ms by default, on the server's scheduler`, async () => {
    const scheduler = recordingScheduler(20);
    const events: ServerEvent[] = [];
    const server = await startServer(sayGoodbye, {
      scheduler,
      firstByteTimeout: 0,
      frameTimeout: 0,
      events: (e) => events.push(e),
    });
    try {
      const peer = await halfOpenPeer(server.port);
      peer.write('hello\n');
      await once(peer, 'end');
      await disconnects(events, 1);
      expect(scheduler.delays).toEqual([DEFAULT_CLOSE_TIMEOUT]);
      peer.destroy();
      await closed(peer);
    } finally {
      server.subscription.unsubscribe();
    }
  });

  it('starts no timer when the peer sent its FIN first (it closes by itself)', async () => {
    const scheduler = recordingScheduler(20);
    const events: ServerEvent[] = [];
    const server = await startServer(answerUntilEnd, {
      scheduler,
      firstByteTimeout: 0,
      frameTimeout: 0,
      events: (e) => events.push(e),
    });
    try {
      const peer = await plainConnect(server.port);
      peer.resume();
      peer.end('hello\n');
      await closed(peer);
      await disconnects(events, 1);
      expect(scheduler.delays).toEqual([]);
    } finally {
      server.subscription.unsubscribe();
    }
  });

  it('waits for the peer as long as it takes with closeTimeout: 0', async () => {
    const scheduler = recordingScheduler(20);
    const events: ServerEvent[] = [];
    const server = await startServer(sayGoodbye, {
      scheduler,
      closeTimeout: 0,
      firstByteTimeout: 0,
      frameTimeout: 0,
      events: (e) => events.push(e),
    });
    try {
      const peer = await halfOpenPeer(server.port);
      peer.write('hello\n');
      await once(peer, 'end');
      peer.end();
      await closed(peer);
      // Closed by the peer's own FIN, long after ours: no timer was ever asked for.
      await disconnects(events, 1);
      expect(scheduler.delays).toEqual([]);
    } finally {
      server.subscription.unsubscribe();
    }
  });

  it('does not cut off a peer still sending after our FIN: each chunk starts the wait again', async () => {
    const events: ServerEvent[] = [];
    const received: number[] = [];
    const server = await startServer(
      (conn) =>
        merge(
          // Says goodbye at once, then reads on: an upload that outlives our FIN.
          of('upload away\n').pipe(sendTo(conn)),
          conn.data$.pipe(tap((chunk) => received.push(chunk.length))),
        ),
      { closeTimeout: 150, events: (e) => events.push(e) },
    );
    try {
      const peer = await halfOpenPeer(server.port);
      await once(peer, 'end');
      // Eight chunks, each sent once the one before has been read: 8 round trips past our FIN.
      for (let i = 0; i < 8; i++) {
        const before = received.length;
        peer.write(`part ${i}\n`);
        while (received.length === before) await new Promise((r) => setImmediate(r));
        await new Promise((r) => setTimeout(r, 40)); // the peer's own pace, not a synchronisation
      }
      expect(events.filter((e) => e.type === 'disconnect')).toEqual([]);
      // Then it goes quiet, and closeTimeout ends it.
      await disconnects(events, 1);
      expect(received).toHaveLength(8);
      peer.destroy();
      await closed(peer);
    } finally {
      server.subscription.unsubscribe();
    }
  });
});

/** The README's server: each line answered, one connection's failure its own. */
function lineServer(options: Partial<ListenOptions>, events: ServerEvent[]) {
  return startServer(
    (conn) =>
      of(conn).pipe(
        serveEach((c) =>
          c.data$.pipe(
            decodeLines(),
            map((line) => `ok ${line}\n`),
            sendTo(c),
          ),
        ),
      ),
    { ...options, events: (e) => events.push(e) },
  );
}

/** Connects from `localAddress`; resolves once connected. */
function connectFrom(port: number, localAddress: string): Promise<net.Socket> {
  return new Promise((resolve, reject) => {
    const socket = net.connect({ port, host: '127.0.0.1', localAddress }, () => {
      socket.removeListener('error', reject);
      socket.on('error', () => undefined);
      resolve(socket);
    });
    socket.once('error', reject);
  });
}

/** Connects from 127.0.0.3, asks one line, closes; resolves with the answer and how long it took. */
async function honestAsk(port: number, line: string): Promise<{ answer: string; ms: number }> {
  const begin = performance.now();
  const socket = await connectFrom(port, '127.0.0.3');
  socket.end(`${line}\n`);
  const answer = (await readAll(socket)).toString();
  await closed(socket);
  return { answer, ms: performance.now() - begin };
}

describe('first-byte and frame deadlines', () => {
  it('destroys a peer that sends nothing after firstByteTimeout, telling a deadline event', async () => {
    const events: ServerEvent[] = [];
    const server = await lineServer({ firstByteTimeout: 300 }, events);
    try {
      const begin = performance.now();
      const silent = await connectFrom(server.port, '127.0.0.2');
      await closed(silent);
      const waited = performance.now() - begin;
      expect(waited).toBeGreaterThanOrEqual(290);
      expect(waited).toBeLessThan(600);
      const deadline = events.find((e) => e.type === 'deadline');
      expect(deadline).toMatchObject({ deadline: 'first-byte', error: { code: 'ERR_FIRST_BYTE_TIMEOUT', ms: 300 } });
      const metrics = serverMetrics();
      events.forEach((e) => metrics.events.next(e));
      expect(metrics.snapshot().deadlines).toEqual({ firstByte: 1, frame: 0 });
      // One that speaks at once is served.
      expect((await honestAsk(server.port, 'hi')).answer).toBe('ok hi\n');
      expect(server.errors).toEqual([]);
    } finally {
      server.subscription.unsubscribe();
    }
  });

  it.each<[string, Partial<ListenOptions>, string]>([
    ['a PROXY protocol view', { proxyProtocol: true }, 'PROXY TCP4 192.0.2.9 127.0.0.1 1000 2000\r\nGET /dri'],
    ['a shaped connection', { shaping: { readLimit: 1_000_000 } }, 'GET /dri'],
    [
      'both',
      { proxyProtocol: true, shaping: { readLimit: 1_000_000 } },
      'PROXY TCP4 192.0.2.9 127.0.0.1 1000 2000\r\nGET /dri',
    ],
  ])('keeps the frame deadline when the framer reads through %s', async (_what, options, first) => {
    const events: ServerEvent[] = [];
    const server = await lineServer({ ...options, frameTimeout: 300 }, events);
    try {
      const begin = performance.now();
      const peer = await connectFrom(server.port, '127.0.0.2');
      peer.write(first);
      const drip = setInterval(() => peer.write('p'), 50);
      await closed(peer);
      clearInterval(drip);
      const waited = performance.now() - begin;
      expect(waited).toBeGreaterThanOrEqual(280);
      expect(waited).toBeLessThan(800);
      expect(events.find((e) => e.type === 'deadline')).toMatchObject({
        deadline: 'frame',
        error: { code: 'ERR_FRAME_TIMEOUT' },
      });
    } finally {
      server.subscription.unsubscribe();
    }
  });

  it('puts a 30 s first-byte and frame deadline on every connection by default', async () => {
    const scheduler = recordingScheduler(1_000_000);
    const events: ServerEvent[] = [];
    const server = await lineServer({ scheduler, closeTimeout: 0 }, events);
    try {
      const peer = await connectFrom(server.port, '127.0.0.2');
      await until(() => events.some((e) => e.type === 'connection'));
      // One sweep every tenth of the 30 s deadlines, and no timer per connection.
      expect(scheduler.delays).toEqual([DEFAULT_FIRST_BYTE_TIMEOUT / 10]);
      expect(DEFAULT_FIRST_BYTE_TIMEOUT).toBe(30_000);
      expect(DEFAULT_FRAME_TIMEOUT).toBe(30_000);
      peer.destroy();
      await closed(peer);
    } finally {
      server.subscription.unsubscribe();
    }
  });

  it('closes 1,000 peers dripping a byte every 3 s into unfinished frames at the frame deadline; honest clients are served throughout', async () => {
    const FRAME = 4000;
    const events: ServerEvent[] = [];
    const server = await lineServer({ frameTimeout: FRAME }, events);
    const drippers: { socket: net.Socket; firstByte: number; closedAt: number }[] = [];
    const drip = setInterval(() => {
      for (const d of drippers) if (!d.socket.destroyed) d.socket.write('x');
    }, 3000);
    try {
      for (let batch = 0; batch < 4; batch++) {
        const sockets = await Promise.all(Array.from({ length: 250 }, () => connectFrom(server.port, '127.0.0.2')));
        for (const socket of sockets) {
          const d = { socket, firstByte: performance.now(), closedAt: 0 };
          socket.write('GET /slow'); // a line begun, never finished
          socket.once('close', () => (d.closedAt = performance.now()));
          drippers.push(d);
        }
      }
      // Honest clients from another address, one after the other, until every dripper is gone.
      const asks: { answer: string; ms: number }[] = [];
      while (drippers.some((d) => d.closedAt === 0)) asks.push(await honestAsk(server.port, `q${asks.length}`));
      const lifetimes = drippers.map((d) => d.closedAt - d.firstByte);
      expect(Math.min(...lifetimes)).toBeGreaterThanOrEqual(FRAME - 50);
      // The sweep keeps the deadline within a tenth of it; the clients see their close later still when a 2-core
      // machine runs other spec files beside this one (5.0 s seen in CI). Without the deadline they would never close.
      expect(Math.max(...lifetimes)).toBeLessThan(FRAME + 2000);
      const deadlines = events.filter((e) => e.type === 'deadline');
      expect(deadlines).toHaveLength(1000);
      expect(deadlines.every((e) => e.type === 'deadline' && e.deadline === 'frame')).toBe(true);
      expect(asks.length).toBeGreaterThan(10);
      expect(asks.every((a, i) => a.answer === `ok q${i}\n`)).toBe(true);
      // Each answered in well under a second, on a 2-core machine running other spec files beside this one.
      expect(Math.max(...asks.map((a) => a.ms))).toBeLessThan(1000);
      expect(server.errors).toEqual([]);
    } finally {
      clearInterval(drip);
      for (const d of drippers) d.socket.destroy();
      await Promise.all(drippers.map((d) => closed(d.socket)));
      server.subscription.unsubscribe();
    }
  }, 30_000);
});

async function until(condition: () => boolean): Promise<void> {
  while (!condition()) await new Promise((resolve) => setImmediate(resolve));
}
