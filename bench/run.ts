// `npm run bench [-- WORKLOAD... --flags]`: rxnet against plain net, split2, Netty and Go in one run, servers and load generator in separate processes.
import { execSync } from 'child_process';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { BUILD_DIR, buildForBench } from './build';
import {
  PeerServer,
  ServerChild,
  runCLoadChild,
  runLoadChild,
  waitForQuiet,
  type BenchServer,
  type ChildContext,
} from './children';
import { buildCLoadgen, cLoadgenAvailable } from './cloadgen';
import type { LoadOptions, LoadResult } from './loadgen';
import { buildPeer, peerToolchain, type PeerKind } from './peers';
import { summarizeProfile } from './profile';
import { respWorkload, type RespRecord } from './resp';
import { tlsWorkload, type TlsRecord } from './tls';
import { udpWorkload, type UdpRecord } from './udp';
import { chartFiles } from './chart';
import { makePattern, type Framing } from './protocol';
import {
  printMedians,
  printTable,
  summarize,
  type BenchKind,
  type ConnsRecord,
  type RunRecord,
  type ServerCost,
  type SlowRecord,
} from './report';
import type { MemorySample } from './server';
import { kindsFor, type ReplyStyle, type ServerKind } from './servers';

const USAGE = `usage: npm run bench [-- WORKLOAD... FLAGS]

workloads (default: echo lines length ndjson conns slow resp tls udp)
  echo | bulk   bulk echo, 64 KiB writes: socket.pipe(socket) vs rxnet
  lines         line echo, 64 B and 1 KiB: plain, plain-cork, split2, rxnet, netty, go (and pipe, the ceiling)
  length        4-byte length-prefixed echo, 64 B and 1 KiB: plain, plain-cork, rxnet, netty, go (and pipe)
  ndjson        NDJSON request/response (parse, change a field, stringify), 64 B and 1 KiB: plain, plain-cork, rxnet
  conns         10,000 idle connections (memory per connection), then 1,000 active
  slow          slow consumer: the server sends --slow-bytes to a reader at --slow-rate
  resp          the resp-server demo vs redis-server under redis-benchmark (-P 16, -P 1), and rxnet's
                RESP client vs ioredis (INCR on one connection to redis-server); about 2 minutes
  tls           connections set up over TLS (connect, handshake, one echoed line, close), from the first
                byte and by STARTTLS: rxnet (listen({ tls }), upgradeTls) vs hand-written Node
                (tls.createServer; net + tls.TLSSocket); about a minute
  udp           UDP echo, 64 B and 1 KiB datagrams, 32 and 256 in flight: rxnet (bindUdp + sendDatagrams;
                and mergeMap over socket.send) vs a hand-written dgram echo, and a C echo, the load
                generator's ceiling (bench/udploadgen.c, needs a C compiler); about three minutes
  framing       the in-memory framing bench (bench/framing.ts); other arguments go to it
  table FILE... the framed cells of saved results (bench/results/*.json) as a Markdown table
  chart FILE... [--out OUT.svg]  the ratios of saved results as one SVG chart (every run also
                writes one beside its JSON)

lines, length and ndjson run every size x reply style x client style x connection count

flags
  --reps N          runs per server and setting, median reported (default 3)
  --bulk-reps N     the same for bulk echo, the noisiest workload (default 9, or --reps when given)
  --warmup MS       warm-up before each measured window (default 400; a fresh server gets at least
                    1000, a Netty one 2000)
  --duration MS     measured window per run (default 1200)
  --conns LIST      connection counts for lines/length/ndjson (default 1,100,1000)
  --bulk-conns LIST connection counts for bulk echo (default 1,100)
  --sizes LIST      message sizes for lines/length/ndjson, datagram sizes for udp (default 64,1024)
  --inflight K      messages in flight per connection (default 16)
  --client-writes LIST  batch: the load generator writes the messages that replace those echoed
                    with one write() (a pipelining client); each: one write() per message (a chatty
                    client); default batch,each
  --reply LIST      how line and length servers answer (default cut,new,string for lines, cut,new
                    for length; string for length too when given): cut echoes each message as the
                    framer cut it; new answers with a new Buffer per message (rxnet: a map to
                    Buffer.concat / a copy); string answers with a string (rxnet: encodeLines /
                    encodeLengthField)
  --loadgen G       auto (default): the C load generator (bench/loadgen.c, built with cc) for lines,
                    length and ndjson when a C compiler is found, else the Node one (loadgen.ts),
                    which is the bottleneck at 100 connections; c or node to choose
  --servers LIST    only these server kinds (pipe, plain, plain-cork, split2, rxnet, netty, go; and
                    rxnet-otel, rxnet recording into OpenTelemetry's SDK, only when named here)
  --go-procs N      GOMAXPROCS of the Go server (default 1: one core against one core)
  --idle N          connections in the conns run (default 10000), --active N of them active (default 1000)
  --slow-bytes N    bytes sent in the slow run (default 1073741824 = 1 GiB)
  --slow-rate N     reader speed in bytes/s (default 10e6, the issue's: ~107 s per server for 1 GiB;
                    100e6 with --quick)
  --resp-requests N requests per redis-benchmark test with -P 16 (default 400000, 40000 with --quick);
                    a tenth of them with -P 1
  --resp-ops N      INCR per client run of the resp workload (default 100000, 10000 with --quick;
                    as many again to warm up)
  --tls-concurrency N   connections the tls workload's load generator keeps going (default 16)
  --udp-window LIST datagrams the udp workload keeps in flight (default 32,256)
  --retries N       repeat a run up to N times while other work used more than --max-interference
                    cores during it (default 2; the least disturbed attempt counts; a retry waits up
                    to 10 s for the machine to be idle, none with --quiet-wait 0)
  --max-interference C   cores of other work tolerated during a run (default 0.10)
  --quiet-wait MS   before each run, wait up to MS for the machine to be idle (default 1500)
  --profile         run Node servers under node --cpu-prof (written to bench/results/*.cpuprofile) and summarise
  --quick           --reps 1 --bulk-reps 1 --warmup 200 --duration 500 --idle 2000 --active 200
                    --slow-bytes 128 MiB --slow-rate 100e6 --resp-requests 40000 --resp-ops 10000
                    --quiet-wait 0
  --no-save         do not write bench/results/*.json
  --default-malloc  run the echo servers with glibc's own heap trimming rule instead of
                    MALLOC_TRIM_THRESHOLD_=64 MiB (see docs/performance.md: fixed so that page
                    faults do not decide runs); conns and slow always use glibc's rule
  --pin             run every server on CPU 0 and every load generator on CPU 1 (taskset), so the two
                    do not migrate between cores or take turns on one

Netty (default-jdk-headless + libnetty-java) and Go (golang-go) run when their toolchains are
installed; the bench says which are missing. The resp workload needs redis-server and
redis-benchmark (Debian: redis-server, redis-tools), and is left out, saying so, without them.
`;

