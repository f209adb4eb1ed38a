// The redis-client demo against a real redis-server: ticks counted through the reconnecting client, bursts through the
// pool read back, and a restart of redis ridden through.
import { redisClientDemo } from '../../demos/redis-client';
import { expectTcpHandlesBackTo, tcpHandleCount } from '../support/net';
import { findRedisServer, freePort, startRedis, type RunningRedis } from '../support/proxies';

const redisServer = findRedisServer();
const MISSING = 'redis-server not found (Debian: apt-get install redis-server; .ci/run installs it)';
// Without redis-server the tests are registered as skipped (never passed) and the title says why.
const describeWithRedis = redisServer === undefined ? describe.skip : describe;
const SETUP = redisServer ?? `skipped: ${MISSING}`;
if (redisServer === undefined) console.warn(`redis-client demo spec skipped: ${MISSING}`);

describeWithRedis(`the redis-client demo against a real redis-server [${SETUP}]`, () => {
  let redis: RunningRedis | undefined;
  afterEach(async () => {
    await redis?.stop();
  });

  it('counts its ticks, reads back every burst through a pool of 4, and rides through a restart of redis', async () => {
    const baseline = tcpHandleCount();
    redis = await startRedis(redisServer!, await freePort());
    const port = redis.port;
    const lines: string[] = [];
    let restarted: Promise<void> | undefined;
    const log = (line: string) => {
      lines.push(line);
      // Once the first burst is read back, redis goes away and comes back on the same port.
      if (line.startsWith('tick 1: pool:') && restarted === undefined) {
        restarted = (async () => {
          await redis!.stop();
          redis = await startRedis(redisServer!, port);
        })();
      }
    };
    await new Promise<void>((resolve, reject) =>
      redisClientDemo({
        port,
        ticks: 4,
        interval: 200,
        burst: 50,
        poolSize: 4,
        key: `demo:${process.pid}`,
        log,
      }).subscribe({
        error: reject,
        complete: resolve,
      }),
    );
    await restarted;
    const ticks = lines.filter((line) => /^tick \d+: demo:\d+ = /.test(line));
    const bursts = lines.filter((line) => line.includes(': pool: 50 SET+GET'));
    // Redis keeps nothing across the restart: the count starts again.
    expect(ticks.map((line) => line.replace(/^tick (\d+): demo:\d+ = (\d+)$/, '$1=$2'))).toEqual([
      '1=1',
      '2=1',
      '3=2',
      '4=3',
    ]);
    expect(bursts).toHaveLength(4);
    expect(bursts.every((line) => line.endsWith('all read back') && /on [1-4] connection\(s\)/.test(line))).toBe(true);
    expect(lines.filter((line) => line.includes('failed'))).toEqual([]);
    expect(lines.filter((line) => line.includes(': connected')).length).toBeGreaterThanOrEqual(2);
    expect(lines.at(-1)).toMatch(/: closed$/);
    await expectTcpHandlesBackTo(baseline);
  }, 30_000);
});
