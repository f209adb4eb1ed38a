// The bench's resp workload: redis-benchmark's CSV read, the ratios of medians, and a short run of the runner
// (demo vs redis-server, rxnet's client vs ioredis), skipped with the reason where Redis's programs are missing.
import { benchRecords, runBench } from '../support/bench';
import {
  RESP_TESTS,
  findProgram,
  parseBenchmarkCsv,
  respRatios,
  type RespClientRecord,
  type RespRecord,
  type RespServerRecord,
} from '../../bench/resp';

const serverRun = (server: 'rxnet' | 'redis', pipeline: number, rep: number, rps: number): RespServerRecord => ({
  workload: 'resp',
  part: 'server',
  server,
  pipeline,
  rep,
  rps: Object.fromEntries(RESP_TESTS.map((test) => [test, rps])),
  serverCpuUsPerReq: 1,
});

const clientRun = (client: RespClientRecord['client'], rep: number, opsPerSec: number): RespClientRecord => ({
  workload: 'resp',
  part: 'client',
  client,
  rep,
  ops: 1000,
  seconds: 1000 / opsPerSec,
  opsPerSec,
  cpuUsPerOp: 1,
});

describe('bench resp workload, its figures', () => {
  it("reads requests/s by test from redis-benchmark's --csv output", () => {
    const csv = [
      '"test","rps","avg_latency_ms","min_latency_ms","p50_latency_ms","p95_latency_ms","p99_latency_ms","max_latency_ms"',
      '"PING_INLINE","647249.25","0.773","0.256","0.743","1.103","1.479","2.871"',
      '"PING_MBULK","566572.25","0.725","0.320","0.711","0.823","1.759","2.863"',
      '"SET","514138.81","0.815","0.424","0.759","0.887","2.967","5.703"',
      '"GET","588235.31","1.033","0.344","0.887","1.943","2.799","8.079"',
      '',
    ].join('\n');
    expect(parseBenchmarkCsv(csv)).toEqual({
      PING_INLINE: 647249.25,
      PING_MBULK: 566572.25,
      SET: 514138.81,
      GET: 588235.31,
    });
  });

  it('gives the medians as ratios, judged against 0.6 of redis-server at -P 16 and 1.0 of ioredis', () => {
    const records: RespRecord[] = [
      ...[300, 350, 320].map((rps, rep) => serverRun('rxnet', 16, rep, rps)),
      ...[500, 600, 550].map((rps, rep) => serverRun('redis', 16, rep, rps)),
      ...[90, 100, 95].map((rps, rep) => serverRun('rxnet', 1, rep, rps)),
      ...[100, 100, 100].map((rps, rep) => serverRun('redis', 1, rep, rps)),
      ...[200, 210, 190].map((ops, rep) => clientRun('rxnet', rep, ops)),
      ...[100, 120, 110].map((ops, rep) => clientRun('rxnet-timeout', rep, ops)),
      ...[150, 160, 140].map((ops, rep) => clientRun('ioredis', rep, ops)),
      ...[100, 100, 100].map((ops, rep) => clientRun('ioredis-auto', rep, ops)),
    ];
    const rows = new Map(respRatios(records).map((r) => [r.cell, r]));
    expect(rows.get('resp-server GET -P 16')).toMatchObject({ rxnet: 320, baseline: 550, target: 0.6 });
    expect(rows.get('resp-server GET -P 16')!.ratio).toBeCloseTo(320 / 550);
    expect(rows.get('resp-server SET -P 1')).toMatchObject({ ratio: 0.95, target: 0 });
    expect(rows.get('client INCR rxnet vs ioredis')).toMatchObject({ rxnet: 200, baseline: 150, target: 1 });
    expect(rows.get('client INCR rxnet-timeout vs ioredis-auto')!.ratio).toBeCloseTo(1.1);
    expect(rows.size).toBe(2 * RESP_TESTS.length + 4);
  });
});

const found = findProgram('redis-server') !== undefined && findProgram('redis-benchmark') !== undefined;
const MISSING = 'redis-server or redis-benchmark not found (Debian: apt-get install redis-server redis-tools)';
const describeWithRedis = found ? describe : describe.skip;
if (!found) console.warn(`bench resp run skipped: ${MISSING}`);

describeWithRedis(
  `bench runner, resp workload [${found ? 'redis-server, redis-benchmark' : `skipped: ${MISSING}`}]`,
  () => {
    it('runs the demo and redis-server under redis-benchmark at -P 16 and -P 1, and every client, with ratios', async () => {
      const args = ['resp', '--quick', '--no-save', '--resp-requests', '6000', '--resp-ops', '2000'];
      const { stdout } = await runBench(args);
      const records = benchRecords<RespRecord>(stdout, 'resp');
      const servers = records.filter((r): r is RespServerRecord => r.part === 'server');
      expect(servers.map((r) => `${r.server} -P ${r.pipeline}`).sort()).toEqual([
        'redis -P 1',
        'redis -P 16',
        'rxnet -P 1',
        'rxnet -P 16',
      ]);
      for (const r of servers) {
        for (const test of RESP_TESTS) expect(r.rps[test]).toBeGreaterThan(0);
        expect(r.serverCpuUsPerReq).toBeGreaterThan(0);
      }
      const clients = records.filter((r): r is RespClientRecord => r.part === 'client');
      expect(clients.map((r) => r.client).sort()).toEqual(['ioredis', 'ioredis-auto', 'rxnet', 'rxnet-timeout']);
      for (const r of clients) expect(r).toMatchObject({ ops: 2000, opsPerSec: expect.any(Number) });
      expect(stdout).toMatch(/^resp-server GET -P 16 +rxnet .* redis-server .* [\d.]+ [✓✗] \(aim ≥ 0\.6\)$/m);
      expect(stdout).toMatch(/^client INCR rxnet vs ioredis +rxnet /m);
    }, 120_000);
  },
);
