// Echo servers in other runtimes (Netty on the JVM, Go) for the suite to run beside the Node servers: toolchain check, build, start, CPU.
import { execFileSync, spawn } from 'child_process';
import * as fs from 'fs';
import * as path from 'path';

/** `netty`: bench/peers/netty/EchoServer.java; `go`: bench/peers/go/echo.go. */
export type PeerKind = 'netty' | 'go';

export type PeerFraming = 'lines' | 'length';

/**
 * `cut`: the frame as decoded; `new`: a copy in a newly allocated buffer; `string`: the line decoded
 * to a string and written back with `'\n'` (lines; a length server answers as with `new`).
 */
export type PeerReply = 'cut' | 'new' | 'string';

export interface RunningPeer {
  port: number;
  /** The server process itself (the shell that raised the fd limit exec'd into it). */
  pid: number;
  /** Closes its stdin, which makes it exit; SIGKILL if it has not exited 10 s later. */
  stop(): Promise<void>;
}

/** Debian's libnetty-java: the modules an NIO server with the two frame decoders loads. */
const NETTY_JAR_DIRS = ['/usr/share/java'];
const NETTY_JARS = ['netty-common', 'netty-buffer', 'netty-resolver', 'netty-transport', 'netty-codec'];
const NETTY_APT = 'apt-get install default-jdk-headless libnetty-java';
const GO_APT = 'apt-get install golang-go';

/**
 * JVM flags, the same on every run:
 * - a fixed 256 MiB heap (`-Xms` = `-Xmx`): no heap resizing inside a short window;
 * - the Parallel collector, the JVM's throughput collector, with one GC thread: the server is
 *   meant to have one core, and G1's concurrent threads and barriers suit latency targets, not this;
 * - no hsperfdata file (`-XX:-UsePerfData`), nothing written to /tmp per run;
 * - Netty's leak detector off: by default it samples buffers and records stacks, which no
 *   production server pays for.
 */
const JVM_FLAGS = [
  '-Xms256m',
  '-Xmx256m',
  '-XX:+UseParallelGC',
  '-XX:ParallelGCThreads=1',
  '-XX:-UsePerfData',
  '-Dio.netty.leakDetection.level=disabled',
];

/** Whether `kind` can be built here, or what to install. */
export function peerToolchain(kind: PeerKind): { ok: true } | { ok: false; reason: string } {
  if (kind === 'go') {
    return findOnPath('go') === undefined ? { ok: false, reason: `go: go not found (${GO_APT})` } : { ok: true };
  }
  const missing: string[] = [];
  if (findOnPath('javac') === undefined) missing.push('javac not found');
  if (findOnPath('java') === undefined) missing.push('java not found');
  const jars = nettyJars();
  if (jars.missing.length > 0)
    missing.push(`${jars.missing.map((name) => `${name}.jar`).join(', ')} not found in ${NETTY_JAR_DIRS.join(', ')}`);
  return missing.length === 0 ? { ok: true } : { ok: false, reason: `netty: ${missing.join('; ')} (${NETTY_APT})` };
}

/**
 * Compiles `kind` into `outDir` unless the output there is newer than its source, and returns the
 * argv prefix that runs it (framing and reply style follow, see {@link startPeer}).
 */
export function buildPeer(kind: PeerKind, outDir: string): string[] {
  const toolchain = peerToolchain(kind);
  if (!toolchain.ok) throw new Error(toolchain.reason);
  fs.mkdirSync(outDir, { recursive: true });
  const sources = sourceDir();
  if (kind === 'go') {
    const source = path.join(sources, 'go', 'echo.go');
    const binary = path.join(outDir, 'echo');
    if (isStale(binary, source)) {
      const env: NodeJS.ProcessEnv = {
        ...process.env,
        // One file, standard library only: no module, no download, a static binary.
        GO111MODULE: 'off',
        GOTOOLCHAIN: 'local',
        GOFLAGS: '',
        CGO_ENABLED: '0',
      };
      if (env.GOCACHE === undefined && env.HOME === undefined && env.XDG_CACHE_HOME === undefined)
        env.GOCACHE = path.join(outDir, 'go-cache');
      run('go', ['build', '-o', binary, source], env, 'go build');
    }
    return [binary];
  }
  const source = path.join(sources, 'netty', 'EchoServer.java');
  const classFile = path.join(outDir, 'EchoServer.class');
  const classPath = [...nettyJars().found, outDir].join(path.delimiter);
  if (isStale(classFile, source)) {
    run('javac', ['-nowarn', '-d', outDir, '-cp', classPath, source], process.env, 'javac');
  }
  return ['java', ...JVM_FLAGS, '-cp', classPath, 'EchoServer'];
}

/**
 * Starts a built peer on 127.0.0.1 (a port of its choosing) through a shell that first raises the
 * open-file limit as far as allowed, and resolves once it prints `listening <port>`; rejects, with
 * its stderr, if it exits first.
 */
