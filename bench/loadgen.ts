// Load generator: N connections, K messages in flight on each, every reply byte verified; one JSON line per run.
import * as net from 'net';
import { performance } from 'perf_hooks';
import { makePattern, type Framing, type Pattern } from './protocol';

export interface LoadOptions {
  host?: string;
  port: number;
  /** `source`: read a server-generated stream of `sourceBytes` at `readRate` bytes/s (slow consumer). */
  mode: Framing | 'source';
  /** Message size on the wire (frame header or `\n` included); the write size for bulk. */
  size: number;
  /** Active connections. */
  conns: number;
  /** Messages in flight per active connection. */
  inflight: number;
  /** Further connections opened first and left idle for the whole run. */
  idle?: number;
  warmupMs: number;
  durationMs: number;
  /** Most time allowed for the last replies after the measured window (default 15 s). */
  drainTimeoutMs?: number;
  sourceBytes?: number;
  readRate?: number;
  /** Connections opened at once while connecting (default 256). */
  connectConcurrency?: number;
  /**
   * How the generator writes the messages that replace those answered: `batch` (default) all of them
   * with one `write()` (a pipelining client), `each` one `write()` per message (a chatty client).
   */
  clientWrites?: 'batch' | 'each';
}

export interface LoadResult {
  mode: LoadOptions['mode'];
  size: number;
  conns: number;
  inflight: number;
  idle: number;
  /** Measured window in seconds (after warm-up). */
  seconds: number;
  messages: number;
  messagesPerSec: number;
  /** Reply bytes per second, one direction, in 1e6 bytes. */
  mbPerSec: number;
  /** Round-trip time of a message (write of its first byte to arrival of its last), in microseconds. */
  p50us: number;
  p99us: number;
  maxUs: number;
  /** Bytes verified over the whole run, warm-up and drain included. */
  verifiedBytes: number;
  /** CPU time the load generator itself used during the window, as a share of one core. */
  loadgenCpu: number;
  connectMs: number;
  /** Fewest and most messages one active connection completed in the window (fairness). */
  perConnMin: number;
  perConnMax: number;
}

/** Calls a runner makes into a run: before traffic starts, and at both ends of the measured window. */
export interface LoadHooks {
  /** Connections are open, no traffic yet (the runner measures the server's memory here). */
  ready?: () => Promise<void>;
  windowStart?: () => void;
  windowEnd?: () => void;
}

/** RTT histogram: 1 µs buckets up to 1 s, the last bucket catches everything longer. */
const HIST_SIZE = 1_000_001;

class Histogram {
  readonly counts = new Uint32Array(HIST_SIZE);
  total = 0;
  max = 0;
  record(us: number): void {
    const i = us < HIST_SIZE - 1 ? us | 0 : HIST_SIZE - 1;
    this.counts[i]++;
    this.total++;
    if (us > this.max) this.max = us;
  }
  reset(): void {
    this.counts.fill(0);
    this.total = 0;
    this.max = 0;
  }
  percentile(p: number): number {
    if (this.total === 0) return 0;
    const rank = Math.ceil(this.total * p);
    let seen = 0;
    for (let i = 0; i < HIST_SIZE; i++) {
      seen += this.counts[i];
      if (seen >= rank) return i;
    }
    return HIST_SIZE - 1;
  }
}

type Phase = 'warmup' | 'measure' | 'drain';

/** The run's shared state, read by every connection's data handler. */
class Run {
  phase: Phase = 'warmup';
  measured = 0;
  verifiedBytes = 0;
  readonly histogram = new Histogram();
  failure: Error | undefined;
  pendingConnections = 0;
  onAllDone: (() => void) | undefined;
  constructor(
    readonly pattern: Pattern,
    readonly inflight: number,
    /** Most messages per client write(). */
    readonly perWrite: number,
  ) {}
  fail(error: Error): void {
    if (!this.failure) this.failure = error;
    this.onAllDone?.();
  }
}

