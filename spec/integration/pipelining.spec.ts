// Pipelining peers on real sockets: every request of a burst is answered, with pauseSource holding reading meanwhile.
import { map } from 'rxjs';
import { decodeLines } from '../../lib/framing/lines/decodeLines';
import { sendStats, sendTo } from '../../lib/core/sendTo';
import type { SendStats } from '../../lib/core/sendTo';
import type { Connection } from '../../lib/types';
import { closed, plainConnect, startServer } from '../support/net';

/** A line server answering every request with `reply`, as a user writes it: lines, map, sendTo with pauseSource. */
function replyServer(reply: Buffer, stats: SendStats) {
  return startServer((conn: Connection) =>
    conn.data$.pipe(
      decodeLines(),
      map(() => reply),
      sendTo(conn, { pauseSource: conn, stats }),
    ),
  );
}

/** Writes `requests` in one burst, half-closes, and counts the bytes that come back until the server closes. */
async function burst(port: number, requests: string): Promise<number> {
  const client = await plainConnect(port);
  let received = 0;
  client.on('data', (chunk: Buffer) => (received += chunk.length));
  const done = closed(client);
  client.end(requests);
  await done;
  return received;
}

describe('a pipelining peer', () => {
  it('gets all 2,000 replies of 100 KB to 2,000 requests sent in one burst (redis-cli --pipe)', async () => {
    const value = Buffer.alloc(100 * 1024, 0x61);
    const reply = Buffer.concat([Buffer.from(`$${value.length}\r\n`), value, Buffer.from('\r\n')]);
    const stats = sendStats();
    const server = await replyServer(reply, stats);
    try {
      const received = await burst(server.port, 'GET key\r\n'.repeat(2000));
      expect(received).toBe(2000 * reply.length);
      expect(stats.written).toBe(2000);
      // More than the default highWaterMark (1024 values) waited at once: pauseSource lets that pass.
      expect(stats.peakQueued).toBeGreaterThan(1024);
      expect(stats.dropped).toBe(0);
      expect(server.errors).toEqual([]);
    } finally {
      server.subscription.unsubscribe();
    }
  });

  it('gets all 20,000 answers to 20,000 inline PINGs sent at once (nc < pings)', async () => {
    const pong = Buffer.from('+PONG\r\n');
    const stats = sendStats();
    const server = await replyServer(pong, stats);
    try {
      const received = await burst(server.port, 'PING\r\n'.repeat(20_000));
      expect(received).toBe(20_000 * pong.length);
      expect(stats.written).toBe(20_000);
      expect(server.errors).toEqual([]);
    } finally {
      server.subscription.unsubscribe();
    }
  });

  it('is held: reading stops while replies wait, so what waits is bounded by what was read', async () => {
    const value = Buffer.alloc(64 * 1024, 0x62);
    const stats = sendStats();
    let accepted: Connection | undefined;
    const server = await startServer((conn: Connection) => {
      accepted = conn;
      return conn.data$.pipe(
        decodeLines(),
        map(() => value),
        sendTo(conn, { pauseSource: conn, stats }),
      );
    });
    try {
      // A peer that pipelines 50,000 requests and reads nothing for a while.
      const client = await plainConnect(server.port);
      client.pause();
      const requests = 'GET k\n'.repeat(50_000);
      client.write(requests);
      while (stats.waits === 0) await new Promise((r) => setImmediate(r));
      // Reading is held from the first wait: the socket is paused, having read part of the 300 KB.
      const conn = accepted!;
      expect(conn.socket!.isPaused()).toBe(true);
      expect(conn.bytesRead).toBeLessThan(requests.length);
      // What waits is the replies to requests already read, never more.
      expect(stats.queued).toBeLessThanOrEqual(conn.bytesRead / 6);
      client.destroy();
      await closed(client);
    } finally {
      server.subscription.unsubscribe();
    }
  });
});