type ClientWrites = 'batch' | 'each';

const WORKLOADS = ['echo', 'lines', 'length', 'ndjson', 'conns', 'slow', 'resp', 'tls', 'udp'];
const REPLIES: ReplyStyle[] = ['cut', 'new', 'string'];

interface Args {
  workloads: string[];
  reps: number;
  /** Runs per server and setting of bulk echo. */
  bulkReps: number;
  warmupMs: number;
  durationMs: number;
  conns: number[];
  bulkConns: number[];
  sizes: number[];
  inflight: number;
  clientWrites: ClientWrites[];
  /** How the line and length servers answer: each message as cut, a new Buffer, a string. */
  replies: ReplyStyle[];
  /** --reply was given (a length frame as a string runs only then). */
  repliesGiven: boolean;
  loadgen: 'auto' | 'c' | 'node';
  servers: BenchKind[] | undefined;
  goProcs: number;
  idle: number;
  active: number;
  slowBytes: number;
  slowRate: number;
  /** Requests per redis-benchmark test of the resp workload with -P 16. */
  respRequests: number;
  /** INCR per client run of the resp workload. */
  respOps: number;
  /** Connections the tls workload keeps going at once. */
  tlsConcurrency: number;
  /** Datagrams the udp workload keeps in flight. */
  udpWindows: number[];
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
    reps: quick ? 1 : 3,
    bulkReps: quick ? 1 : 9,
    warmupMs: quick ? 200 : 400,
    durationMs: quick ? 500 : 1200,
    conns: [1, 100, 1000],
    bulkConns: [1, 100],
    sizes: [64, 1024],
    inflight: 16,
    clientWrites: ['batch', 'each'],
    replies: [...REPLIES],
    repliesGiven: false,
    loadgen: 'auto',
    servers: undefined,
    goProcs: 1,
    idle: quick ? 2000 : 10_000,
    active: quick ? 200 : 1000,
    slowBytes: quick ? 128 * 1024 * 1024 : 1024 * 1024 * 1024,
    slowRate: quick ? 100e6 : 10e6,
    respRequests: quick ? 40_000 : 400_000,
    respOps: quick ? 10_000 : 100_000,
    tlsConcurrency: 16,
    udpWindows: [32, 256],
    profile: false,
    save: true,
    pin: false,
    defaultMalloc: false,
    retries: quick ? 0 : 2,
    maxInterference: 0.1,
    quietWaitMs: quick ? 0 : 1500,
  };
  const numbers = (s: string, flag: string) =>
    s.split(',').map((x) => {
      const n = Number(x.trim());
      if (!(n > 0)) throw new Error(`${flag} takes positive numbers, not ${x}`);
      return n;
    });
  const words = <T extends string>(s: string, flag: string, allowed: readonly T[]): T[] => {
    const list = s.split(',').map((x) => x.trim());
    for (const w of list)
      if (!allowed.includes(w as T)) throw new Error(`${flag} takes ${allowed.join(', ')}, not ${w}`);
    return list as T[];
  };
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
        args.conns = numbers(value(), a);
        if (!argv.includes('--bulk-conns')) args.bulkConns = args.conns;
        break;
      case '--bulk-conns':
        args.bulkConns = numbers(value(), a);
        break;
      case '--sizes':
        args.sizes = numbers(value(), a);
        break;
      case '--inflight':
        args.inflight = Number(value());
        break;
      case '--reply':
        args.replies = words(value(), a, REPLIES);
        args.repliesGiven = true;
        break;
      case '--client-writes':
        args.clientWrites = words(value(), a, ['batch', 'each'] as const);
        break;
      case '--loadgen':
        args.loadgen = words(value(), a, ['auto', 'c', 'node'] as const)[0];
        break;
      case '--servers':
        args.servers = words(value(), a, [
          'pipe',
          'plain',
          'plain-cork',
          'split2',
          'rxnet',
          'rxnet-otel',
          'netty',
          'go',
        ] as const);
        // Its cells are reported beside rxnet's: without rxnet in the run they would have nothing to stand by.
        if (args.servers.includes('rxnet-otel') && !args.servers.includes('rxnet')) {
          throw new Error('--servers: rxnet-otel is measured beside rxnet; name rxnet too');
        }
        break;
      case '--go-procs':
        args.goProcs = numbers(value(), a)[0];
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
      case '--resp-requests':
        args.respRequests = numbers(value(), a)[0];
        break;
      case '--resp-ops':
        args.respOps = numbers(value(), a)[0];
        break;
      case '--tls-concurrency':
        args.tlsConcurrency = numbers(value(), a)[0];
        break;
      case '--udp-window':
        args.udpWindows = numbers(value(), a);
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
  if (args.workloads.length === 0) args.workloads = [...WORKLOADS];
  for (const w of args.workloads) {
    if (!WORKLOADS.includes(w)) throw new Error(`unknown workload ${w}\n${USAGE}`);
  }
  if (!(args.reps >= 1)) throw new Error('--reps must be at least 1');
  if (!(args.bulkReps >= 1)) throw new Error('--bulk-reps must be at least 1');
  if (!(args.slowRate > 0)) throw new Error('--slow-rate must be a positive number of bytes/s');
  if (!(args.slowBytes > 0)) throw new Error('--slow-bytes must be a positive number of bytes');
  return args;
}

