// The bench's records and what it prints of them: medians per server, and the ratio table against the targets.
import type { LoadResult } from './loadgen';
import type { MemorySample } from './server';

/** Every server the suite can run: the Node kinds of servers.ts and the peers in other runtimes (peers.ts). */
export type BenchKind = 'pipe' | 'plain' | 'plain-cork' | 'split2' | 'rxnet' | 'rxnet-otel' | 'netty' | 'go';

/** What the runner adds to a load result: the server's CPU time per echoed message in the window. */
export interface ServerCost {
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

export interface RunRecord extends LoadResult, ServerCost {
  workload: string;
  server: BenchKind;
  /** How the server answers: the message as cut, a new Buffer, a string (see servers.ts). */
  reply: string;
  /** How the load generator writes: `batch` (pipelining) or `each` (one write per message). */
  clientWrites: string;
  /** Which load generator ran: `node` (loadgen.ts) or `c` (loadgen.c). */
  loadgen: string;
  rep: number;
  /** Runs made to get one with little interference (see --retries). */
  attempts: number;
}

export interface ConnsRecord {
  server: BenchKind;
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

export interface SlowRecord {
  server: BenchKind;
  rep: number;
  bytes: number;
  rate: number;
  baselineRss: number;
  peakRss: number;
  seconds: number;
  mbPerSec: number;
}

export interface Row {
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

export interface MedianRow {
  workload: string;
  size: number;
  reply: string;
  clientWrites: string;
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
  loadgenCpu: number;
}

/** The targets of issue 20 for every framed echo cell (and issue 7's for bulk echo). */
export const TARGETS = {
  /** rxnet ÷ the better plain form, at one connection and at more. */
  vsPlainAtOne: 1.0,
  vsPlainAtMany: 0.95,
  /** rxnet ÷ the faster of Netty and Go, at any count. */
  vsPeers: 1.0,
  /** rxnet's p99 ÷ the better plain form's. */
  p99: 1.1,
  bulk: 0.95,
  bulkP99: 1.2,
  split2: 1.5,
  memory: 1.5,
  /**
   * Load-generator CPU (cores, median) from which a cell counts as generator-bound: every server
   * then shows about the generator's own ceiling, so the cell is judged by server CPU per message.
   */
  generatorBound: 0.9,
  slowRss: 150e6,
};

interface Median {
  mps: number;
  mbps: number;
  p50: number;
  p99: number;
  n: number;
  cpu: number;
  faults: number;
  noise: number;
  /** The load generator's CPU in the window, in cores (median). */
  gen: number;
}

export function median(values: number[]): number {
  const s = [...values].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2;
}

/** The medians of every server in every setting, and the ratio rows. */
export function summarize(
  runs: RunRecord[],
  connsRecords: ConnsRecord[],
  slowRecords: SlowRecord[],
): { rows: Row[]; medians: MedianRow[] } {
  const rows: Row[] = [];
  const medians: MedianRow[] = [];
  const groups = new Map<string, RunRecord[]>();
  for (const r of runs) {
    const key = `${r.workload}|${r.size}|${r.reply}|${r.clientWrites}|${r.conns}|${r.server}`;
    groups.set(key, [...(groups.get(key) ?? []), r]);
  }
  const med = new Map<string, Median>();
  for (const [key, rs] of groups) {
    const numbers = (f: (r: RunRecord) => number | undefined) => rs.map(f).filter((c): c is number => c !== undefined);
    const cpus = numbers((r) => r.serverCpuUsPerMsg);
    const noise = numbers((r) => r.interference);
    const faults = numbers((r) => r.serverFaultsPerMsg);
    const m: Median = {
      faults: faults.length > 0 ? median(faults) : NaN,
      noise: noise.length > 0 ? Math.max(...noise) : NaN,
      gen: median(rs.map((r) => r.loadgenCpu)),
      cpu: cpus.length > 0 ? median(cpus) : NaN,
      mps: median(rs.map((r) => r.messagesPerSec)),
      mbps: median(rs.map((r) => r.mbPerSec)),
      p50: median(rs.map((r) => r.p50us)),
      p99: median(rs.map((r) => r.p99us)),
      n: rs.length,
    };
    med.set(key, m);
    const [workload, size, reply, clientWrites, conns, server] = key.split('|');
    medians.push({
      workload,
      size: Number(size),
      reply,
      clientWrites,
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
      loadgenCpu: +m.gen.toFixed(2),
    });
  }
  const settings = [...new Set(runs.map((r) => `${r.workload}|${r.size}|${r.reply}|${r.clientWrites}|${r.conns}`))];
  for (const setting of settings) {
    const [workload, sizeText, reply, clientWrites, connsText] = setting.split('|');
    const conns = Number(connsText);
    const get = (kind: BenchKind) => med.get(`${setting}|${kind}`);
    const rx = get('rxnet');
    if (!rx) continue;
    if (workload === 'echo') {
      rows.push(...bulkRows(rx, get('pipe'), conns));
      continue;
    }
    const label = cellLabel(workload, Number(sizeText), reply, clientWrites);
    rows.push(...framedRows(label, conns, rx, get));
  }
  rows.push(...connsRows(connsRecords), ...slowRows(slowRecords));
  return { rows, medians };
}

/** `lines 64 B new each`: the workload, message size, reply style and client style of a cell. */
export function cellLabel(workload: string, size: number, reply: string, clientWrites: string): string {
  const sized = `${workload} ${size >= 1024 ? `${size / 1024} KiB` : `${size} B`}`;
  return workload === 'ndjson' ? `${sized} ${clientWrites}` : `${sized} ${reply} ${clientWrites}`;
}

function bulkRows(rx: Median, pipe: Median | undefined, conns: number): Row[] {
  if (!pipe) return [];
  const fmt = (m: Median) => `${m.mbps.toFixed(0)} MB/s p99 ${ms(m.p99)}`;
  const ratio = rx.mbps / pipe.mbps;
  const p99 = rx.p99 / pipe.p99;
  return [
    {
      workload: 'echo 64 KiB',
      conns,
      rxnet: fmt(rx),
      against: 'pipe',
      baseline: fmt(pipe),
      ratio,
      target: `>= ${TARGETS.bulk}`,
      met: ratio >= TARGETS.bulk,
      cpuRatio: rx.cpu / pipe.cpu,
    },
    {
      workload: 'echo 64 KiB p99',
      conns,
      rxnet: ms(rx.p99),
      against: 'pipe',
      baseline: ms(pipe.p99),
      ratio: p99,
      target: `<= ${TARGETS.bulkP99}`,
      met: p99 <= TARGETS.bulkP99,
    },
  ];
}

/** rxnet against the better plain form, the faster peer, split2 and the pipe ceiling, in one framed cell. */
function framedRows(label: string, conns: number, rx: Median, get: (kind: BenchKind) => Median | undefined): Row[] {
  const rows: Row[] = [];
  const fmt = (m: Median) => `${kilo(m.mps)} msg/s p99 ${ms(m.p99)}`;
  const best = (kinds: BenchKind[]) =>
    kinds
      .map((k) => [k, get(k)] as const)
      .filter((c): c is readonly [BenchKind, Median] => c[1] !== undefined)
      .reduce<readonly [BenchKind, Median] | undefined>(
        (a, b) => (a === undefined || b[1].mps > a[1].mps ? b : a),
        undefined,
      );
  const plain = best(['plain', 'plain-cork']);
  if (plain) {
    const [name, m] = plain;
    const goal = conns === 1 ? TARGETS.vsPlainAtOne : TARGETS.vsPlainAtMany;
    rows.push({
      workload: label,
      conns,
      rxnet: fmt(rx),
      against: `best plain (${name})`,
      baseline: fmt(m),
      ...judged(rx, m, goal),
    });
    const p99 = rx.p99 / m.p99;
    rows.push({
      workload: `${label} p99`,
      conns,
      rxnet: ms(rx.p99),
      against: name,
      baseline: ms(m.p99),
      ratio: p99,
      target: `<= ${TARGETS.p99}`,
      met: p99 <= TARGETS.p99,
    });
  }
  const peer = best(['netty', 'go']);
  if (peer) {
    const [name, m] = peer;
    rows.push({
      workload: label,
      conns,
      rxnet: '',
      against: `faster peer (${name})`,
      baseline: fmt(m),
      ...judged(rx, m, TARGETS.vsPeers),
    });
  }
  // The others, for reading: the slower plain form and peer, split2 (targeted at 100+), the pipe ceiling.
  for (const kind of ['plain', 'plain-cork', 'netty', 'go', 'split2', 'pipe'] as BenchKind[]) {
    const m = get(kind);
    if (!m || kind === plain?.[0] || kind === peer?.[0]) continue;
    const targeted = kind === 'split2' && conns >= 100;
    const ratio = rx.mps / m.mps;
    rows.push({
      workload: label,
      conns,
      rxnet: '',
      against: kind === 'pipe' ? 'pipe (no framing: the ceiling)' : kind,
      baseline: fmt(m),
      ratio,
      target: targeted ? `>= ${TARGETS.split2}` : '',
      met: targeted ? ratio >= TARGETS.split2 : null,
      cpuRatio: rx.cpu / m.cpu,
    });
  }
  // rxnet again with rxnet/otel recording (`--servers ...,rxnet-otel`): what observing costs, as a share of rxnet.
  const observed = get('rxnet-otel');
  if (observed) {
    rows.push({
      workload: label,
      conns,
      rxnet: `${fmt(observed)} (otel on)`,
      against: 'rxnet, otel off',
      baseline: fmt(rx),
      ratio: observed.mps / rx.mps,
      target: '',
      met: null,
      cpuRatio: observed.cpu / rx.cpu,
    });
  }
  return rows;
}

/**
 * The ratio of a throughput row and whether it meets `goal`. Where the load generator used a whole
 * core for both servers (generator-bound: both show the generator's ceiling, see
 * TARGETS.generatorBound), throughput cannot tell the servers apart and the row is judged by server
 * CPU per message instead: rxnet's must be at most 1/goal of the baseline's.
 */
export function judged(
  rx: { mps: number; cpu: number; gen: number },
  baseline: { mps: number; cpu: number; gen: number },
  goal: number,
): Pick<Row, 'ratio' | 'target' | 'met' | 'cpuRatio'> {
  const ratio = rx.mps / baseline.mps;
  const cpuRatio = rx.cpu / baseline.cpu;
  if (Math.min(rx.gen, baseline.gen) >= TARGETS.generatorBound && Number.isFinite(cpuRatio)) {
    const most = 1 / goal;
    return { ratio, cpuRatio, target: `CPU <= ${most.toFixed(2)} (generator-bound)`, met: cpuRatio <= most };
  }
  return { ratio, cpuRatio, target: `>= ${goal.toFixed(2)}`, met: ratio >= goal };
}

function connsRows(connsRecords: ConnsRecord[]): Row[] {
  const rows: Row[] = [];
  const byKind = (kind: BenchKind) => connsRecords.filter((r) => r.server === kind);
  const cPlain = byKind('plain');
  const cRx = byKind('rxnet');
  if (cPlain.length === 0 || cRx.length === 0) return rows;
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
        target: `<= ${TARGETS.memory}`,
        met: rx / plain <= TARGETS.memory,
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
  return rows;
}

function slowRows(slowRecords: SlowRecord[]): Row[] {
  const sRx = slowRecords.filter((r) => r.server === 'rxnet');
  const sPipe = slowRecords.filter((r) => r.server === 'pipe');
  if (sRx.length === 0) return [];
  const peak = median(sRx.map((r) => r.peakRss));
  const pipePeak = sPipe.length > 0 ? median(sPipe.map((r) => r.peakRss)) : NaN;
  const r0 = sRx[0];
  return [
    {
      workload: `slow: ${bytes(r0.bytes)} at ${(r0.rate / 1e6).toFixed(0)} MB/s, peak RSS`,
      conns: 1,
      rxnet: bytes(peak),
      against: 'pipe',
      baseline: bytes(pipePeak),
      ratio: peak / pipePeak,
      target: `< ${TARGETS.slowRss / 1e6} MB`,
      met: peak < TARGETS.slowRss,
    },
  ];
}

export function printMedians(medians: MedianRow[]): void {
  if (medians.length === 0) return;
  console.log('\nmedians per server');
  const cells = medians.map((m) => [
    m.workload,
    String(m.size),
    m.reply,
    m.clientWrites,
    String(m.conns),
    m.server,
    kilo(m.messagesPerSec),
    m.mbPerSec.toFixed(1),
    ms(m.p50us),
    ms(m.p99us),
    Number.isFinite(m.serverCpuUsPerMsg) ? m.serverCpuUsPerMsg.toFixed(2) : '-',
    Number.isFinite(m.serverFaultsPerMsg) ? m.serverFaultsPerMsg.toFixed(2) : '-',
    Number.isFinite(m.worstInterference) ? m.worstInterference.toFixed(2) : '-',
    Number.isFinite(m.loadgenCpu) ? m.loadgenCpu.toFixed(2) : '-',
  ]);
  printColumns(
    [
      'workload',
      'size',
      'reply',
      'client',
      'conns',
      'server',
      'msg/s',
      'MB/s',
      'p50',
      'p99',
      'server CPU µs/msg',
      'faults/msg',
      'other load (cores, worst run)',
      'load generator (cores)',
    ],
    cells,
  );
}

export function printTable(rows: Row[]): void {
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
  const targeted = rows.filter((r) => r.met !== null);
  if (targeted.length > 0) console.log(`\ntargets met: ${targeted.filter((r) => r.met).length} of ${targeted.length}`);
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

export const kilo = (n: number) => (n >= 1e6 ? `${(n / 1e6).toFixed(2)}M` : `${(n / 1e3).toFixed(1)}k`);
export const ms = (us: number) => (us >= 1000 ? `${(us / 1000).toFixed(2)} ms` : `${us} µs`);
export const bytes = (n: number) =>
  !Number.isFinite(n)
    ? '-'
    : Math.abs(n) >= 1e6
      ? `${(n / 1e6).toFixed(1)} MB`
      : Math.abs(n) >= 1e3
        ? `${(n / 1e3).toFixed(1)} kB`
        : `${n.toFixed(0)} B`;