export function startPeer(
  argvPrefix: string[],
  framing: PeerFraming,
  reply: PeerReply,
  env?: Record<string, string>,
): Promise<RunningPeer> {
  const command = [...argvPrefix, framing, reply].map(shellQuote).join(' ');
  const child = spawn('/bin/sh', ['-c', `ulimit -n 65536 2>/dev/null || ulimit -n "$(ulimit -Hn)"; exec ${command}`], {
    stdio: ['pipe', 'pipe', 'pipe'],
    env: { ...process.env, ...env },
  });
  let stderr = '';
  child.stderr.setEncoding('utf8');
  child.stderr.on('data', (text: string) => {
    // The last 16 KiB is plenty to say why it failed.
    stderr = (stderr + text).slice(-16_384);
  });
  // The runner never writes to a peer; a peer that exits first makes writes fail, harmlessly.
  child.stdin.on('error', () => {});
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));

  const stop = async (): Promise<void> => {
    if (child.exitCode === null && child.signalCode === null) {
      const timer = setTimeout(() => child.kill('SIGKILL'), 10_000);
      child.stdin.end();
      await exited;
      clearTimeout(timer);
    }
  };

  return new Promise((resolve, reject) => {
    let settled = false;
    let stdout = '';
    child.stdout.setEncoding('utf8');
    // Read its output to the end, so that it never blocks on a full pipe.
    child.stdout.on('data', (text: string) => {
      if (settled) return;
      stdout += text;
      const match = /^listening (\d+)$/m.exec(stdout);
      if (match === null) {
        // Keep only the unfinished last line.
        stdout = stdout.slice(stdout.lastIndexOf('\n') + 1);
        return;
      }
      settled = true;
      resolve({ port: Number(match[1]), pid: child.pid as number, stop });
    });
    // 'close' comes once the pipes have ended too, so all of stderr is in.
    child.once('close', (code, signal) => {
      if (settled) return;
      settled = true;
      const how = signal === null ? `exit code ${code}` : signal;
      reject(new Error(`${command} exited before listening (${how}): ${stderr.trim()}`));
    });
    child.on('error', (error) => {
      if (settled) return;
      settled = true;
      reject(error);
    });
  });
}

let clockTicks: number | undefined;

/**
 * A process's CPU time so far (user + system, all its threads, in microseconds) and minor page
 * faults, from /proc/<pid>/stat; undefined if there is no such process (or no /proc).
 */
export function processCpu(pid: number): { cpu: number; faults: number } | undefined {
  let stat: string;
  try {
    stat = fs.readFileSync(`/proc/${pid}/stat`, 'utf8');
  } catch {
    return undefined;
  }
  // The command name, in parentheses, may hold spaces: count fields after its closing one.
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  // Fields 10 (minflt), 14 (utime) and 15 (stime) of proc(5); fields[0] is field 3.
  const faults = Number(fields[7]);
  const ticks = Number(fields[11]) + Number(fields[12]);
  return { cpu: (ticks * 1e6) / ticksPerSecond(), faults };
}

function ticksPerSecond(): number {
  if (clockTicks === undefined) {
    try {
      clockTicks = Number(execFileSync('getconf', ['CLK_TCK'], { encoding: 'utf8' }).trim()) || 100;
    } catch {
      clockTicks = 100;
    }
  }
  return clockTicks;
}

// ---------------------------------------------------------------------------------------------

/** bench/peers/, found from this file's folder upwards (the runner may run a transpiled copy elsewhere). */
function sourceDir(): string {
  for (let dir = __dirname; ; dir = path.dirname(dir)) {
    for (const candidate of [path.join(dir, 'peers'), path.join(dir, 'bench', 'peers')]) {
      if (fs.existsSync(path.join(candidate, 'go', 'echo.go'))) return candidate;
    }
    if (path.dirname(dir) === dir) throw new Error(`bench/peers/ not found above ${__dirname}`);
  }
}

function nettyJars(): { found: string[]; missing: string[] } {
  const found: string[] = [];
  const missing: string[] = [];
  for (const name of NETTY_JARS) {
    const jar = NETTY_JAR_DIRS.map((dir) => path.join(dir, `${name}.jar`)).find((file) => fs.existsSync(file));
    if (jar === undefined) missing.push(name);
    else found.push(jar);
  }
  return { found, missing };
}

function findOnPath(name: string): string | undefined {
  for (const dir of (process.env.PATH ?? '').split(path.delimiter)) {
    if (dir === '') continue;
    const file = path.join(dir, name);
    try {
      fs.accessSync(file, fs.constants.X_OK);
      if (fs.statSync(file).isFile()) return file;
    } catch {
      // Not here.
    }
  }
  return undefined;
}

function isStale(output: string, source: string): boolean {
  try {
    return fs.statSync(output).mtimeMs <= fs.statSync(source).mtimeMs;
  } catch {
    return true;
  }
}

function run(file: string, args: string[], env: NodeJS.ProcessEnv, what: string): void {
  try {
    execFileSync(file, args, { env, stdio: ['ignore', 'pipe', 'pipe'], encoding: 'utf8' });
  } catch (error) {
    const e = error as { stderr?: string; stdout?: string; message: string };
    const output = `${e.stderr ?? ''}${e.stdout ?? ''}`.trim();
    throw new Error(`${what} failed: ${file} ${args.join(' ')}\n${output || e.message}`);
  }
}

function shellQuote(s: string): string {
  return `'${s.replace(/'/g, `'\\''`)}'`;
}
