// `npm run bench [-- WORKLOAD... --flags]`: rxnet against plain net and split2 in one run, servers and load generator in separate processes.
import { execSync, spawn, type ChildProcess } from 'child_process';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { BUILD_DIR, buildForBench } from './build';
import type { LoadMessage, LoadOptions, LoadResult } from './loadgen';
import { summarizeProfile } from './profile';
import type { MemorySample, ServerReply, ServerRequest } from './server';
import { kindsFor, type ReplyStyle, type ServerKind, type ServerWorkload } from './servers';
import type { Framing } from './protocol';

const USAGE = `usage: npm run bench [-- WORKLOAD... FLAGS]

workloads (default: echo lines length conns slow)
  echo | bulk   bulk echo, 64 KiB writes: socket.pipe(socket) vs rxnet
  lines         line echo, 64 B and 1 KiB: plain, plain-cork, split2, rxnet
  length        4-byte length-prefixed echo, 64 B and 1 KiB: plain, plain-cork, rxnet
  conns         10,000 idle connections (memory per connection), then 1,000 active
  slow          slow consumer: the server sends --slow-bytes to a reader at --slow-rate
  framing       the in-memory framing bench (bench/framing.ts); other arguments go to it

flags
  --reps N          runs per server and setting, median reported (default 5)
  --bulk-reps N     the same for bulk echo, the noisiest workload (default 9, or --reps when given)
  --warmup MS       warm-up before each measured window (default 400)
  --duration MS     measured window per run (default 1200)
  --conns LIST      connection counts for echo/lines/length (default 1,100)
  --sizes LIST      message sizes for lines/length (default 64,1024)
  --inflight K      messages in flight per connection (default 16)
  --client-writes M batch (default): the load generator writes the messages that replace those
                    echoed with one write(); each: one write() per message
  --reply STYLE     cut (default): line and length servers echo each message as cut; new: every
                    server answers with a new Buffer per message (rxnet: map to Buffer.concat)
  --servers LIST    only these server kinds (pipe, plain, plain-cork, split2, rxnet)
  --idle N          connections in the conns run (default 10000), --active N of them active (default 1000)
  --slow-bytes N    bytes sent in the slow run (default 1073741824 = 1 GiB)
  --slow-rate N     reader speed in bytes/s (default 10e6, the issue's: ~107 s per server for 1 GiB;
                    100e6 with --quick)
  --retries N       repeat a run up to N times while other work used more than --max-interference
                    cores during it (default 2; the least disturbed attempt counts; a retry waits up
                    to 10 s for the machine to be idle, none with --quiet-wait 0)
  --max-interference C   cores of other work tolerated during a run (default 0.10)
  --quiet-wait MS   before each run, wait up to MS for the machine to be idle (default 1500)
  --profile         run servers under node --cpu-prof (written to bench/results/*.cpuprofile) and summarise
  --quick           --reps 1 --bulk-reps 1 --warmup 200 --duration 500 --idle 2000 --active 200
                    --slow-bytes 128 MiB --slow-rate 100e6 --quiet-wait 0
  --no-save         do not write bench/results/*.json
  --default-malloc  run the echo, lines and length servers with glibc's own heap trimming rule
                    instead of MALLOC_TRIM_THRESHOLD_=64 MiB (see docs/performance.md: fixed so that page
                    faults do not decide runs); conns and slow always use glibc's rule
  --pin             run every server on CPU 0 and every load generator on CPU 1 (taskset), so the two
                    do not migrate between cores or take turns on one
`;

interface Args {
  workloads: string[];
  reps: number;
  /** Runs per server and setting of bulk echo. */
  bulkReps: number;
  warmupMs: number;
  durationMs: number;
  conns: number[];
  sizes: number[];
  inflight: number;
  clientWrites: 'batch' | 'each';
  /** How the line and length servers answer: each message as cut, or a new Buffer per message. */
  reply: ReplyStyle;
  servers: ServerKind[] | undefined;
  idle: number;
  active: number;
  slowBytes: number;
  slowRate: number;
  profile: boolean;
  save: boolean;
  retries: number;
  maxInterference: number;
  quietWaitMs: number;
  /** Pin each server to CPU 0 and each load generator to CPU 1 (taskset). */
  pin: boolean;
  /** Run echo servers with glibc's adaptive heap trimming (else ECHO_SERVER_ENV fixes it). */
  defaultMalloc: boolean;
}

