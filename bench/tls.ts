// The `tls` workload: connections set up over TLS, from the first byte and by STARTTLS, rxnet's servers against
// hand-written Node ones in the same run; each connection connects, handshakes, echoes one line and closes.
import { spawn } from 'child_process';
import * as path from 'path';
import { waitForQuiet, type ChildContext } from './children';
import { childEnv, startProgram, type ProgramChild } from './programs';
import { processCpu } from './peers';
import { median } from './report';
import { TLS_KINDS, type TlsKind, type TlsLoadResult } from './tlspeers';

export interface TlsArgs {
  reps: number;
  warmupMs: number;
  durationMs: number;
  /** Connections the load generator keeps going at once. */
  concurrency: number;
  quietWaitMs: number;
  maxInterference: number;
}

export interface TlsRecord extends TlsLoadResult {
  workload: 'tls';
  kind: TlsKind;
  rep: number;
  /** The server's CPU time (user + system) per connection, warm-up included, in µs. */
  serverCpuUsPerConn: number | undefined;
}

/** Which server each rxnet one is measured against. */
const PAIRS: [TlsKind, TlsKind][] = [
  ['rxnet-tls', 'plain-tls'],
  ['rxnet-starttls', 'plain-starttls'],
];

function startServer(context: ChildContext, kind: TlsKind): Promise<ProgramChild> {
  const script = path.join(context.buildDir, 'bench', 'tlspeers.js');
  return startProgram(`tls server ${kind}`, process.execPath, [script, 'server', kind], /listening (\d+)/, {});
}

/** Runs the load generator as its own process; resolves with what it measured. */
function runLoad(context: ChildContext, port: number, kind: TlsKind, args: TlsArgs): Promise<TlsLoadResult> {
  const script = path.join(context.buildDir, 'bench', 'tlspeers.js');
  const argv = [
    script,
    'load',
    String(port),
    kind,
    String(args.concurrency),
    String(args.warmupMs),
    String(args.durationMs),
  ];
  const child = spawn(process.execPath, argv, { stdio: ['ignore', 'pipe', 'pipe'], env: childEnv(undefined) });
  let out = '';
  child.stdout.on('data', (chunk: Buffer) => (out += chunk.toString()));
  child.stderr.on('data', (chunk: Buffer) => (out += chunk.toString()));
  return new Promise((resolve, reject) => {
    child.once('error', reject);
    child.once('exit', (code) => {
      const last = out.trim().split('\n').pop() ?? '';
      if (code === 0 && last.startsWith('{')) resolve(JSON.parse(last) as TlsLoadResult);
      else reject(new Error(`tls load generator exited (${code}):\n${out}`));
    });
  });
}

/** Every kind, `reps` times in turn; prints a line per run and the medians with their ratios. */
export async function tlsWorkload(context: ChildContext, args: TlsArgs): Promise<TlsRecord[]> {
  const records: TlsRecord[] = [];
  for (let rep = 1; rep <= args.reps; rep++) {
    for (const kind of TLS_KINDS) {
      await waitForQuiet(args.quietWaitMs, args.maxInterference);
      const server = await startServer(context, kind);
      try {
        const before = processCpu(server.pid);
        const result = await runLoad(context, server.port, kind, args);
        const after = processCpu(server.pid);
        const cpu = before && after && result.total > 0 ? (after.cpu - before.cpu) / result.total : undefined;
        const record: TlsRecord = { workload: 'tls', kind, rep, ...result, serverCpuUsPerConn: cpu };
        records.push(record);
        console.log(JSON.stringify(record));
      } finally {
        await server.stop();
      }
    }
  }
  printTlsSummary(records, args);
  return records;
}

function printTlsSummary(records: TlsRecord[], args: TlsArgs): void {
  const of = (kind: TlsKind) => records.filter((r) => r.kind === kind);
  const m = (kind: TlsKind, pick: (r: TlsRecord) => number | undefined) =>
    median(
      of(kind)
        .map(pick)
        .filter((v): v is number => v !== undefined && Number.isFinite(v)),
    );
  console.log(
    `\ntls: connect + handshake + one echoed line + close, ${args.concurrency} at a time; medians of ${args.reps} run(s)`,
  );
  console.log('server           conns/s  server CPU µs/conn   p50 ms   p99 ms  errors');
  for (const kind of TLS_KINDS) {
    const errors = of(kind).reduce((sum, r) => sum + r.errors, 0);
    console.log(
      `${kind.padEnd(15)} ${m(kind, (r) => r.perSecond)
        .toFixed(0)
        .padStart(8)}  ${m(kind, (r) => r.serverCpuUsPerConn)
        .toFixed(0)
        .padStart(18)}  ${m(kind, (r) => r.p50)
        .toFixed(2)
        .padStart(7)}  ${m(kind, (r) => r.p99)
        .toFixed(2)
        .padStart(7)}  ${String(errors).padStart(6)}`,
    );
  }
  console.log('\nrxnet / hand-written (conns/s: higher is better; CPU and p99: lower is better)');
  for (const [ours, theirs] of PAIRS) {
    const ratio = (pick: (r: TlsRecord) => number | undefined) => (m(ours, pick) / m(theirs, pick)).toFixed(2);
    console.log(
      `${ours} / ${theirs}: conns/s ${ratio((r) => r.perSecond)}, CPU/conn ${ratio((r) => r.serverCpuUsPerConn)}, p99 ${ratio((r) => r.p99)}`,
    );
  }
}