/** One active connection: sends messages from the pattern, verifies what comes back, times each message. */
class Pipeline {
  /** Messages completed in the measured window. */
  measured = 0;
  private sent = 0;
  private done = 0;
  private received = 0;
  private finished = false;
  /** Send time of message i at [i % inflight]: at most `inflight` are outstanding. */
  private readonly times: Float64Array;

  constructor(
    private readonly run: Run,
    private readonly socket: net.Socket,
  ) {
    this.times = new Float64Array(run.inflight);
    socket.on('data', (chunk: Buffer) => this.onData(chunk));
    socket.on('end', () => {
      if (!this.finished)
        run.fail(new Error(`server ended the connection after ${this.done} of ${this.sent} messages`));
    });
  }

  start(): void {
    this.send(this.run.inflight);
  }

  /** Stops sending; completes once every message in flight has come back. */
  stop(): void {
    if (this.done === this.sent) this.finish();
  }

  private send(count: number): void {
    const { pattern, inflight } = this.run;
    const size = pattern.size;
    const now = performance.now();
    const times = this.times;
    while (count > 0) {
      const first = this.sent % pattern.count;
      // Bulk: one write per 64 KiB message; framed: the batch as one contiguous view.
      const n = Math.min(count, this.run.perWrite);
      for (let i = 0; i < n; i++) times[(this.sent + i) % inflight] = now;
      this.socket.write(pattern.doubled.subarray(first * size, (first + n) * size));
      this.sent += n;
      count -= n;
    }
  }

  private onData(chunk: Buffer): void {
    const run = this.run;
    const { pattern } = run;
    const { replySize, replyPeriod, replyDoubled } = pattern;
    const length = chunk.length;
    if (this.received + length > this.sent * replySize) {
      run.fail(
        new Error(`received ${this.received + length} bytes, only ${this.sent * replySize} expected for those sent`),
      );
      return;
    }
    let at = this.received % replyPeriod;
    for (let i = 0; i < length;) {
      const n = Math.min(length - i, replyPeriod);
      if (chunk.compare(replyDoubled, at, at + n, i, i + n) !== 0) {
        run.fail(
          new Error(`reply bytes differ from those expected, in ${this.received + i}..${this.received + i + n}`),
        );
        return;
      }
      i += n;
      at = (at + n) % replyPeriod;
    }
    this.received += length;
    run.verifiedBytes += length;
    const completed = Math.floor(this.received / replySize);
    const fresh = completed - this.done;
    if (fresh === 0) return;
    if (run.phase === 'measure') {
      const now = performance.now();
      const times = this.times;
      const inflight = run.inflight;
      for (let i = this.done; i < completed; i++) run.histogram.record((now - times[i % inflight]) * 1000);
      run.measured += fresh;
      this.measured += fresh;
    }
    this.done = completed;
    if (run.phase === 'drain') {
      if (this.done === this.sent) this.finish();
    } else this.send(fresh);
  }

  private finish(): void {
    if (this.finished) return;
    this.finished = true;
    this.socket.end();
    const run = this.run;
    if (--run.pendingConnections === 0) run.onAllDone?.();
  }
}

/** Opens `count` connections, at most `concurrency` at a time; rejects on the first failure. */
export async function connectAll(
  host: string,
  port: number,
  count: number,
  concurrency: number,
): Promise<net.Socket[]> {
  const sockets: net.Socket[] = [];
  let next = 0;
  const one = (): Promise<void> =>
    new Promise((resolve, reject) => {
      const socket = net.connect({ host, port, noDelay: true });
      socket.once('error', reject);
      socket.once('connect', () => {
        socket.removeListener('error', reject);
        sockets.push(socket);
        resolve();
      });
    });
  const worker = async () => {
    while (next < count) {
      next++;
      await one();
    }
  };
  try {
    await Promise.all(Array.from({ length: Math.min(concurrency, count) }, worker));
  } catch (error) {
    for (const s of sockets) s.destroy();
    throw error;
  }
  return sockets;
}

/**
 * Runs one load: connects (idle connections first), calls `ready` (the runner measures the
 * server's memory there), then keeps `inflight` messages in flight on each active connection for
 * `warmupMs + durationMs`, stops sending, waits for every reply and closes. Rejects if any byte
 * differs or goes missing.
 */