function parseArgs(argv: string[]): Args {
  const quick = argv.includes('--quick');
  const args: Args = {
    workloads: [],
    reps: quick ? 1 : 5,
    bulkReps: quick ? 1 : 9,
    warmupMs: quick ? 200 : 400,
    durationMs: quick ? 500 : 1200,
    conns: [1, 100],
    sizes: [64, 1024],
    inflight: 16,
    clientWrites: 'batch',
    reply: 'cut',
    servers: undefined,
    idle: quick ? 2000 : 10_000,
    active: quick ? 200 : 1000,
    slowBytes: quick ? 128 * 1024 * 1024 : 1024 * 1024 * 1024,
    slowRate: quick ? 100e6 : 10e6,
    profile: false,
    save: true,
    pin: false,
    defaultMalloc: false,
    retries: quick ? 0 : 2,
    maxInterference: 0.1,
    quietWaitMs: quick ? 0 : 1500,
  };
  const list = (s: string) => s.split(',').map((x) => Number(x.trim()));
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    const value = () => {
      const v = argv[++i];
      if (v === undefined) throw new Error(`${a} needs a value`);
      return v;
    };
    switch (a) {
      case '--quick':
        break;
      case '--reps':
        args.reps = Number(value());
        if (!argv.includes('--bulk-reps')) args.bulkReps = args.reps;
        break;
      case '--bulk-reps':
        args.bulkReps = Number(value());
        break;
      case '--warmup':
        args.warmupMs = Number(value());
        break;
      case '--duration':
        args.durationMs = Number(value());
        break;
      case '--conns':
        args.conns = list(value());
        break;
      case '--sizes':
        args.sizes = list(value());
        break;
      case '--inflight':
        args.inflight = Number(value());
        break;
      case '--reply': {
        const v = value();
        if (v !== 'cut' && v !== 'new') throw new Error('--reply is cut or new');
        args.reply = v;
        break;
      }
      case '--client-writes': {
        const v = value();
        if (v !== 'batch' && v !== 'each') throw new Error('--client-writes is batch or each');
        args.clientWrites = v;
        break;
      }
      case '--servers':
        args.servers = value().split(',') as ServerKind[];
        break;
      case '--idle':
        args.idle = Number(value());
        break;
      case '--active':
        args.active = Number(value());
        break;
      case '--slow-bytes':
        args.slowBytes = Number(value());
        break;
      case '--slow-rate':
        args.slowRate = Number(value());
        break;
      case '--retries':
        args.retries = Number(value());
        break;
      case '--max-interference':
        args.maxInterference = Number(value());
        break;
      case '--quiet-wait':
        args.quietWaitMs = Number(value());
        break;
      case '--profile':
        args.profile = true;
        break;
      case '--no-save':
        args.save = false;
        break;
      case '--pin':
        args.pin = true;
        break;
      case '--default-malloc':
        args.defaultMalloc = true;
        break;
      case '-h':
      case '--help':
        console.log(USAGE);
        process.exit(0);
        break;
      default:
        if (a.startsWith('-')) throw new Error(`unknown flag ${a}\n${USAGE}`);
        args.workloads.push(a === 'bulk' ? 'echo' : a);
    }
  }
  if (args.workloads.length === 0) args.workloads = ['echo', 'lines', 'length', 'conns', 'slow'];
  for (const w of args.workloads) {
    if (!['echo', 'lines', 'length', 'conns', 'slow'].includes(w)) throw new Error(`unknown workload ${w}\n${USAGE}`);
  }
  if (!(args.reps >= 1)) throw new Error('--reps must be at least 1');
  if (!(args.bulkReps >= 1)) throw new Error('--bulk-reps must be at least 1');
  if (!(args.slowRate > 0)) throw new Error('--slow-rate must be a positive number of bytes/s');
  if (!(args.slowBytes > 0)) throw new Error('--slow-bytes must be a positive number of bytes');
  return args;
}

// ---------------------------------------------------------------------------------------------
// Children. Each is started through a shell that raises the open-file limit as far as allowed.

const RESULTS_DIR = path.join(__dirname, 'results');
let buildDir = '';
/** CPUs the children are pinned to (`--pin`), else undefined. */
const pinned: { server?: number; loadgen?: number } = {};
/** Profiles written in this run, by file name. */
const profileFiles: string[] = [];
const runStamp = new Date().toISOString().replace(/[:.]/g, '-');

function spawnNode(
  script: string,
  args: string[],
  nodeFlags: string[],
  cpu?: number,
  env?: Record<string, string>,
): ChildProcess {
  const pin = cpu === undefined ? [] : ['taskset', '-c', String(cpu)];
  const quoted = [...pin, process.execPath, ...nodeFlags, path.join(buildDir, 'bench', script), ...args]
    .map(shellQuote)
    .join(' ');
  return spawn(
    '/bin/sh',
    ['-c', `ulimit -n 65536 2>/dev/null || ulimit -n "$(ulimit -Hn)" 2>/dev/null; exec ${quoted}`],
    {
      stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
      env: childEnv(env),
    },
  );
}

/**
 * A child's environment: the runner's, without a glibc trim threshold the runner itself may have
 * been given (so --default-malloc and the memory workloads really get glibc's own rule), plus `extra`.
 */
function childEnv(extra: Record<string, string> | undefined): NodeJS.ProcessEnv {
  const env = { ...process.env };
  delete env.MALLOC_TRIM_THRESHOLD_;
  return Object.assign(env, extra);
}