// ---------------------------------------------------------------------------------------------
// Children.

const RESULTS_DIR = path.join(__dirname, 'results');
const context: ChildContext = {
  buildDir: '',
  resultsDir: RESULTS_DIR,
  pinned: {},
  profileFiles: [],
  runStamp: new Date().toISOString().replace(/[:.]/g, '-'),
};

// ---------------------------------------------------------------------------------------------
// Records.

const runs: RunRecord[] = [];
const connsRecords: ConnsRecord[] = [];
const slowRecords: SlowRecord[] = [];
const respRecords: RespRecord[] = [];
const tlsRecords: TlsRecord[] = [];
const udpRecords: UdpRecord[] = [];

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

/** The servers, load generators and toolchains a run found (see prepareEcho). */
interface Tools {
  /** The C load generator's binary, or undefined (the Node one runs, and the bench says why). */
  cLoadgen: string | undefined;
  /** The peers that built, with the command that starts each. */
  peers: Map<PeerKind, string[]>;
}

/** Builds the C load generator and the peers (once per bench run), saying what is missing. */
function prepareEcho(args: Args, withPeers: boolean): Tools {
  const tools: Tools = { cLoadgen: undefined, peers: new Map() };
  const out = path.join(BUILD_DIR, 'native');
  if (args.loadgen !== 'node') {
    const available = cLoadgenAvailable();
    if (available.ok) tools.cLoadgen = buildCLoadgen(out);
    else if (args.loadgen === 'c') throw new Error(`--loadgen c: ${available.reason}`);
    else
      console.log(
        `C load generator missing (${available.reason}): the Node one runs, and is the bottleneck at 100 connections and more`,
      );
  }
  for (const kind of withPeers ? PEERS : []) {
    if (args.servers && !args.servers.includes(kind)) continue;
    const toolchain = peerToolchain(kind);
    if (!toolchain.ok) {
      console.log(`${kind} left out: ${toolchain.reason}`);
      continue;
    }
    tools.peers.set(kind, buildPeer(kind, out));
  }
  return tools;
}

