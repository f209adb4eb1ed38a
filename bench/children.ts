// The bench's child processes: Node servers (server.ts), peers in other runtimes (peers.ts), load generators (loadgen.ts, loadgen.c).
import { spawn, type ChildProcess } from 'child_process';
import * as fs from 'fs';
import * as net from 'net';
import * as os from 'os';
import * as path from 'path';
import { childEnv } from './programs';
import { runCLoad } from './cloadgen';
import type { LoadMessage, LoadOptions, LoadResult } from './loadgen';
import { processCpu, startPeer, type PeerKind } from './peers';
import type { Pattern } from './protocol';
import type { BenchKind, ServerCost } from './report';
import type { MemorySample, ServerReply, ServerRequest } from './server';
import type { ServerKind, ServerWorkload } from './servers';

/** Where and how children run: the transpiled bench, CPUs to pin to, where profiles go. */
export interface ChildContext {
  buildDir: string;
  resultsDir: string;
  /** CPUs the children are pinned to (`--pin`), else undefined. */
  pinned: { server?: number; loadgen?: number };
  /** Profiles written in this run, by file name. */
  profileFiles: string[];
  runStamp: string;
}

/** A server the runner measures, whatever runs it. */
export interface BenchServer {
  readonly kind: BenchKind;
  readonly port: number;
  readonly pid: number | undefined;
  /** MALLOC_TRIM_THRESHOLD_ as the server process saw it, or undefined (glibc's own rule; unknown for peers). */
  readonly mallocTrimThreshold: string | undefined;
  /** The process's CPU time so far, user + system, in microseconds, and its minor page faults. */
  cpu(): Promise<{ cpu: number; faults: number }>;
  stop(): Promise<void>;
}

/** Starts `node [flags] <build>/bench/<script> args` through a shell that raises the open-file limit. */
function spawnNode(
  context: ChildContext,
  script: string,
  args: string[],
  nodeFlags: string[],
  cpu?: number,
  env?: Record<string, string>,
): ChildProcess {
  const pin = cpu === undefined ? [] : ['taskset', '-c', String(cpu)];
  const quoted = [...pin, process.execPath, ...nodeFlags, path.join(context.buildDir, 'bench', script), ...args]
    .map(shellQuote)
    .join(' ');
  return spawn('/bin/sh', ['-c', `${RAISE_FD_LIMIT}; exec ${quoted}`], {
    stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
    env: childEnv(env),
  });
}

/** As far as the hard limit allows: 1,000 connections and more. */
export const RAISE_FD_LIMIT = 'ulimit -n 65536 2>/dev/null || ulimit -n "$(ulimit -Hn)" 2>/dev/null';

