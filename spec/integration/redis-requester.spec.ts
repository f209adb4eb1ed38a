// requester() with the RESP codec against a real redis-server: pipelining in order, timeouts that never misroute a late reply,
// and a killed connection failing every pending request.
import { firstValueFrom } from 'rxjs';
import { requester } from '../../lib/client/requester';
import { respClient } from '../../lib/codec/resp/resp';
import { open } from '../../lib/core/open';
import { ConnectionLostError, RequestTimeoutError } from '../../lib/errors';
import type { Connection } from '../../lib/types';
import { closed } from '../support/net';
import { findRedisServer, freePort, startRedis, type RunningRedis } from '../support/proxies';

const redisServer = findRedisServer();
const MISSING = 'redis-server not found (Debian: apt-get install redis-server; .ci/run installs it)';
// Without redis-server the tests are registered as skipped (never passed) and the title says why.
const describeWithRedis = redisServer === undefined ? describe.skip : describe;
const SETUP = redisServer ?? `skipped: ${MISSING}`;
if (redisServer === undefined) console.warn(`redis-requester spec skipped: ${MISSING}`);

describeWithRedis(`requester + respClient against a real redis-server [${SETUP}]`, () => {
  let redis: RunningRedis;
  const opened: Connection[] = [];
  const connectRedis = async () => {
    const conn = await open({ host: '127.0.0.1', port: redis.port });
    opened.push(conn);
    return conn;
  };

  beforeAll(async () => {
    redis = await startRedis(redisServer!, await freePort());
  });
  afterAll(async () => {
    for (const conn of opened) conn.destroy();
    await Promise.all(opened.map((conn) => (conn.socket ? closed(conn.socket) : undefined)));
    await redis?.stop();
  });

  it('10,000 pipelined INCR on one connection with maxInFlight 64 return 1…10000 in order', async () => {
    const conn = await connectRedis();
    const redisRequests = requester(conn, respClient(), { maxInFlight: 64 });
    const key = `counter:${process.pid}:${Date.now()}`;
    const replies = await Promise.all(
      Array.from({ length: 10_000 }, () => firstValueFrom(redisRequests.request(['INCR', key]))),
    );
    expect(replies).toEqual(Array.from({ length: 10_000 }, (_, i) => i + 1));
    expect(redisRequests.pending).toBe(0);
  }, 30_000);

  it('under CLIENT PAUSE 2000 a 500 ms request times out, and its late reply reaches no later caller', async () => {
    const admin = requester(await connectRedis(), respClient());
    const victim = requester(await connectRedis(), respClient(), { timeout: 500 });
    expect(await firstValueFrom(admin.request(['CLIENT', 'PAUSE', '2000']))).toBe('OK');
    const begin = performance.now();
    await expect(firstValueFrom(victim.request(['ECHO', 'first']))).rejects.toBeInstanceOf(RequestTimeoutError);
    expect(performance.now() - begin).toBeGreaterThanOrEqual(450);
    // Asked while the first reply is still due (the pause lasts to 2000 ms): it gets its own answer, not "first".
    const second = await firstValueFrom(victim.request(['ECHO', 'second'], { timeout: 10_000 }));
    expect(String(second)).toBe('second');
    expect(performance.now() - begin).toBeGreaterThanOrEqual(1900);
  }, 30_000);

  it('CLIENT KILL fails every pending request with ConnectionLostError and leaves nothing pending', async () => {
    const admin = requester(await connectRedis(), respClient());
    const victimConn = await connectRedis();
    const victim = requester(victimConn, respClient(), { timeout: 0 });
    const id = await firstValueFrom(victim.request(['CLIENT', 'ID']));
    const key = `blocked:${process.pid}:${Date.now()}`;
    // BLPOP with no timeout holds the connection: the PINGs behind it wait too.
    const pending = [['BLPOP', key, '0'], ['PING'], ['PING']].map((command) =>
      firstValueFrom(victim.request(command)).catch((error: unknown) => error),
    );
    while (victim.inFlight < 3) await new Promise((resolve) => setImmediate(resolve));
    expect(await firstValueFrom(admin.request(['CLIENT', 'KILL', 'ID', String(id)]))).toBe(1);
    const failures = await Promise.all(pending);
    expect(failures.every((error) => error instanceof ConnectionLostError)).toBe(true);
    expect(victim.pending).toBe(0);
  }, 30_000);
});
