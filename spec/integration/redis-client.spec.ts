// pool() and requester() over reconnectingClient() against a real redis-server: a pool of 4 never shows more than 4
// connections in CLIENT LIST under 200 concurrent uses, and the client rides through a redis restart with what it kept.
import { filter, firstValueFrom, lastValueFrom, concatMap, from, toArray } from 'rxjs';
import { pool } from '../../lib/client/pool';
import { reconnectingClient } from '../../lib/client/reconnectingClient';
import { requester } from '../../lib/client/requester';
import { respClient } from '../../lib/codec/resp/resp';
import { open } from '../../lib/core/open';
import { ConnectionLostError, QueueOverflowError } from '../../lib/errors';
import { closed, expectTcpHandlesBackTo, tcpHandleCount } from '../support/net';
import { findRedisServer, freePort, startRedis, type RunningRedis } from '../support/proxies';

const redisServer = findRedisServer();
const MISSING = 'redis-server not found (Debian: apt-get install redis-server; .ci/run installs it)';
// Without redis-server the tests are registered as skipped (never passed) and the title says why.
const describeWithRedis = redisServer === undefined ? describe.skip : describe;
const SETUP = redisServer ?? `skipped: ${MISSING}`;
if (redisServer === undefined) console.warn(`redis-client spec skipped: ${MISSING}`);

const codec = respClient();

/** Runs `command` on a connection of its own and closes it. */
async function once(port: number, command: string[]): Promise<unknown> {
  const conn = await open({ host: '127.0.0.1', port });
  try {
    return await firstValueFrom(requester(conn, codec).request(command));
  } finally {
    conn.destroy();
    if (conn.socket) await closed(conn.socket);
  }
}

describeWithRedis(`pool and reconnecting requester against a real redis-server [${SETUP}]`, () => {
  let redis: RunningRedis;
  beforeAll(async () => {
    redis = await startRedis(redisServer!, await freePort());
  });
  afterAll(async () => {
    await redis?.stop();
  });

  it('a pool with max 4 never shows more than 4 connections in CLIENT LIST under 200 concurrent uses', async () => {
    const baseline = tcpHandleCount();
    const name = `rxnet-pool-${process.pid}`;
    const admin = await open({ host: '127.0.0.1', port: redis.port });
    const adminRpc = requester(admin, codec);
    const redisPool = pool(
      { host: '127.0.0.1', port: redis.port },
      {
        max: 4,
        attach: (conn) => requester(conn, codec),
        handshake: (_conn, rpc) => rpc.request(['CLIENT', 'SETNAME', name]),
      },
    );
    const key = `pooled:${process.pid}:${Date.now()}`;
    let sampling = true;
    const seen: number[] = [];
    const sampler = (async () => {
      while (sampling) {
        const list = String(await firstValueFrom(adminRpc.request(['CLIENT', 'LIST'])));
        seen.push(list.split('\n').filter((line) => line.includes(` name=${name} `)).length);
      }
    })();
    try {
      // Each use holds its connection across two round trips, so the uses really wait for one another.
      const uses = Array.from({ length: 200 }, () =>
        lastValueFrom(
          redisPool.use((rpc) =>
            from([
              ['INCR', key],
              ['GET', key],
            ]).pipe(
              concatMap((command) => rpc.request(command)),
              toArray(),
            ),
          ),
        ),
      );
      expect(redisPool.waiting).toBeGreaterThan(150);
      const results = await Promise.all(uses);
      sampling = false;
      await sampler;
      expect(results.map(([n]) => n).sort((a, b) => Number(a) - Number(b))).toEqual(
        Array.from({ length: 200 }, (_, i) => i + 1),
      );
      expect(Math.max(...seen)).toBeLessThanOrEqual(4);
      expect(seen.length).toBeGreaterThan(0);
      expect(redisPool.size).toBeLessThanOrEqual(4);
      expect(await once(redis.port, ['GET', key])).toEqual(Buffer.from('200'));
    } finally {
      sampling = false;
      await sampler;
      redisPool.close();
      admin.destroy();
    }
    await expectTcpHandlesBackTo(baseline);
  }, 30_000);

  it('rides through a redis restart: requests made while it was down are answered after it is back, beyond the bound refused', async () => {
    const baseline = tcpHandleCount();
    const client = reconnectingClient({
      connect: { host: '127.0.0.1', port: redis.port },
      backoff: { initialDelay: 20, maxDelay: 200, jitter: 0 },
      handshake: (conn) => requester(conn, codec).request(['SELECT', '1']),
    });
    const rpc = requester(client, codec, { maxQueued: 50, timeout: 20_000 });
    try {
      expect(await firstValueFrom(rpc.request(['SET', 'before', 'restart']))).toBe('OK');
      const inFlight = firstValueFrom(rpc.request(['BLPOP', 'never', '0'], { timeout: 0 })).catch((e: unknown) => e);

      await redis.stop();
      await firstValueFrom(client.state$.pipe(filter((state) => state === 'backing-off')));
      // Written to the connection that went away: lost, not resent.
      expect(await inFlight).toBeInstanceOf(ConnectionLostError);
      const key = `restart:${process.pid}`;
      const kept = Array.from({ length: 50 }, () => firstValueFrom(rpc.request(['INCR', key])));
      const beyond = firstValueFrom(rpc.request(['INCR', key])).catch((e: unknown) => e);
      expect(await beyond).toBeInstanceOf(QueueOverflowError);
      expect(rpc.pending).toBe(50);

      redis = await startRedis(redisServer!, redis.port);
      expect(await Promise.all(kept)).toEqual(Array.from({ length: 50 }, (_, i) => i + 1));
      expect(client.state).toBe('connected');
      // The handshake ran on the new connection too: the counter is in database 1.
      expect(await firstValueFrom(rpc.request(['SELECT', '0']))).toBe('OK');
      expect(await firstValueFrom(rpc.request(['EXISTS', key]))).toBe(0);
      expect(await once(redis.port, ['GET', 'before'])).toBeNull();
    } finally {
      client.close();
    }
    await expectTcpHandlesBackTo(baseline);
  }, 30_000);
});