export function shellQuote(s: string): string {
  return `'${s.replace(/'/g, `'\\''`)}'`;
}

/** A Node server child (server.ts), answering memory and CPU queries over IPC. */
export class ServerChild implements BenchServer {
  private constructor(
    readonly kind: ServerKind,
    readonly workload: ServerWorkload,
    private readonly child: ChildProcess,
    readonly port: number,
    readonly mallocTrimThreshold: string | undefined,
  ) {}

  static start(
    context: ChildContext,
    kind: ServerKind,
    workload: ServerWorkload,
    profile: boolean,
    options: { sourceBytes?: number; env?: Record<string, string> } = {},
  ): Promise<ServerChild> {
    const { sourceBytes, env } = options;
    const flags = ['--expose-gc'];
    if (profile) {
      const name = `${context.runStamp}-${workload}-${kind}-${context.profileFiles.length}.cpuprofile`;
      context.profileFiles.push(name);
      flags.push('--cpu-prof', `--cpu-prof-dir=${context.resultsDir}`, `--cpu-prof-name=${name}`);
    }
    const args = [kind, workload, ...(sourceBytes === undefined ? [] : [String(sourceBytes)])];
    const child = spawnNode(context, 'server.js', args, flags, context.pinned.server, env);
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

/** A Netty or Go echo server (peers.ts); its CPU time read from /proc. */
export class PeerServer implements BenchServer {
  readonly mallocTrimThreshold = undefined;
  private constructor(
    readonly kind: PeerKind,
    readonly port: number,
    readonly pid: number,
    private readonly stopper: () => Promise<void>,
  ) {}

  static async start(
    kind: PeerKind,
    command: string[],
    framing: 'lines' | 'length',
    reply: 'cut' | 'new' | 'string',
    env: Record<string, string>,
  ): Promise<PeerServer> {
    const peer = await startPeer(command, framing, reply, env);
    return new PeerServer(kind, peer.port, peer.pid, () => peer.stop());
  }

  async cpu(): Promise<{ cpu: number; faults: number }> {
    const used = processCpu(this.pid);
    if (used === undefined) throw new Error(`${this.kind} server (pid ${this.pid}) is gone`);
    return used;
  }

  stop(): Promise<void> {
    return this.stopper();
  }
}

/** Busy and total CPU time of the machine so far, in clock ticks (Linux /proc/stat), or undefined. */
export function machineTicks(): { busy: number; total: number } | undefined {
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
export async function waitForQuiet(maxMs: number, threshold: number): Promise<void> {
  const until = Date.now() + maxMs;
  while (Date.now() < until) {
    const busy = await busyCores(250);
    if (busy === undefined || busy < threshold) return;
  }
}

/** The two ends of a measured window, as a load generator reports them. */
interface WindowHooks {
  windowStart(): void;
  windowEnd(): void;
}

/**
 * Runs one load with `start` and adds what the server spent in the measured window: its CPU
 * time per message and page faults, and the CPU the rest of the machine used meanwhile.
 */
async function measured(
  server: BenchServer | undefined,
  start: (hooks: WindowHooks) => Promise<LoadResult>,
): Promise<LoadResult & ServerCost> {
  let cpuStart: Promise<{ cpu: number; faults: number }> | undefined;
  let cpuEnd: Promise<{ cpu: number; faults: number }> | undefined;
  let ticksStart: ReturnType<typeof machineTicks>;
  let ticksEnd: ReturnType<typeof machineTicks>;
  const result = await start({
    windowStart: () => {
      ticksStart = machineTicks();
      if (server) cpuStart = server.cpu();
    },
    windowEnd: () => {
      ticksEnd = machineTicks();
      if (server) cpuEnd = server.cpu();
    },
  });
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
  const begin = await cpuStart;
  const end = await cpuEnd;
  const used = end.cpu - begin.cpu;
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
    serverFaultsPerMsg: result.messages > 0 ? +((end.faults - begin.faults) / result.messages).toFixed(3) : undefined,
    ...which,
  };
}

/**
 * Runs one load in a Node load-generator child (loadgen.ts); `ready` runs once its connections
 * are open and before traffic starts. With `server`, its CPU time over the measured window is taken too.
 */
export function runLoadChild(
  context: ChildContext,
  options: LoadOptions,
  ready?: () => Promise<void>,
  server?: BenchServer,
): Promise<LoadResult & ServerCost> {
  return measured(server, (hooks) => {
    const child = spawnNode(
      context,
      'loadgen.js',
      [JSON.stringify(options)],
      ['--max-old-space-size=2048'],
      context.pinned.loadgen,
    );
    return new Promise<LoadResult>((resolve, reject) => {
      let settled = false;
      child.on('message', (m: LoadMessage) => {
        if (m.type === 'window') {
          if (m.phase === 'start') hooks.windowStart();
          else hooks.windowEnd();
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
    });
  });
}

/** Runs one load with the C load generator (loadgen.c, built as `binary`), measuring `server` as above. */
export function runCLoadChild(
  binary: string,
  options: LoadOptions,
  pattern: Pattern,
  server: BenchServer,
): Promise<LoadResult & ServerCost> {
  return measured(server, (hooks) =>
    runCLoad(
      binary,
      options,
      {
        send: pattern.doubled,
        expect: pattern.replyDoubled,
        count: pattern.count,
        replySize: pattern.replySize,
      },
      hooks,
    ),
  );
}

export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = net.createServer();
    server.once('error', reject);
    server.listen({ port: 0, host: '127.0.0.1' }, () => {
      const { port } = server.address() as net.AddressInfo;
      server.close(() => resolve(port));
    });
  });
}
