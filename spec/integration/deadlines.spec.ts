// Nothing outlives its deadline on real sockets: peers that never answer our FIN. listen()'s arguments: spec/core/listenOptions.spec.ts.
import * as net from 'net';
import { asyncScheduler, map, merge, of, take, tap } from 'rxjs';
import type { SchedulerAction, SchedulerLike, Subscription } from 'rxjs';
import { endOnIdle } from '../../lib/time/endOnIdle';
import { idleWatch } from '../../lib/time/idleWatch';
import { decodeLines } from '../../lib/framing/lines/decodeLines';
import { sendTo } from '../../lib/core/sendTo';
import { DEFAULT_CLOSE_TIMEOUT } from '../../lib/core/listen';
import type { ServerEvent } from '../../lib/core/listen';
import type { Connection } from '../../lib/types';
import { closed, once, plainConnect, startServer } from '../support/net';

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
    const server = await startServer(sayGoodbye, { scheduler, events: (e) => events.push(e) });
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
    const server = await startServer(answerUntilEnd, { scheduler, events: (e) => events.push(e) });
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
    const server = await startServer(sayGoodbye, { scheduler, closeTimeout: 0, events: (e) => events.push(e) });
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
