// The load generator in C (bench/loadgen.c): built with the system's C compiler, run as a child, same LoadResult as loadgen.ts.
import { spawn, spawnSync } from 'child_process';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import * as readline from 'readline';
import type { LoadMessage, LoadOptions, LoadResult } from './loadgen';

/** C compilers tried, in order. */
const COMPILERS = ['cc', 'gcc', 'clang'];
const SOURCE = path.join('bench', 'loadgen.c');

/** `source` (a path from the repository root) in the nearest directory above this file with package.json (works from the transpiled copy too). */
function findSource(source = SOURCE): string | undefined {
  for (let dir = __dirname; ; dir = path.dirname(dir)) {
    const candidate = path.join(dir, source);
    if (fs.existsSync(path.join(dir, 'package.json')) && fs.existsSync(candidate)) return candidate;
    if (path.dirname(dir) === dir) return undefined;
  }
}

let compiler: string | null | undefined;

/** The first C compiler that answers `--version`, or null. */
function findCompiler(): string | null {
  if (compiler === undefined) {
    compiler = COMPILERS.find((cc) => spawnSync(cc, ['--version'], { stdio: 'ignore' }).status === 0) ?? null;
  }
  return compiler;
}

/**
 * Whether the C load generator (or another C program of the bench, `source`) can be built here: Linux
 * (epoll, recvmmsg), a C compiler, and the source.
 */
export function cLoadgenAvailable(source = SOURCE): { ok: true } | { ok: false; reason: string } {
  if (process.platform !== 'linux') return { ok: false, reason: `needs Linux (epoll), not ${process.platform}` };
  if (findCompiler() === null) return { ok: false, reason: `no C compiler (${COMPILERS.join(', ')}) on the PATH` };
  if (findSource(source) === undefined) return { ok: false, reason: `${source} not found above ${__dirname}` };
  return { ok: true };
}

/**
 * Compiles bench/loadgen.c (or `source`) to `outDir/loadgen` (or `outDir/name`) unless that binary is newer
 * than the source; returns its path.
 */
export function buildCLoadgen(outDir: string, source = SOURCE, name = 'loadgen'): string {
  const available = cLoadgenAvailable(source);
  if (!available.ok) throw new Error(`cannot build ${source}: ${available.reason}`);
  const file = findSource(source)!;
  const binary = path.join(outDir, name);
  try {
    if (fs.statSync(binary).mtimeMs > fs.statSync(file).mtimeMs) return binary;
  } catch {
    // No binary yet.
  }
  fs.mkdirSync(outDir, { recursive: true });
  // Built under a private name and renamed: a concurrent build or run never sees half a binary.
  const partial = `${binary}.${process.pid}.tmp`;
  const result = spawnSync(findCompiler()!, ['-O2', '-std=gnu11', '-Wall', '-Wextra', '-o', partial, file, '-lm'], {
    encoding: 'utf8',
  });
  if (result.status !== 0) {
    fs.rmSync(partial, { force: true });
    throw new Error(`${findCompiler()} failed on ${file}: ${result.error?.message ?? result.stderr}`);
  }
  fs.renameSync(partial, binary);
  return binary;
}

/** The pattern files the binary reads: `send` and `expect` hold their pattern twice (makePattern's `doubled`). */
export interface CPatterns {
  send: Buffer;
  /** What the server answers: `count` messages of `replySize` bytes, doubled. */
  expect: Buffer;
  count: number;
  /** Reply message size (default: the request size, `options.size`). */
  replySize?: number;
}

/**
 * Runs one load with the C load generator: writes the patterns to a temporary directory, runs the
 * binary and calls `windowStart`/`windowEnd` as it announces the measured window. Resolves with
 * its result; rejects with its error message, or with its exit status and stderr.
 */
export async function runCLoad(
  binary: string,
  options: LoadOptions,
  patterns: CPatterns,
  hooks: { windowStart?(): void; windowEnd?(): void } = {},
): Promise<LoadResult> {
  if (options.mode === 'source') throw new Error('the C load generator has no source (slow consumer) mode');
  const replySize = patterns.replySize ?? options.size;
  if (patterns.send.length !== 2 * patterns.count * options.size)
    throw new RangeError(`send pattern: ${patterns.send.length} bytes, not 2 × ${patterns.count} × ${options.size}`);
  if (patterns.expect.length !== 2 * patterns.count * replySize)
    throw new RangeError(`expect pattern: ${patterns.expect.length} bytes, not 2 × ${patterns.count} × ${replySize}`);
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'rxnet-cloadgen-'));
  try {
    const sendFile = path.join(dir, 'send');
    const expectFile = path.join(dir, 'expect');
    fs.writeFileSync(sendFile, patterns.send);
    fs.writeFileSync(expectFile, patterns.expect);
    const args: Record<string, string | number> = {
      host: options.host ?? '127.0.0.1',
      port: options.port,
      mode: options.mode,
      size: options.size,
      'reply-size': replySize,
      count: patterns.count,
      send: sendFile,
      expect: expectFile,
      conns: options.conns,
      idle: options.idle ?? 0,
      inflight: options.inflight,
      warmup: options.warmupMs,
      duration: options.durationMs,
      'drain-timeout': options.drainTimeoutMs ?? 15_000,
      writes: options.clientWrites ?? 'batch',
      'connect-concurrency': options.connectConcurrency ?? 256,
    };
    return await runBinary(
      binary,
      Object.entries(args).flatMap(([key, value]) => [`--${key}`, String(value)]),
      hooks,
    );
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
}

/** Spawns the binary, follows its JSON lines; settles once it has exited. */
function runBinary(
  binary: string,
  args: string[],
  hooks: { windowStart?(): void; windowEnd?(): void },
): Promise<LoadResult> {
  return new Promise((resolve, reject) => {
    const child = spawn(binary, args, { stdio: ['ignore', 'pipe', 'pipe'] });
    let result: LoadResult | undefined;
    let error: string | undefined;
    let stderr = '';
    child.stderr.setEncoding('utf8');
    child.stderr.on('data', (text: string) => (stderr += text));
    const lines = readline.createInterface({ input: child.stdout, crlfDelay: Infinity });
    lines.on('line', (line) => {
      let message: LoadMessage;
      try {
        message = JSON.parse(line) as LoadMessage;
      } catch {
        error ??= `C load generator printed something else than JSON: ${line}`;
        return;
      }
      if (message.type === 'window') {
        if (message.phase === 'start') hooks.windowStart?.();
        else hooks.windowEnd?.();
      } else if (message.type === 'result') result = message.result;
      else if (message.type === 'error') error ??= message.message;
    });
    child.once('error', (e) => {
      error ??= `cannot run ${binary}: ${e.message}`;
    });
    // 'close' comes after the process exited and its stdout was read to the end.
    child.once('close', (code, signal) => {
      if (error !== undefined) reject(new Error(error));
      else if (result !== undefined && code === 0) resolve(result);
      else {
        const status = signal ? `signal ${signal}` : `code ${code}`;
        reject(new Error(`C load generator exited (${status}) without a result${stderr ? `: ${stderr.trim()}` : ''}`));
      }
    });
  });
}