const PEERS: PeerKind[] = ['netty', 'go'];

/** The servers of one setting: the Node kinds, the peers, the pipe ceiling; as --servers allows. */
function kindsOf(args: Args, tools: Tools, framing: Framing, reply: ReplyStyle): BenchKind[] {
  // split2 answers with strings whatever the style, and pipe (no framing: what the load generator
  // can reach) has no style: each runs once per setting, with the frames as cut.
  const kinds: BenchKind[] = kindsFor(framing).filter(
    (k) => framing === 'bulk' || (k !== 'split2' && k !== 'pipe') || reply === 'cut',
  );
  if (framing === 'lines' || framing === 'length') kinds.push(...tools.peers.keys());
  // rxnet observed through rxnet/otel runs only when asked for by name: it measures observing, not rxnet.
  return kinds.filter((k) => (args.servers ? args.servers.includes(k) : k !== 'rxnet-otel'));
}

/** Starts a fresh server of `kind` for one setting. */
async function startBenchServer(
  args: Args,
  tools: Tools,
  kind: BenchKind,
  framing: Framing,
  reply: ReplyStyle,
  profile: boolean,
): Promise<BenchServer> {
  if (kind === 'netty' || kind === 'go') {
    if (framing !== 'lines' && framing !== 'length') throw new Error(`no ${kind} server for ${framing}`);
    // One core against one core: Go's scheduler on one thread, as Node's event loop and Netty's.
    const env: Record<string, string> = kind === 'go' ? { GOMAXPROCS: String(args.goProcs) } : {};
    return PeerServer.start(kind, tools.peers.get(kind)!, framing, reply, env);
  }
  const env = { ...(args.defaultMalloc ? {} : ECHO_SERVER_ENV), RXNET_BENCH_REPLY: reply };
  return ServerChild.start(context, kind, framing, profile, { env });
}

/**
 * Echo workloads: every size, reply style, client style and connection count, runs interleaved
 * (server order rotates per repetition). Every run gets a server process of its own, warmed up
 * for at least FRESH_WARMUP_MS, so that the runs are independent samples: what a process settles
 * into early (its heap, its compiled code) holds for its life. With --profile every kind keeps
 * one process per reply style, for one profile per server.
 */
