// The `resp` workload: the resp-server demo against redis-server under redis-benchmark, and rxnet's RESP client against ioredis.
import { spawn } from 'child_process';
import * as fs from 'fs';
import * as path from 'path';
import { freePort, waitForQuiet, type ChildContext } from './children';
import { startProgram, type ProgramChild } from './programs';
import { processCpu } from './peers';
import { kilo, median } from './report';
import { RESP_CLIENTS, type RespClientKind, type RespClientOptions, type RespClientResult } from './respclient';

/** The tests redis-benchmark runs (`-t ping,set,get`), in the order it prints them. */
export const RESP_TESTS = ['PING_INLINE', 'PING_MBULK', 'SET', 'GET'] as const;

/** The aims: the demo at 0.6 of redis-server's requests/s with `-P 16`; rxnet's client at ioredis's ops/s. */
export const RESP_TARGETS = { server: 0.6, client: 1.0 } as const;

export interface RespArgs {
  reps: number;
  /** Requests per redis-benchmark test with `-P 16` (`-n`); a tenth of them with `-P 1`, which is 15 times slower. */
  requests: number;
  /** INCR commands per client run (as many again to warm up). */
  clientOps: number;
  /** redis-benchmark's connections (`-c`). */
  clients: number;
  quietWaitMs: number;
  maxInterference: number;
  /** The environment of the demo's process (the runner's fixed heap trim threshold). */
  serverEnv: Record<string, string>;
}

/** One redis-benchmark run against one server. */
export interface RespServerRecord {
  workload: 'resp';
  part: 'server';
  server: 'rxnet' | 'redis';
  pipeline: number;
  rep: number;
  /** Requests per second, by test. */
  rps: Record<string, number>;
  /** The server's CPU time (user + system) per request over the run, in µs. */
  serverCpuUsPerReq: number | undefined;
}

export interface RespClientRecord extends RespClientResult {
  workload: 'resp';
  part: 'client';
  rep: number;
}

export type RespRecord = RespServerRecord | RespClientRecord;

/** The executable `name` on PATH, or in /usr/bin or /usr/local/bin; undefined when there is none. */
export function findProgram(name: string): string | undefined {
  const dirs = [...(process.env.PATH ?? '').split(path.delimiter), '/usr/bin', '/usr/local/bin'];
  return dirs
    .map((dir) => path.join(dir, name))
    .find((file) => {
      try {
        fs.accessSync(file, fs.constants.X_OK);
        return fs.statSync(file).isFile();
      } catch {
        return false;
      }
    });
}

/** Requests/s by test from `redis-benchmark --csv` output (a header line, then `"TEST","RPS",...` lines). */
export function parseBenchmarkCsv(text: string): Record<string, number> {
  const rps: Record<string, number> = {};
  for (const line of text.split('\n')) {
    const m = /^"([^"]+)","([\d.]+)"/.exec(line.trim());
    if (m) rps[m[1]] = Number(m[2]);
  }
  return rps;
}

async function startRedisServer(binary: string): Promise<ProgramChild> {
  const port = await freePort();
  return startProgram(
    'redis-server',
    binary,
    ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no'],
    /Ready to accept connections/,
    {},
    port,
  );
}

/** The demo as the runner's other Node servers run: plain node on the transpiled tree. */
function startDemo(context: ChildContext, env: Record<string, string>): Promise<ProgramChild> {
  const script = path.join(context.buildDir, 'demos', 'resp-server.js');
  return startProgram(
    'resp-server demo',
    process.execPath,
    [script, '--port', '0', '--host', '127.0.0.1'],
    /resp server listening: .*"port":(\d+)/,
    env,
  );
}