function shellQuote(s: string): string {
  return `'${s.replace(/'/g, `'\\''`)}'`;
}

class ServerChild {
  private constructor(
    readonly kind: ServerKind,
    readonly workload: ServerWorkload,
    private readonly child: ChildProcess,
    readonly port: number,
    /** MALLOC_TRIM_THRESHOLD_ as the server process saw it, or undefined (glibc's own rule). */
    readonly mallocTrimThreshold: string | undefined,
  ) {}

  static start(
    kind: ServerKind,
    workload: ServerWorkload,
    profile: boolean,
    options: { sourceBytes?: number; env?: Record<string, string> } = {},
  ): Promise<ServerChild> {
    const { sourceBytes, env } = options;
    const flags = ['--expose-gc'];
    if (profile) {
      const name = `${runStamp}-${workload}-${kind}-${profileFiles.length}.cpuprofile`;
      profileFiles.push(name);
      flags.push('--cpu-prof', `--cpu-prof-dir=${RESULTS_DIR}`, `--cpu-prof-name=${name}`);
    }
    const args = [kind, workload, ...(sourceBytes === undefined ? [] : [String(sourceBytes)])];
    const child = spawnNode('server.js', args, flags, pinned.server, env);
    return new Promise((resolve, reject) => {
      const onExit = (code: number | null) => reject(new Error(`${kind} ${workload} server exited (${code})`));
      child.once('exit', onExit);
      child.once('message', (reply: ServerReply) => {
        child.removeListener('exit', onExit);
        if (reply.type === 'listening')
          resolve(new ServerChild(kind, workload, child, reply.port, reply.mallocTrimThreshold));
        else reject(new Error(reply.type === 'error' ? reply.message : `unexpected ${reply.type}`));
      });
    });
  }

  get pid(): number | undefined {
    return this.child.pid;
  }

  mem(): Promise<MemorySample> {
    return new Promise((resolve, reject) => {
      const onExit = () => reject(new Error(`${this.kind} server died`));
      this.child.once('exit', onExit);
      const onMessage = (reply: ServerReply) => {
        if (reply.type !== 'mem') return;
        this.child.removeListener('message', onMessage);
        this.child.removeListener('exit', onExit);
        resolve(reply.mem);
      };
      this.child.on('message', onMessage);
      this.child.send({ type: 'mem' } satisfies ServerRequest);
    });
  }

  /** The server process's CPU time so far, user + system, in microseconds, and its minor page faults. */
  cpu(): Promise<{ cpu: number; faults: number }> {
    return new Promise((resolve) => {
      const onMessage = (reply: ServerReply) => {
        if (reply.type !== 'cpu') return;
        this.child.removeListener('message', onMessage);
        resolve({ cpu: reply.user + reply.system, faults: reply.minorFaults });
      };
      this.child.on('message', onMessage);
      this.child.send({ type: 'cpu' } satisfies ServerRequest);
    });
  }

  stop(): Promise<void> {
    if (this.child.exitCode !== null || this.child.signalCode !== null) return Promise.resolve();
    return new Promise((resolve) => {
      const timer = setTimeout(() => this.child.kill('SIGKILL'), 10_000);
      this.child.once('exit', () => {
        clearTimeout(timer);
        resolve();
      });
      this.child.send({ type: 'stop' } satisfies ServerRequest);
    });
  }
}

/** What the runner adds to a load result: the server's CPU time per echoed message in the window. */
interface ServerCost {
  serverCpuUsPerMsg: number | undefined;
  /** Server CPU time in the window as a share of one core. */
  serverCpu: number | undefined;
  /**
   * CPU the rest of the machine used during the window, in cores (busy time from /proc/stat
   * minus server and load generator): other work sharing the 2 cores. High means a noisy run.
   */
  interference: number | undefined;
  /**
   * The server's minor page faults per message in the window: mostly the kernel copying into read
   * buffers on pages the C allocator had handed back to the system (see docs/performance.md).
   */
  serverFaultsPerMsg: number | undefined;
  /** The server process the run was made on (each echo run has its own, see echoWorkload). */
  serverPid: number | undefined;
  /** The glibc trim threshold the server process ran with, or undefined for glibc's own rule. */
  serverMallocTrim: string | undefined;
}

/** Busy and total CPU time of the machine so far, in clock ticks (Linux /proc/stat), or undefined. */
function machineTicks(): { busy: number; total: number } | undefined {
  try {
    const line = fs.readFileSync('/proc/stat', 'utf8').split('\n', 1)[0];
    const [, user, nice, system, idle, iowait, irq, softirq, steal] = line.trim().split(/\s+/).map(Number);
    const busy = user + nice + system + irq + softirq + (steal || 0);
    return { busy, total: busy + idle + iowait };
  } catch {
    return undefined;
  }
}

/** Cores busy on the machine over `ms` (nothing of ours running but idle servers). */
async function busyCores(ms: number): Promise<number | undefined> {
  const a = machineTicks();
  await new Promise((r) => setTimeout(r, ms));
  const b = machineTicks();
  if (!a || !b || b.total === a.total) return undefined;
  return ((b.busy - a.busy) / (b.total - a.total)) * os.cpus().length;
}

/** Waits (at most `maxMs`) until the machine is nearly idle, so the next run has the cores to itself. */
async function waitForQuiet(maxMs: number, threshold: number): Promise<void> {
  const until = Date.now() + maxMs;
  while (Date.now() < until) {
    const busy = await busyCores(250);
    if (busy === undefined || busy < threshold) return;
  }
}

/**
 * Runs one load in a child; `ready` runs once its connections are open and before traffic starts.
 * With `server`, its CPU time over the measured window is taken too.
 */
function runLoadChild(
  options: LoadOptions,
  ready?: () => Promise<void>,
  server?: ServerChild,
): Promise<LoadResult & ServerCost> {
  const child = spawnNode('loadgen.js', [JSON.stringify(options)], ['--max-old-space-size=2048'], pinned.loadgen);
  let cpuStart: Promise<{ cpu: number; faults: number }> | undefined;
  let cpuEnd: Promise<{ cpu: number; faults: number }> | undefined;
  let ticksStart: ReturnType<typeof machineTicks>;
  let ticksEnd: ReturnType<typeof machineTicks>;
  return new Promise<LoadResult>((resolve, reject) => {
    let settled = false;
    child.on('message', (m: LoadMessage) => {
      if (m.type === 'window') {
        if (m.phase === 'start') {
          ticksStart = machineTicks();
          if (server) cpuStart = server.cpu();
        } else {
          ticksEnd = machineTicks();
          if (server) cpuEnd = server.cpu();
        }
      } else if (m.type === 'ready') {
        (ready ? ready() : Promise.resolve()).then(
          () => child.send({ type: 'go' } satisfies LoadMessage),
          (error) => {
            settled = true;
            child.kill();
            reject(error);
          },
        );
      } else if (m.type === 'result') {
        settled = true;
        resolve(m.result);
      } else if (m.type === 'error') {
        settled = true;
        reject(new Error(m.message));
      }
    });
    child.once('exit', (code) => {
      if (!settled) reject(new Error(`load generator exited (${code}) without a result`));
    });
  }).then(async (result) => {
    const which = { serverPid: server?.pid, serverMallocTrim: server?.mallocTrimThreshold };
    if (!cpuStart || !cpuEnd)
      return {
        ...result,
        serverCpuUsPerMsg: undefined,
        serverCpu: undefined,
        interference: undefined,
        serverFaultsPerMsg: undefined,
        ...which,
      };
    const start = await cpuStart;
    const end = await cpuEnd;
    const used = end.cpu - start.cpu;
    const serverCpu = used / 1e6 / result.seconds;
    let interference: number | undefined;
    if (ticksStart && ticksEnd && ticksEnd.total > ticksStart.total) {
      const busy = ((ticksEnd.busy - ticksStart.busy) / (ticksEnd.total - ticksStart.total)) * os.cpus().length;
      interference = +Math.max(0, busy - serverCpu - result.loadgenCpu).toFixed(2);
    }
    return {
      ...result,
      serverCpuUsPerMsg: result.messages > 0 ? +(used / result.messages).toFixed(3) : undefined,
      serverCpu: +serverCpu.toFixed(3),
      interference,
      serverFaultsPerMsg: result.messages > 0 ? +((end.faults - start.faults) / result.messages).toFixed(3) : undefined,
      ...which,
    };
  });
}

// ---------------------------------------------------------------------------------------------
// Records and summaries.

interface RunRecord extends LoadResult, ServerCost {
  workload: string;
  server: ServerKind;
  rep: number;
  /** Runs made to get one with little interference (see --retries). */
  attempts: number;
}

interface ConnsRecord {
  server: ServerKind;
  rep: number;
  connections: number;
  /** Right after the last connection was accepted (`idle`) minus before any. */
  heapPerConn: number;
  rssPerConn: number;
  externalPerConn: number;
  /**
   * The same once V8 has shrunk its young generation (`settled`, see settleMemory); RSS without
   * the young generation's resident pages, in `before` as in `settled`.
   */
  settledHeapPerConn: number;
  settledRssPerConn: number;
  /** How long the connections sat idle until then; undefined if V8 had not shrunk by SETTLE_MAX_MS. */
  settleMs: number | undefined;
  before: MemorySample;
  idle: MemorySample;
  settled: MemorySample;
  after: MemorySample;
  active: LoadResult;
}

interface SlowRecord {
  server: ServerKind;
  rep: number;
  bytes: number;
  rate: number;
  baselineRss: number;
  peakRss: number;
  seconds: number;
  mbPerSec: number;
}

const runs: RunRecord[] = [];
const connsRecords: ConnsRecord[] = [];
const slowRecords: SlowRecord[] = [];

function median(values: number[]): number {
  const s = [...values].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2;
}

function logLine(record: object): void {
  console.log(JSON.stringify(record));
}

function rotate<T>(items: T[], by: number): T[] {
  const k = by % items.length;
  return [...items.slice(k), ...items.slice(0, k)];
}

// ---------------------------------------------------------------------------------------------
// Workloads.

/** Warm-up of a run on a fresh server process: its JIT and heap settle in about a second. */
const FRESH_WARMUP_MS = 1000;

/** How long a retry waits (at most) for the machine to be idle: other work on this VM comes in bursts of seconds. */
const RETRY_QUIET_WAIT_MS = 10_000;

/**
 * The environment of the echo, line and length servers (all kinds alike) unless --default-malloc:
 * glibc hands the top of its heap back to the system only past this many free bytes. Left to its
 * own rule (128 KiB at first, raised when a large mapped block is freed), some processes hand back
 * and fault in again the pages their read buffers churn through, for their whole life, and spend
 * up to 65% more CPU per message; which ones is chance (see docs/performance.md). 64 MiB is the most glibc's
 * own rule can raise it to on 64-bit. Memory workloads (conns, slow) keep glibc's rule.
 */
const ECHO_SERVER_ENV = { MALLOC_TRIM_THRESHOLD_: String(64 * 1024 * 1024) };

/**
 * Echo workloads, runs interleaved (server order rotates per repetition). Every run gets a server
 * process of its own, warmed up for at least FRESH_WARMUP_MS, so that the runs are independent
 * samples: what a process settles into early (its heap, its compiled code) holds for its life.
 * With --profile every kind keeps one process, for one profile per server.
 */
async function echoWorkload(args: Args, framing: Framing): Promise<void> {
  const workload = framing === 'bulk' ? 'echo' : framing;
  const kinds = kindsFor(framing).filter((k) => !args.servers || args.servers.includes(k));
  const fresh = !args.profile;
  // Bulk echo is bound by the load generator and spreads ±20% from run to run: more runs.
  const reps = framing === 'bulk' ? args.bulkReps : args.reps;
  const env = { ...(args.defaultMalloc ? {} : ECHO_SERVER_ENV), RXNET_BENCH_REPLY: args.reply };
  const warmupMs = fresh ? Math.max(args.warmupMs, FRESH_WARMUP_MS) : args.warmupMs;
  const shared = new Map<ServerKind, ServerChild>();
  try {
    if (!fresh)
      for (const kind of kinds) shared.set(kind, await ServerChild.start(kind, framing, args.profile, { env }));
    const sizes = framing === 'bulk' ? [64 * 1024] : args.sizes;
    for (const size of sizes) {
      for (const conns of args.conns) {
        for (let rep = 0; rep < reps; rep++) {
          for (const kind of rotate(kinds, rep)) {
            // A run that shared the cores with other work is repeated (the least disturbed one counts).
            let result: (LoadResult & ServerCost) | undefined;
            let attempts = 0;
            while (attempts <= args.retries) {
              attempts++;
              const server = shared.get(kind) ?? (await ServerChild.start(kind, framing, false, { env }));
              let attempt: LoadResult & ServerCost;
              try {
                // A retry follows a disturbed attempt: give the other work longer to pass.
                const quietMs =
                  attempts === 1 || args.quietWaitMs === 0
                    ? args.quietWaitMs
                    : Math.max(args.quietWaitMs, RETRY_QUIET_WAIT_MS);
                await waitForQuiet(quietMs, args.maxInterference);
                attempt = await runLoadChild(
                  {
                    port: server.port,
                    mode: framing,
                    size,
                    conns,
                    inflight: args.inflight,
                    warmupMs,
                    durationMs: args.durationMs,
                    clientWrites: args.clientWrites,
                  },
                  undefined,
                  server,
                );
              } finally {
                if (!shared.has(kind)) await server.stop();
              }
              if (result === undefined || (attempt.interference ?? 0) < (result.interference ?? 0)) result = attempt;
              if ((attempt.interference ?? 0) <= args.maxInterference) break;
            }
            const record: RunRecord = { workload, server: kind, rep, attempts, ...result! };
            runs.push(record);
            logLine(record);
          }
        }
      }
    }
  } finally {
    for (const s of shared.values()) await s.stop();
  }
}

/** How long settleMemory waits at most, and how often it looks. */
const SETTLE_MAX_MS = 30_000;
const SETTLE_POLL_MS = 2_000;

/**
 * Waits (at most SETTLE_MAX_MS) until V8 has shrunk its young generation back to the size it had
 * `before` the connections came, and returns the memory then and how long it took (undefined if it
 * did not). Accepting thousands of connections in a second grows the young generation to its
 * largest and touches its pages; V8 gives them back only after several seconds without
 * allocation. Measured right away, a server's RSS per connection counts those pages, and they
 * grow with the garbage made per accepted connection rather than with what a connection keeps.
 */
async function settleMemory(
  server: ServerChild,
  before: MemorySample,
): Promise<{ mem: MemorySample; ms: number | undefined }> {
  const start = Date.now();
  for (;;) {
    await new Promise((r) => setTimeout(r, SETTLE_POLL_MS));
    const mem = await server.mem();
    const ms = Date.now() - start;
    if (mem.newSpace <= before.newSpace) return { mem, ms };
    if (ms >= SETTLE_MAX_MS) return { mem, ms: undefined };
  }
}

/** Connection scale: memory per idle connection, then throughput with some of them active. */
async function connsWorkload(args: Args): Promise<void> {
  const kinds = (['plain', 'rxnet'] as ServerKind[]).filter((k) => !args.servers || args.servers.includes(k));
  for (let rep = 0; rep < args.reps; rep++) {
    for (const kind of rotate(kinds, rep)) {
      const server = await ServerChild.start(kind, 'lines', args.profile);
      try {
        const before = await server.mem();
        let idle: MemorySample | undefined;
        let settled: { mem: MemorySample; ms: number | undefined } | undefined;
        const active = await runLoadChild(
          {
            port: server.port,
            mode: 'lines',
            size: 64,
            conns: args.active,
            idle: args.idle - args.active,
            inflight: args.inflight,
            warmupMs: args.warmupMs,
            durationMs: args.durationMs,
            clientWrites: args.clientWrites,
            drainTimeoutMs: 30_000,
          },
          async () => {
            // Let the server finish accepting: the last connects may still be in its backlog.
            await new Promise((r) => setTimeout(r, 300));
            idle = await server.mem();
            settled = await settleMemory(server, before);
          },
        );
        const after = await server.mem();
        const n = args.idle;
        const record: ConnsRecord = {
          server: kind,
          rep,
          connections: n,
          heapPerConn: (idle!.heapUsed - before.heapUsed) / n,
          rssPerConn: (idle!.rss - before.rss) / n,
          externalPerConn: (idle!.external - before.external) / n,
          settledHeapPerConn: (settled!.mem.heapUsed - before.heapUsed) / n,
          // Without the young generation's resident pages in either sample: a fresh process starts
          // with more of them than V8 keeps once it has shrunk the generation.
          settledRssPerConn:
            (settled!.mem.rss - settled!.mem.newSpaceResident - (before.rss - before.newSpaceResident)) / n,
          settleMs: settled!.ms,
          before,
          idle: idle!,
          settled: settled!.mem,
          after,
          active,
        };
        connsRecords.push(record);
        logLine({
          workload: 'conns',
          server: kind,
          rep,
          connections: n,
          heapPerConn: Math.round(record.heapPerConn),
          rssPerConn: Math.round(record.rssPerConn),
          externalPerConn: Math.round(record.externalPerConn),
          settledHeapPerConn: Math.round(record.settledHeapPerConn),
          settledRssPerConn: Math.round(record.settledRssPerConn),
          settleMs: record.settleMs,
          peakRss: after.maxRss,
          ...active,
        });
      } finally {
        await server.stop();
      }
    }
  }
}

/** Slow consumer: the server sends `slowBytes` to a reader at `slowRate`; its peak RSS is what counts. */
async function slowWorkload(args: Args): Promise<void> {
  const kinds = (['pipe', 'rxnet'] as ServerKind[]).filter((k) => !args.servers || args.servers.includes(k));
  const reps = Math.min(args.reps, 1);
  for (let rep = 0; rep < reps; rep++) {
    for (const kind of kinds) {
      const server = await ServerChild.start(kind, 'source', args.profile, { sourceBytes: args.slowBytes });
      try {
        const before = await server.mem();
        const result = await runLoadChild({
          port: server.port,
          mode: 'source',
          size: 0,
          conns: 1,
          inflight: 0,
          warmupMs: 0,
          durationMs: 0,
          sourceBytes: args.slowBytes,
          readRate: args.slowRate,
        });
        const after = await server.mem();
        const record: SlowRecord = {
          server: kind,
          rep,
          bytes: args.slowBytes,
          rate: args.slowRate,
          baselineRss: before.rss,
          peakRss: after.maxRss,
          seconds: result.seconds,
          mbPerSec: result.mbPerSec,
        };
        slowRecords.push(record);
        logLine({ workload: 'slow', ...record });
      } finally {
        await server.stop();
      }
    }
  }
}

// ---------------------------------------------------------------------------------------------
// The ratio table.

interface Row {
  workload: string;
  conns: number | string;
  rxnet: string;
  against: string;
  baseline: string;
  ratio: number;
  target: string;
  met: boolean | null;
  /** rxnet's server CPU time per message ÷ the baseline's: efficiency, less sensitive to scheduling noise. */
  cpuRatio?: number;
}

function summarize(): { rows: Row[]; medians: object[] } {
  const rows: Row[] = [];
  const medians: object[] = [];
  const groups = new Map<string, RunRecord[]>();
  for (const r of runs) {
    const key = `${r.workload}|${r.size}|${r.conns}|${r.server}`;
    groups.set(key, [...(groups.get(key) ?? []), r]);
  }
  const med = new Map<
    string,
    { mps: number; mbps: number; p50: number; p99: number; n: number; cpu: number; faults: number; noise: number }
  >();
  for (const [key, rs] of groups) {
    const cpus = rs.map((r) => r.serverCpuUsPerMsg).filter((c): c is number => c !== undefined);
    const noise = rs.map((r) => r.interference).filter((c): c is number => c !== undefined);
    const faults = rs.map((r) => r.serverFaultsPerMsg).filter((c): c is number => c !== undefined);
    const m = {
      faults: faults.length > 0 ? median(faults) : NaN,
      noise: noise.length > 0 ? Math.max(...noise) : NaN,
      cpu: cpus.length > 0 ? median(cpus) : NaN,
      mps: median(rs.map((r) => r.messagesPerSec)),
      mbps: median(rs.map((r) => r.mbPerSec)),
      p50: median(rs.map((r) => r.p50us)),
      p99: median(rs.map((r) => r.p99us)),
      n: rs.length,
    };
    med.set(key, m);
    const [workload, size, conns, server] = key.split('|');
    medians.push({
      workload,
      size: Number(size),
      conns: Number(conns),
      server,
      runs: m.n,
      messagesPerSec: Math.round(m.mps),
      mbPerSec: +m.mbps.toFixed(1),
      p50us: m.p50,
      p99us: m.p99,
      serverCpuUsPerMsg: m.cpu,
      serverFaultsPerMsg: m.faults,
      worstInterference: m.noise,
    });
  }
  const settings = [...new Set(runs.map((r) => `${r.workload}|${r.size}|${r.conns}`))];
  for (const setting of settings) {
    const [workload, sizeText, connsText] = setting.split('|');
    const size = Number(sizeText);
    const conns = Number(connsText);
    const get = (kind: ServerKind) => med.get(`${setting}|${kind}`);
    const rx = get('rxnet');
    if (!rx) continue;
    const label =
      workload === 'echo' ? 'echo 64 KiB' : `${workload} ${size >= 1024 ? `${size / 1024} KiB` : `${size} B`}`;
    const fmt = (m: { mps: number; mbps: number; p99: number }) =>
      workload === 'echo' ? `${m.mbps.toFixed(0)} MB/s p99 ${ms(m.p99)}` : `${kilo(m.mps)} msg/s p99 ${ms(m.p99)}`;
    if (workload === 'echo') {
      const pipe = get('pipe');
      if (!pipe) continue;
      const ratio = rx.mbps / pipe.mbps;
      rows.push({
        workload: label,
        conns,
        rxnet: fmt(rx),
        against: 'pipe',
        baseline: fmt(pipe),
        ratio,
        target: '>= 0.95',
        met: ratio >= 0.95,
        cpuRatio: rx.cpu / pipe.cpu,
      });
      const p99 = rx.p99 / pipe.p99;
      rows.push({
        workload: `${label} p99`,
        conns,
        rxnet: ms(rx.p99),
        against: 'pipe',
        baseline: ms(pipe.p99),
        ratio: p99,
        target: '<= 1.2',
        met: p99 <= 1.2,
      });
      continue;
    }
    const plain = get('plain');
    const cork = get('plain-cork');
    const candidates = [
      ['plain', plain],
      ['plain-cork', cork],
    ].filter((c): c is [string, NonNullable<typeof plain>] => c[1] !== undefined);
    if (candidates.length > 0) {
      const [bestName, best] = candidates.reduce((a, b) => (b[1].mps > a[1].mps ? b : a));
      const goal = conns === 1 ? 1.0 : 0.9;
      const ratio = rx.mps / best.mps;
      rows.push({
        workload: label,
        conns,
        rxnet: fmt(rx),
        against: `best plain (${bestName})`,
        baseline: fmt(best),
        ratio,
        target: `>= ${goal.toFixed(1)}`,
        met: ratio >= goal,
        cpuRatio: rx.cpu / best.cpu,
      });
      for (const [name, m] of candidates) {
        if (name === bestName) continue;
        rows.push({
          workload: label,
          conns,
          rxnet: '',
          against: name,
          baseline: fmt(m),
          ratio: rx.mps / m.mps,
          target: '',
          met: null,
          cpuRatio: rx.cpu / m.cpu,
        });
      }
      const p99 = rx.p99 / best.p99;
      rows.push({
        workload: `${label} p99`,
        conns,
        rxnet: ms(rx.p99),
        against: bestName,
        baseline: ms(best.p99),
        ratio: p99,
        target: '<= 1.2',
        met: p99 <= 1.2,
      });
    }
    const s2 = get('split2');
    if (s2) {
      const ratio = rx.mps / s2.mps;
      const targeted = conns >= 100;
      rows.push({
        workload: label,
        conns,
        rxnet: '',
        against: 'split2',
        baseline: fmt(s2),
        ratio,
        target: targeted ? '>= 1.5' : '',
        met: targeted ? ratio >= 1.5 : null,
        cpuRatio: rx.cpu / s2.cpu,
      });
    }
  }
  const byKind = (kind: ServerKind) => connsRecords.filter((r) => r.server === kind);
  const cPlain = byKind('plain');
  const cRx = byKind('rxnet');
  if (cPlain.length > 0 && cRx.length > 0) {
    const n = cRx[0].connections;
    // Right after accepting, and once V8 has given back the young generation (see settleMemory).
    const samples = [
      { label: 'idle', heap: (r: ConnsRecord) => r.heapPerConn, rss: (r: ConnsRecord) => r.rssPerConn },
      {
        label: 'idle, settled',
        heap: (r: ConnsRecord) => r.settledHeapPerConn,
        rss: (r: ConnsRecord) => r.settledRssPerConn,
      },
    ];
    for (const { label, heap, rss } of samples) {
      const measures = [
        { name: 'heap/conn', of: heap },
        { name: 'RSS/conn', of: rss },
        { name: 'heap+RSS/conn', of: (r: ConnsRecord) => heap(r) + rss(r) },
      ];
      for (const { name, of } of measures) {
        const rx = median(cRx.map(of));
        const plain = median(cPlain.map(of));
        rows.push({
          workload: `${n} ${label}: ${name}`,
          conns: n,
          rxnet: bytes(rx),
          against: 'plain',
          baseline: bytes(plain),
          ratio: rx / plain,
          target: '<= 1.5',
          met: rx / plain <= 1.5,
        });
      }
    }
    const mps = (rs: ConnsRecord[]) => median(rs.map((r) => r.active.messagesPerSec));
    const p99 = (rs: ConnsRecord[]) => median(rs.map((r) => r.active.p99us));
    const a = cRx[0].active.conns;
    rows.push({
      workload: `lines 64 B, ${a} active of ${n}`,
      conns: a,
      rxnet: `${kilo(mps(cRx))} msg/s p99 ${ms(p99(cRx))}`,
      against: 'plain',
      baseline: `${kilo(mps(cPlain))} msg/s p99 ${ms(p99(cPlain))}`,
      ratio: mps(cRx) / mps(cPlain),
      target: '',
      met: null,
    });
  }
  const sRx = slowRecords.filter((r) => r.server === 'rxnet');
  const sPipe = slowRecords.filter((r) => r.server === 'pipe');
  if (sRx.length > 0) {
    const peak = median(sRx.map((r) => r.peakRss));
    const pipePeak = sPipe.length > 0 ? median(sPipe.map((r) => r.peakRss)) : NaN;
    const r0 = sRx[0];
    rows.push({
      workload: `slow: ${bytes(r0.bytes)} at ${(r0.rate / 1e6).toFixed(0)} MB/s, peak RSS`,
      conns: 1,
      rxnet: bytes(peak),
      against: 'pipe',
      baseline: bytes(pipePeak),
      ratio: peak / pipePeak,
      target: '< 150 MB',
      met: peak < 150e6,
    });
  }
  return { rows, medians };
}

interface MedianRow {
  workload: string;
  size: number;
  conns: number;
  server: string;
  runs: number;
  messagesPerSec: number;
  mbPerSec: number;
  p50us: number;
  p99us: number;
  serverCpuUsPerMsg: number;
  serverFaultsPerMsg: number;
  worstInterference: number;
}

function printMedians(medians: MedianRow[]): void {
  if (medians.length === 0) return;
  console.log('\nmedians per server');
  const cells = medians.map((m) => [
    m.workload,
    String(m.size),
    String(m.conns),
    m.server,
    kilo(m.messagesPerSec),
    m.mbPerSec.toFixed(1),
    ms(m.p50us),
    ms(m.p99us),
    Number.isFinite(m.serverCpuUsPerMsg) ? m.serverCpuUsPerMsg.toFixed(2) : '-',
    Number.isFinite(m.serverFaultsPerMsg) ? m.serverFaultsPerMsg.toFixed(2) : '-',
    Number.isFinite(m.worstInterference) ? m.worstInterference.toFixed(2) : '-',
  ]);
  printColumns(
    [
      'workload',
      'size',
      'conns',
      'server',
      'msg/s',
      'MB/s',
      'p50',
      'p99',
      'server CPU µs/msg',
      'faults/msg',
      'other load (cores, worst run)',
    ],
    cells,
  );
}

function printColumns(header: string[], cells: string[][]): void {
  const widths = header.map((h, i) => Math.max(h.length, ...cells.map((c) => c[i].length)));
  const line = (c: string[]) =>
    c
      .map((x, i) => x.padEnd(widths[i]))
      .join('  ')
      .trimEnd();
  console.log(line(header));
  console.log(widths.map((w) => '-'.repeat(w)).join('  '));
  for (const c of cells) console.log(line(c));
}

function printTable(rows: Row[]): void {
  const header = ['workload', 'conns', 'rxnet', 'vs', 'baseline', 'ratio', 'target', 'met', 'CPU/msg ratio'];
  const cells = rows.map((r) => [
    r.workload,
    String(r.conns),
    r.rxnet,
    r.against,
    r.baseline,
    Number.isFinite(r.ratio) ? r.ratio.toFixed(2) : '-',
    r.target,
    r.met === null ? '' : r.met ? 'yes' : 'NO',
    r.cpuRatio !== undefined && Number.isFinite(r.cpuRatio) ? r.cpuRatio.toFixed(2) : '',
  ]);
  printColumns(header, cells);
}

const kilo = (n: number) => (n >= 1e6 ? `${(n / 1e6).toFixed(2)}M` : `${(n / 1e3).toFixed(1)}k`);
const ms = (us: number) => (us >= 1000 ? `${(us / 1000).toFixed(2)} ms` : `${us} µs`);
const bytes = (n: number) =>
  !Number.isFinite(n)
    ? '-'
    : Math.abs(n) >= 1e6
      ? `${(n / 1e6).toFixed(1)} MB`
      : Math.abs(n) >= 1e3
        ? `${(n / 1e3).toFixed(1)} kB`
        : `${n.toFixed(0)} B`;

function machine(): object {
  const cpus = os.cpus();
  let fdLimit = 'unknown';
  try {
    fdLimit = execSync('sh -c "ulimit -n 65536 2>/dev/null; ulimit -n"').toString().trim();
  } catch {
    // keep 'unknown'
  }
  return {
    cores: cpus.length,
    cpu: cpus[0]?.model,
    node: process.version,
    platform: `${os.platform()} ${os.release()}`,
    memory: os.totalmem(),
    fdLimit,
  };
}

// ---------------------------------------------------------------------------------------------

async function main(argv: string[]): Promise<void> {
  if (argv[0] === 'framing') {
    const framing = await import('./framing');
    await framing.main(argv.slice(1));
    return;
  }
  const args = parseArgs(argv);
  if (args.pin) {
    pinned.server = 0;
    pinned.loadgen = 1;
  }
  const started = new Date();
  const info = machine();
  console.log(`rxnet bench ${started.toISOString()} ${JSON.stringify(info)}`);
  const echoing = args.workloads.some((w) => w === 'echo' || w === 'lines' || w === 'length');
  const malloc = args.defaultMalloc
    ? "glibc's own heap trimming"
    : `MALLOC_TRIM_THRESHOLD_=${ECHO_SERVER_ENV.MALLOC_TRIM_THRESHOLD_}`;
  // Bulk echo's own count, when it runs.
  const bulkReps = args.workloads.includes('echo') ? ` (bulk echo ${args.bulkReps})` : '';
  console.log(
    `workloads ${args.workloads.join(' ')}; ${args.reps} run(s) each${bulkReps}` +
      `, ${args.warmupMs} ms warm-up + ${args.durationMs} ms measured` +
      (args.pin ? '; servers on CPU 0, load generators on CPU 1' : '') +
      (echoing ? `; echo servers with ${malloc}` : '') +
      '; one JSON line per run:',
  );
  fs.mkdirSync(RESULTS_DIR, { recursive: true });
  // RXNET_BENCH_NO_BUILD=1 reuses the last transpiled copy (to try a patch on it by hand).
  buildDir = process.env.RXNET_BENCH_NO_BUILD === '1' ? BUILD_DIR : buildForBench();
  for (const w of args.workloads) {
    if (w === 'echo') await echoWorkload(args, 'bulk');
    else if (w === 'lines') await echoWorkload(args, 'lines');
    else if (w === 'length') await echoWorkload(args, 'length');
    else if (w === 'conns') await connsWorkload(args);
    else if (w === 'slow') await slowWorkload(args);
  }
  const { rows, medians } = summarize();
  printMedians(medians as MedianRow[]);
  console.log(
    `\nratios of medians of ${args.reps} run(s)${bulkReps}: rxnet / baseline (for p99 and memory, lower is better)`,
  );
  if (args.reply === 'new') console.log('line and length replies: a new Buffer per message (--reply new)');
  console.log(`machine: ${JSON.stringify(info)}`);
  printTable(rows);
  const profiles: Record<string, object[]> = {};
  if (args.profile) {
    for (const file of profileFiles.filter((f) => fs.existsSync(path.join(RESULTS_DIR, f)))) {
      const top = summarizeProfile(path.join(RESULTS_DIR, file), 12);
      profiles[file] = top;
      console.log(`\nprofile ${file} (self time)`);
      for (const e of top) console.log(`${(e.self * 100).toFixed(1).padStart(6)}%  ${e.name}  ${e.where}`);
    }
  }
  if (args.save) {
    const name = `${runStamp}-${args.workloads.join('-')}.json`;
    const file = path.join(RESULTS_DIR, name);
    const commit = (() => {
      try {
        return execSync('git rev-parse --short HEAD', { cwd: __dirname }).toString().trim();
      } catch {
        return undefined;
      }
    })();
    fs.writeFileSync(
      file,
      JSON.stringify(
        {
          started: started.toISOString(),
          commit,
          machine: info,
          args,
          ratios: rows,
          medians,
          runs,
          conns: connsRecords,
          slow: slowRecords,
          profiles,
        },
        null,
        2,
      ) + '\n',
    );
    console.log(`\nsaved ${path.relative(process.cwd(), file)}`);
  }
}

main(process.argv.slice(2)).catch((error) => {
  console.error(error instanceof Error ? error.message : error);
  process.exitCode = 1;
});