async function echoWorkload(args: Args, tools: Tools, framing: Framing): Promise<void> {
  const workload = framing === 'bulk' ? 'echo' : framing;
  const bulk = framing === 'bulk';
  const fresh = !args.profile;
  // Bulk echo is bound by the load generator and spreads ±20% from run to run: more runs.
  const reps = bulk ? args.bulkReps : args.reps;
  const warmupMs = fresh ? Math.max(args.warmupMs, FRESH_WARMUP_MS) : args.warmupMs;
  const sizes = bulk ? [64 * 1024] : args.sizes;
  // Replies as new values are a line and length matter; a length frame as a string only when asked.
  const replies: ReplyStyle[] =
    bulk || framing === 'ndjson'
      ? ['cut']
      : args.replies.filter((r) => framing === 'lines' || r !== 'string' || args.repliesGiven);
  const clientStyles: ClientWrites[] = bulk ? ['batch'] : args.clientWrites;
  const connCounts = bulk ? args.bulkConns : args.conns;
  const shared = new Map<string, BenchServer>();
  try {
    for (const size of sizes) {
      const pattern = makePattern(framing, size);
      for (const reply of replies) {
        const kinds = kindsOf(args, tools, framing, reply);
        for (const clientWrites of clientStyles) {
          const loadgen = tools.cLoadgen !== undefined ? 'c' : 'node';
          for (const conns of connCounts) {
            for (let rep = 0; rep < reps; rep++) {
              for (const kind of rotate(kinds, rep)) {
                // A run that shared the cores with other work is repeated (the least disturbed one counts).
                let result: (LoadResult & ServerCost) | undefined;
                let attempts = 0;
                while (attempts <= args.retries) {
                  attempts++;
                  const key = `${kind}|${reply}`;
                  if (!fresh && !shared.has(key))
                    shared.set(key, await startBenchServer(args, tools, kind, framing, reply, args.profile));
                  const server = shared.get(key) ?? (await startBenchServer(args, tools, kind, framing, reply, false));
                  let attempt: LoadResult & ServerCost;
                  try {
                    // A retry follows a disturbed attempt: give the other work longer to pass.
                    const quietMs =
                      attempts === 1 || args.quietWaitMs === 0
                        ? args.quietWaitMs
                        : Math.max(args.quietWaitMs, RETRY_QUIET_WAIT_MS);
                    await waitForQuiet(quietMs, args.maxInterference);
                    const options: LoadOptions = {
                      port: server.port,
                      mode: framing,
                      size,
                      conns,
                      inflight: args.inflight,
                      // Peers in other runtimes compile their hot paths later than V8 does.
                      warmupMs: kind === 'netty' ? Math.max(warmupMs, PEER_WARMUP_MS) : warmupMs,
                      durationMs: args.durationMs,
                      clientWrites,
                    };
                    attempt =
                      loadgen === 'c'
                        ? await runCLoadChild(tools.cLoadgen!, options, pattern, server)
                        : await runLoadChild(context, options, undefined, server);
                  } finally {
                    if (!shared.has(key)) await server.stop();
                  }
                  if (result === undefined || (attempt.interference ?? 0) < (result.interference ?? 0))
                    result = attempt;
                  if ((attempt.interference ?? 0) <= args.maxInterference) break;
                }
                const record: RunRecord = {
                  workload,
                  server: kind,
                  reply,
                  clientWrites,
                  loadgen,
                  rep,
                  attempts,
                  ...result!,
                };
                runs.push(record);
                logLine(record);
              }
            }
          }
        }
      }
    }
  } finally {
    for (const s of shared.values()) await s.stop();
  }
}