/** Runs `program args` to its exit; rejects on a non-zero exit or on anything printed to stderr. */
function runProgram(program: string, args: string[]): Promise<string> {
  return new Promise((resolve, reject) => {
    const child = spawn(program, args, { stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (c: Buffer) => (stdout += c.toString()));
    child.stderr.on('data', (c: Buffer) => (stderr += c.toString()));
    child.once('error', reject);
    child.once('close', (code, signal) => {
      if (code === 0 && stderr.trim() === '') resolve(stdout);
      else reject(new Error(`${path.basename(program)} ${args.join(' ')}: exit ${code ?? signal}\n${stdout}${stderr}`));
    });
  });
}

/** Runs redis-benchmark against `server`; its requests/s by test and the server's CPU per request. */
async function benchmarkRun(
  tool: string,
  server: ProgramChild,
  pipeline: number,
  requests: number,
  clients: number,
): Promise<{ rps: Record<string, number>; serverCpuUsPerReq: number | undefined }> {
  const args = ['-h', '127.0.0.1', '-p', String(server.port), '-t', 'ping,set,get'];
  args.push('-P', String(pipeline), '-n', String(requests), '-c', String(clients), '--csv');
  const before = processCpu(server.pid);
  const rps = parseBenchmarkCsv(await runProgram(tool, args));
  const after = processCpu(server.pid);
  for (const test of RESP_TESTS) if (!(rps[test] > 0)) throw new Error(`redis-benchmark printed no figure for ${test}`);
  const total = requests * RESP_TESTS.length;
  return { rps, serverCpuUsPerReq: before && after ? +((after.cpu - before.cpu) / total).toFixed(3) : undefined };
}

/** Runs one client child (respclient.ts) and resolves with its result line. */
function clientRun(context: ChildContext, options: RespClientOptions): Promise<RespClientResult> {
  const script = path.join(context.buildDir, 'bench', 'respclient.js');
  return runProgram(process.execPath, [script, JSON.stringify(options)]).then((out) => {
    const line = out.trim().split('\n').pop() ?? '';
    return JSON.parse(line) as RespClientResult;
  });
}

function rotate<T>(items: readonly T[], by: number): T[] {
  const k = by % items.length;
  return [...items.slice(k), ...items.slice(0, k)];
}

/**
 * The `resp` workload. Part one: the resp-server demo and redis-server, each a fresh process per
 * repetition (warmed up by one short redis-benchmark run), driven by `redis-benchmark -t
 * ping,set,get -c 50` with 16 commands in flight per connection (`-P 16`), then with one (`-P 1`,
 * a chatty client). Part two: 100,000 INCR issued at once on one connection to one redis-server by
 * each client of {@link RESP_CLIENTS}, each in a child process. Order rotates per repetition;
 * returns every run, and prints the medians and the ratios. Missing programs skip the workload.
 */
export async function respWorkload(context: ChildContext, args: RespArgs): Promise<RespRecord[]> {
  const redisServer = findProgram('redis-server');
  const redisBenchmark = findProgram('redis-benchmark');
  if (redisServer === undefined || redisBenchmark === undefined) {
    console.log(
      'resp left out: redis-server or redis-benchmark not found (Debian: apt-get install redis-server redis-tools)',
    );
    return [];
  }
  const records: RespRecord[] = [];
  const log = (record: RespRecord) => {
    records.push(record);
    console.log(JSON.stringify(record));
  };
  const shapes = [
    { pipeline: 16, requests: args.requests },
    { pipeline: 1, requests: Math.max(1, Math.round(args.requests / 10)) },
  ];
  for (let rep = 0; rep < args.reps; rep++) {
    for (const kind of rotate(['rxnet', 'redis'] as const, rep)) {
      const server = kind === 'rxnet' ? await startDemo(context, args.serverEnv) : await startRedisServer(redisServer);
      try {
        await benchmarkRun(redisBenchmark, server, 16, Math.max(1, Math.round(args.requests / 4)), args.clients);
        for (const { pipeline, requests } of shapes) {
          await waitForQuiet(args.quietWaitMs, args.maxInterference);
          const run = await benchmarkRun(redisBenchmark, server, pipeline, requests, args.clients);
          log({ workload: 'resp', part: 'server', server: kind, pipeline, rep, ...run });
        }
      } finally {
        await server.stop();
      }
    }
  }
  const redis = await startRedisServer(redisServer);
  try {
    for (let rep = 0; rep < args.reps; rep++) {
      for (const client of rotate(RESP_CLIENTS, rep)) {
        await waitForQuiet(args.quietWaitMs, args.maxInterference);
        const key = `rxnet-bench:incr:${client}:${rep}`;
        const result = await clientRun(context, { client, port: redis.port, ops: args.clientOps, key });
        log({ workload: 'resp', part: 'client', rep, ...result });
      }
    }
  } finally {
    await redis.stop();
  }
  printResp(records);
  return records;
}

/** One line of the resp summary: a figure of each side, their ratio, and the aim. */
export interface RespRatio {
  cell: string;
  rxnet: number;
  baseline: number;
  baselineName: string;
  ratio: number;
  target: number;
}

/** The medians of the runs as ratios: the demo ÷ redis-server per test and shape, rxnet ÷ each ioredis client. */
export function respRatios(records: RespRecord[]): RespRatio[] {
  const rows: RespRatio[] = [];
  const servers = records.filter((r): r is RespServerRecord => r.part === 'server');
  for (const pipeline of [...new Set(servers.map((r) => r.pipeline))]) {
    for (const test of RESP_TESTS) {
      const of = (server: string) =>
        median(servers.filter((r) => r.server === server && r.pipeline === pipeline).map((r) => r.rps[test]));
      const [rxnet, redis] = [of('rxnet'), of('redis')];
      if (!(rxnet > 0 && redis > 0)) continue;
      const cell = `resp-server ${test} -P ${pipeline}`;
      // The aim is set for -P 16; -P 1 is shown as measured.
      const target = pipeline === 16 ? RESP_TARGETS.server : 0;
      rows.push({ cell, rxnet, baseline: redis, baselineName: 'redis-server', ratio: rxnet / redis, target });
    }
  }
  const clients = records.filter((r): r is RespClientRecord => r.part === 'client');
  const ops = (client: RespClientKind) => median(clients.filter((r) => r.client === client).map((r) => r.opsPerSec));
  for (const rx of ['rxnet', 'rxnet-timeout'] as const) {
    for (const io of ['ioredis', 'ioredis-auto'] as const) {
      const [rxnet, baseline] = [ops(rx), ops(io)];
      if (!(rxnet > 0 && baseline > 0)) continue;
      const cell = `client INCR ${rx} vs ${io}`;
      rows.push({ cell, rxnet, baseline, baselineName: io, ratio: rxnet / baseline, target: RESP_TARGETS.client });
    }
  }
  return rows;
}

function printResp(records: RespRecord[]): void {
  const rows = respRatios(records);
  if (rows.length === 0) return;
  const reps = new Set(records.map((r) => r.rep)).size;
  console.log(`\nresp: medians of ${reps} run(s) (requests/s, INCR/s); rxnet / baseline`);
  const width = Math.max(...rows.map((r) => r.cell.length));
  const nameWidth = Math.max(...rows.map((r) => r.baselineName.length));
  for (const r of rows) {
    const aim = r.target > 0 ? `${r.ratio >= r.target ? '✓' : '✗'} (aim ≥ ${r.target})` : '';
    console.log(
      `${r.cell.padEnd(width)}  rxnet ${kilo(r.rxnet).padStart(8)}  ${r.baselineName.padEnd(nameWidth)} ${kilo(r.baseline).padStart(8)}  ` +
        `${r.ratio.toFixed(2)} ${aim}`,
    );
  }
  const cpu = (server: string, pipeline: number) =>
    median(
      records
        .filter((r): r is RespServerRecord => r.part === 'server' && r.server === server && r.pipeline === pipeline)
        .map((r) => r.serverCpuUsPerReq ?? NaN),
    );
  // redis-benchmark is one thread: where it is the bottleneck (-P 1), the servers' CPU per request ranks them.
  for (const pipeline of [16, 1]) {
    const [rx, redis] = [cpu('rxnet', pipeline), cpu('redis', pipeline)];
    if (rx > 0 && redis > 0)
      console.log(
        `server CPU µs/request -P ${pipeline}: rxnet ${rx.toFixed(2)}, redis-server ${redis.toFixed(2)}` +
          ` (by CPU, rxnet runs at ${(redis / rx).toFixed(2)} of redis-server)`,
      );
  }
}