export async function runLoad(options: LoadOptions, hooks: LoadHooks = {}): Promise<LoadResult> {
  const { ready } = hooks;
  if (options.mode === 'source') return readSource(options, ready);
  const host = options.host ?? '127.0.0.1';
  const concurrency = options.connectConcurrency ?? 256;
  const pattern = makePattern(options.mode, options.size);
  if (options.inflight > pattern.count * 2 && options.mode !== 'bulk') throw new RangeError('inflight too large');
  const perWrite = options.mode === 'bulk' || options.clientWrites === 'each' ? 1 : pattern.count;
  const run = new Run(pattern, options.inflight, perWrite);
  const connectStart = performance.now();
  const idle = await connectAll(host, options.port, options.idle ?? 0, concurrency);
  const active = await connectAll(host, options.port, options.conns, concurrency);
  const connectMs = performance.now() - connectStart;
  const errors: Error[] = [];
  for (const s of [...idle, ...active]) s.on('error', (e) => errors.push(e));
  try {
    if (ready) await ready();
    const pipelines = active.map((s) => new Pipeline(run, s));
    run.pendingConnections = pipelines.length;
    const allDone = new Promise<void>((resolve) => (run.onAllDone = resolve));
    for (const p of pipelines) p.start();

    await sleep(options.warmupMs);
    run.phase = 'measure';
    const t0 = performance.now();
    const cpu0 = process.cpuUsage();
    hooks.windowStart?.();
    await sleep(options.durationMs);
    const seconds = (performance.now() - t0) / 1000;
    const cpu = process.cpuUsage(cpu0);
    run.phase = 'drain';
    hooks.windowEnd?.();
    for (const p of pipelines) p.stop();

    const drainTimeout = options.drainTimeoutMs ?? 15_000;
    let timer: NodeJS.Timeout | undefined;
    await Promise.race([allDone, new Promise<void>((resolve) => (timer = setTimeout(resolve, drainTimeout)))]);
    clearTimeout(timer);
    if (run.failure) throw run.failure;
    if (errors.length > 0) throw errors[0];
    if (run.pendingConnections > 0) {
      throw new Error(`${run.pendingConnections} connection(s) still missing replies ${drainTimeout} ms after the run`);
    }
    const h = run.histogram;
    return {
      mode: options.mode,
      size: options.size,
      conns: options.conns,
      inflight: options.inflight,
      idle: options.idle ?? 0,
      seconds,
      messages: run.measured,
      messagesPerSec: run.measured / seconds,
      mbPerSec: (run.measured * pattern.replySize) / seconds / 1e6,
      p50us: h.percentile(0.5),
      p99us: h.percentile(0.99),
      maxUs: Math.round(h.max),
      verifiedBytes: run.verifiedBytes,
      loadgenCpu: (cpu.user + cpu.system) / 1e6 / seconds,
      connectMs: Math.round(connectMs),
      perConnMin: Math.min(...pipelines.map((p) => p.measured)),
      perConnMax: Math.max(...pipelines.map((p) => p.measured)),
    };
  } finally {
    await closeAll([...idle, ...active]);
  }
}