/** Warm-up of a Netty run: the JVM compiles its hot paths after thousands of calls, later than V8. */
const PEER_WARMUP_MS = 2000;

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
      const server = await ServerChild.start(context, kind, 'lines', args.profile);
      try {
        const before = await server.mem();
        let idle: MemorySample | undefined;
        let settled: { mem: MemorySample; ms: number | undefined } | undefined;
        const active = await runLoadChild(
          context,
          {
            port: server.port,
            mode: 'lines',
            size: 64,
            conns: args.active,
            idle: args.idle - args.active,
            inflight: args.inflight,
            warmupMs: args.warmupMs,
            durationMs: args.durationMs,
            clientWrites: 'batch',
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
      const server = await ServerChild.start(context, kind, 'source', args.profile, { sourceBytes: args.slowBytes });
      try {
        const before = await server.mem();
        const result = await runLoadChild(context, {
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
  if (argv[0] === 'table') {
    const table = await import('./table');
    table.main(argv.slice(1));
    return;
  }
  if (argv[0] === 'chart') {
    // npm run bench -- chart FILE... [--out OUT.svg]: one chart of saved results.
    const rest = argv.slice(1);
    const at = rest.indexOf('--out');
    const out = at >= 0 ? rest[at + 1] : 'bench/results/chart.svg';
    const files = rest.filter((_, i) => at < 0 || (i !== at && i !== at + 1));
    if (files.length === 0) throw new Error('usage: npm run bench -- chart bench/results/FILE.json... [--out OUT.svg]');
    chartFiles(files, out);
    console.log(`wrote ${out}`);
    return;
  }
  const args = parseArgs(argv);
  if (args.pin) {
    context.pinned.server = 0;
    context.pinned.loadgen = 1;
  }
  const started = new Date();
  const info = machine();
  // The code measured is the tree at the start (built once, below); a tree with changes says so.
  const commit = (() => {
    try {
      const head = execSync('git rev-parse --short HEAD', { cwd: __dirname }).toString().trim();
      const changed = execSync('git status --porcelain -- lib bench demos', { cwd: __dirname }).toString().trim();
      return changed === '' ? head : `${head} with uncommitted changes to lib/, bench/ or demos/`;
    } catch {
      return undefined;
    }
  })();
  console.log(`rxnet bench ${started.toISOString()} ${JSON.stringify(info)}`);
  const echoing = args.workloads.some((w) => ['echo', 'lines', 'length', 'ndjson'].includes(w));
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
  context.buildDir = process.env.RXNET_BENCH_NO_BUILD === '1' ? BUILD_DIR : buildForBench();
  const framed = args.workloads.some((w) => w === 'lines' || w === 'length');
  const tools: Tools =
    framed || args.workloads.includes('ndjson') ? prepareEcho(args, framed) : { cLoadgen: undefined, peers: new Map() };
  for (const w of args.workloads) {
    if (w === 'echo') await echoWorkload(args, tools, 'bulk');
    else if (w === 'lines' || w === 'length' || w === 'ndjson') await echoWorkload(args, tools, w);
    else if (w === 'conns') await connsWorkload(args);
    else if (w === 'slow') await slowWorkload(args);
    else if (w === 'resp') {
      const serverEnv = args.defaultMalloc ? {} : ECHO_SERVER_ENV;
      const { reps, maxInterference, quietWaitMs, respRequests: requests, respOps: clientOps } = args;
      const options = { reps, requests, clientOps, clients: 50, quietWaitMs, maxInterference, serverEnv };
      respRecords.push(...(await respWorkload(context, options)));
    } else if (w === 'tls') {
      const { reps, maxInterference, quietWaitMs, tlsConcurrency: concurrency } = args;
      // A handshake costs a millisecond or so: windows long enough for thousands of them.
      const warmupMs = Math.max(args.warmupMs, 1000);
      const durationMs = Math.max(args.durationMs * 2, 2000);
      const options = { reps, warmupMs, durationMs, concurrency, quietWaitMs, maxInterference };
      tlsRecords.push(...(await tlsWorkload(context, options)));
    } else if (w === 'udp') {
      const { reps, maxInterference, quietWaitMs, retries, sizes, udpWindows: windows, profile } = args;
      // Every run starts a fresh server: give its JIT the warm-up the echo workloads give theirs.
      const warmupMs = Math.max(args.warmupMs, FRESH_WARMUP_MS);
      const serverEnv = args.defaultMalloc ? {} : ECHO_SERVER_ENV;
      const timing = { reps, warmupMs, durationMs: args.durationMs, quietWaitMs, maxInterference, retries };
      udpRecords.push(...(await udpWorkload(context, { ...timing, windows, sizes, serverEnv, profile })));
    }
  }
  const { rows, medians } = summarize(runs, connsRecords, slowRecords);
  // The resp workload prints its own summary.
  if (runs.length + connsRecords.length + slowRecords.length > 0) {
    printMedians(medians);
    console.log(
      `\nratios of medians of ${args.reps} run(s)${bulkReps}: rxnet / baseline (for p99 and memory, lower is better)`,
    );
    console.log(`machine: ${JSON.stringify(info)}`);
    printTable(rows);
  }
  const profiles: Record<string, object[]> = {};
  if (args.profile) {
    for (const file of context.profileFiles.filter((f) => fs.existsSync(path.join(RESULTS_DIR, f)))) {
      const top = summarizeProfile(path.join(RESULTS_DIR, file), 12);
      profiles[file] = top;
      console.log(`\nprofile ${file} (self time)`);
      for (const e of top) console.log(`${(e.self * 100).toFixed(1).padStart(6)}%  ${e.name}  ${e.where}`);
    }
  }
  if (args.save) {
    const name = `${context.runStamp}-${args.workloads.join('-')}.json`;
    const file = path.join(RESULTS_DIR, name);
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
          resp: respRecords,
          tls: tlsRecords,
          udp: udpRecords,
          profiles,
        },
        null,
        2,
      ) + '\n',
    );
    console.log(`\nsaved ${path.relative(process.cwd(), file)}`);
    // The ratios as a chart beside it (a file of no ratios, a profile run's, has none).
    const svg = file.replace(/\.json$/, '.svg');
    try {
      chartFiles([file], svg);
      console.log(`chart ${path.relative(process.cwd(), svg)}`);
    } catch (error) {
      console.log(`no chart: ${error instanceof Error ? error.message : String(error)}`);
    }
  }
}

main(process.argv.slice(2)).catch((error) => {
  console.error(error instanceof Error ? error.message : error);
  process.exitCode = 1;
});