/** Slow consumer: reads `sourceBytes` from the server at `readRate` bytes/s, verifying them, until its FIN. */
async function readSource(options: LoadOptions, ready?: () => Promise<void>): Promise<LoadResult> {
  const host = options.host ?? '127.0.0.1';
  const total = options.sourceBytes ?? 0;
  const rate = options.readRate ?? 10e6;
  const pattern = makePattern('bulk', 64 * 1024);
  const connectStart = performance.now();
  // Paused from the start: the first byte is read when the run begins.
  const [socket] = await connectAll(host, options.port, 1, 1);
  socket.pause();
  const connectMs = performance.now() - connectStart;
  try {
    if (ready) await ready();
    const t0 = performance.now();
    const cpu0 = process.cpuUsage();
    let received = 0;
    await new Promise<void>((resolve, reject) => {
      let timer: NodeJS.Timeout | undefined;
      socket.on('data', (chunk: Buffer) => {
        let at = received % pattern.period;
        for (let i = 0; i < chunk.length;) {
          const n = Math.min(chunk.length - i, pattern.period);
          if (chunk.compare(pattern.doubled, at, at + n, i, i + n) !== 0) {
            reject(new Error(`source bytes differ in ${received + i}..${received + i + n}`));
            socket.destroy();
            return;
          }
          i += n;
          at = (at + n) % pattern.period;
        }
        received += chunk.length;
        // Ahead of the allowed rate: stop reading until the schedule catches up (TCP holds the server back).
        const due = t0 + (received / rate) * 1000;
        const wait = due - performance.now();
        if (wait > 1) {
          socket.pause();
          clearTimeout(timer);
          timer = setTimeout(() => socket.resume(), wait);
        }
      });
      socket.once('end', () => {
        clearTimeout(timer);
        if (received === total) resolve();
        else reject(new Error(`source ended after ${received} of ${total} bytes`));
      });
      socket.once('error', reject);
      socket.resume();
    });
    const seconds = (performance.now() - t0) / 1000;
    const cpu = process.cpuUsage(cpu0);
    return {
      mode: 'source',
      size: total,
      conns: 1,
      inflight: 0,
      idle: 0,
      seconds,
      messages: 1,
      messagesPerSec: 1 / seconds,
      mbPerSec: received / seconds / 1e6,
      p50us: 0,
      p99us: 0,
      maxUs: 0,
      verifiedBytes: received,
      loadgenCpu: (cpu.user + cpu.system) / 1e6 / seconds,
      connectMs: Math.round(connectMs),
      perConnMin: 1,
      perConnMax: 1,
    };
  } finally {
    await closeAll([socket]);
  }
}

/** Ends every socket and waits (briefly) for them to close; destroys the stragglers. */
async function closeAll(sockets: net.Socket[]): Promise<void> {
  let timer: NodeJS.Timeout | undefined;
  await Promise.race([
    Promise.all(
      sockets.map(
        (s) =>
          new Promise<void>((resolve) => {
            if (s.closed) return resolve();
            s.once('close', () => resolve());
            s.on('error', noop);
            s.end();
            s.resume();
          }),
      ),
    ),
    new Promise<void>((resolve) => (timer = setTimeout(resolve, 3000))),
  ]);
  clearTimeout(timer);
  for (const s of sockets) s.destroy();
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

function noop(): void {}

// ---------------------------------------------------------------------------------------------
// As a child of the runner (IPC): options as JSON in argv[2]; sends 'ready', waits for 'go',
// sends the result. Standalone: `node loadgen.js '{"port":...}'` prints one JSON line.

/** Messages between the runner and a load-generator child. */
export type LoadMessage =
  | { type: 'ready' }
  | { type: 'window'; phase: 'start' | 'end' }
  | { type: 'go' }
  | { type: 'result'; result: LoadResult }
  | { type: 'error'; message: string };

if (require.main === module) {
  const options = JSON.parse(process.argv[2] ?? '{}') as LoadOptions;
  const send = (message: LoadMessage) => process.send?.(message);
  const ready = process.send
    ? () =>
        new Promise<void>((resolve) => {
          process.once('message', (m: LoadMessage) => m.type === 'go' && resolve());
          send({ type: 'ready' });
        })
    : undefined;
  const hooks: LoadHooks = process.send
    ? {
        ready,
        windowStart: () => send({ type: 'window', phase: 'start' }),
        windowEnd: () => send({ type: 'window', phase: 'end' }),
      }
    : {};
  runLoad(options, hooks).then(
    (result) => {
      if (process.send) send({ type: 'result', result });
      else console.log(JSON.stringify(result));
      process.disconnect?.();
    },
    (error: Error) => {
      if (process.send) send({ type: 'error', message: error.message });
      else console.error(error);
      process.exitCode = 1;
      process.disconnect?.();
    },
  );
}
