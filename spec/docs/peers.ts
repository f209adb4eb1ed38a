// For the reset specs: servers run as child processes (lib/ and demos/ transpiled once), peers that reset, probes.
import { spawn, type ChildProcess } from 'child_process';
import * as fs from 'fs';
import * as net from 'net';
import * as os from 'os';
import * as path from 'path';
import * as ts from 'typescript';
import { ROOT, filesUnder } from './markdown';

/** A wait that outlives this has failed: a guard, never a way to let something happen. */
const WAIT_LIMIT_MS = 15_000;

/**
 * Transpiles lib/, demos/ and the given spec files into a fresh temp directory, keeping their
 * paths, as ts-node's transpile-only mode would on the fly: children then start in a fraction of
 * the time. They find rxjs and ioredis through NODE_PATH (see {@link NodeChild}).
 */
export function transpileTree(extra: string[] = []): { dir: string; remove(): void } {
  const { config } = ts.readConfigFile(path.join(ROOT, 'tsconfig.json'), ts.sys.readFile);
  const { options } = ts.parseJsonConfigFileContent(config, ts.sys, ROOT);
  const compilerOptions: ts.CompilerOptions = { ...options, sourceMap: false, declaration: false, noEmit: false };
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'rxnet-resets-'));
  for (const file of [...filesUnder('lib', '.ts'), ...filesUnder('demos', '.ts'), ...extra]) {
    const source = fs.readFileSync(path.join(ROOT, file), 'utf8');
    const { outputText } = ts.transpileModule(source, { compilerOptions, fileName: file });
    const out = path.join(dir, file.replace(/\.ts$/, '.js'));
    fs.mkdirSync(path.dirname(out), { recursive: true });
    fs.writeFileSync(out, outputText);
  }
  return { dir, remove: () => fs.rmSync(dir, { recursive: true, force: true }) };
}

/** A Node child process whose stdout and stderr are kept as one text. */
export class NodeChild {
  readonly process: ChildProcess;
  /** Resolves once the process has exited. */
  readonly exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
  private text = '';

  constructor(args: string[], env: Record<string, string> = {}) {
    this.process = spawn(process.execPath, args, {
      cwd: ROOT,
      env: { ...process.env, NODE_PATH: path.join(ROOT, 'node_modules'), ...env },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    this.process.stdout!.on('data', (chunk: Buffer) => (this.text += chunk.toString()));
    this.process.stderr!.on('data', (chunk: Buffer) => (this.text += chunk.toString()));
    this.exited = new Promise((resolve) => this.process.once('exit', (code, signal) => resolve({ code, signal })));
  }

  /** Everything printed so far. */
  get output(): string {
    return this.text;
  }

  /** The output for a failure message: long runs of one character shortened, at most the last 6000 characters. */
  get report(): string {
    const text = this.text.replace(/(.)\1{99,}/g, (run, c: string) => `${c.repeat(10)}...(${run.length} times)`);
    return text.length > 6000 ? `...${text.slice(-6000)}` : text;
  }

  get running(): boolean {
    return this.process.exitCode === null && this.process.signalCode === null;
  }

  /**
   * Resolves with what `check` finds in the output (checked now and on each new output); rejects
   * with the output when the process exits first, or after 15 s.
   */
  waitFor<T>(what: string, check: (output: string) => T | undefined): Promise<T> {
    return new Promise<T>((resolve, reject) => {
      const done = (settle: () => void) => {
        clearTimeout(guard);
        this.process.stdout!.removeListener('data', test);
        this.process.stderr!.removeListener('data', test);
        this.process.removeListener('exit', exit);
        settle();
      };
      const test = () => {
        let found: T | undefined;
        try {
          found = check(this.text);
        } catch (error) {
          done(() => reject(error));
          return;
        }
        if (found !== undefined) done(() => resolve(found));
      };
      const fail = (why: string) => done(() => reject(new Error(`${why} before ${what}; its output:\n${this.report}`)));
      const exit = (code: number | null, signal: NodeJS.Signals | null) =>
        // Output may still be buffered in the pipes when 'exit' comes: look once more.
        setImmediate(() => {
          test();
          fail(`the process exited (${signal ?? code})`);
        });
      const guard = setTimeout(() => fail(`nothing after ${WAIT_LIMIT_MS} ms`), WAIT_LIMIT_MS);
      this.process.stdout!.on('data', test);
      this.process.stderr!.on('data', test);
      this.process.once('exit', exit);
      if (!this.running) exit(this.process.exitCode, this.process.signalCode);
      else test();
    });
  }

  /** The first match of `pattern` in the output, once there is one. */
  printed(pattern: RegExp): Promise<RegExpExecArray> {
    return this.waitFor(String(pattern), (output) => pattern.exec(output) ?? undefined);
  }

  /** Kills the process (SIGKILL) if it still runs and resolves once it has exited. */
  async stop(): Promise<void> {
    if (this.running) this.process.kill('SIGKILL');
    await this.exited;
  }
}

/** A plain `net` client that keeps what it receives. */
export class Peer {
  received = Buffer.alloc(0);
  private ended: Error | undefined;

  private constructor(readonly socket: net.Socket) {
    socket.on('data', (chunk: Buffer) => (this.received = Buffer.concat([this.received, chunk])));
    socket.on('error', (error) => (this.ended ??= error));
    socket.on('close', () => (this.ended ??= new Error('closed by the server')));
  }

  /** Connects to 127.0.0.1:port; rejects with the connect error (ECONNREFUSED once the server is gone). */
  static connect(port: number): Promise<Peer> {
    return new Promise((resolve, reject) => {
      const socket = net.connect({ port, host: '127.0.0.1' }, () => {
        socket.removeListener('error', reject);
        resolve(new Peer(socket));
      });
      socket.once('error', reject);
    });
  }

  get localPort(): number {
    return this.socket.localPort!;
  }

  write(data: string | Buffer): void {
    this.socket.write(data);
  }

  /** Resolves with what was received once `test` holds for it; rejects if the connection ends first. */
  until(what: string, test: (received: Buffer) => boolean): Promise<Buffer> {
    return new Promise((resolve, reject) => {
      const done = (settle: () => void) => {
        clearTimeout(guard);
        this.socket.removeListener('data', check);
        this.socket.removeListener('close', check);
        settle();
      };
      const check = () => {
        if (test(this.received)) done(() => resolve(this.received));
        else if (this.ended || this.socket.destroyed)
          done(() =>
            reject(
              new Error(
                `${this.ended?.message ?? 'closed'} before ${what}; got ${JSON.stringify(this.received.toString('latin1'))}`,
              ),
            ),
          );
      };
      const guard = setTimeout(
        () =>
          done(() =>
            reject(
              new Error(
                `no ${what} after ${WAIT_LIMIT_MS} ms; got ${JSON.stringify(this.received.toString('latin1'))}`,
              ),
            ),
          ),
        WAIT_LIMIT_MS,
      );
      // 'data' is listened to first, in the constructor, so `received` is up to date here.
      this.socket.on('data', check);
      this.socket.on('close', check);
      check();
    });
  }

  /** Destroys the socket and resolves once it has closed. */
  close(): Promise<void> {
    this.socket.destroy();
    return this.socket.closed
      ? Promise.resolve()
      : new Promise((resolve) => this.socket.once('close', () => resolve()));
  }
}

/** The seed's `struct CTestData { char a; int b; char c[15]; }` with `b`, as a C program sends it. */
export function cTestData(b: number): Buffer {
  const record = Buffer.alloc(24);
  record.write('x', 0);
  record.writeInt32LE(b, 4);
  record.write('probe', 8);
  return record;
}

/**
 * Runs `work` against `child`, then stops the child; a failure gets the child's output appended
 * (once), so a report says what the server printed.
 */
export async function runReporting(child: NodeChild, work: () => Promise<void>): Promise<void> {
  try {
    await work();
  } catch (error) {
    if (error instanceof Error && !error.message.includes('its output'))
      error.message += `\nits output:\n${child.report}`;
    throw error;
  } finally {
    await child.stop();
  }
}

/**
 * `count` peers connect to 127.0.0.1:port at once; peer `i` writes `payload(localPort, i)` and, as
 * soon as the kernel has it, resets the connection (`resetAndDestroy()`: an RST instead of a FIN).
 * Resolves with their local ports once all have closed; a peer whose connection was refused (the
 * server is gone already) is left out.
 */
export async function resetPeers(
  port: number,
  payload: (localPort: number, index: number) => string | Buffer,
  count = 6,
): Promise<number[]> {
  const peers = Array.from(
    { length: count },
    (_, index) =>
      new Promise<number | undefined>((resolve) => {
        const socket = net.connect({ port, host: '127.0.0.1' });
        let localPort: number | undefined;
        socket.once('connect', () => {
          localPort = socket.localPort;
          socket.write(payload(localPort!, index), () => socket.resetAndDestroy());
        });
        socket.on('error', () => undefined); // ECONNREFUSED, or the server's own reset
        socket.once('close', () => resolve(localPort));
      }),
  );
  return (await Promise.all(peers)).filter((p): p is number => p !== undefined);
}

/** Connects, sends `request`, resolves with the reply once `complete(reply)` holds, and closes. */
export async function exchange(
  port: number,
  request: string | Buffer | undefined,
  what: string,
  complete: (reply: Buffer) => boolean,
): Promise<Buffer> {
  const peer = await Peer.connect(port);
  try {
    if (request !== undefined) peer.write(request);
    return await peer.until(what, complete);
  } finally {
    await peer.close();
  }
}

/** A PROXY protocol v1 header announcing a client at 192.0.2.1:`sourcePort` (a documentation address). */
export function proxyHeader(sourcePort: number, serverPort: number): string {
  return `PROXY TCP4 192.0.2.1 127.0.0.1 ${sourcePort} ${serverPort}\r\n`;
}

/** Runs `jobs` in order, at most `limit` at a time; each result is settled, never rejected. */
export function pool<T>(jobs: (() => Promise<T>)[], limit: number): Promise<PromiseSettledResult<T>>[] {
  let free = limit;
  const waiting: (() => void)[] = [];
  const acquire = () =>
    free > 0 ? (free--, Promise.resolve()) : new Promise<void>((resolve) => waiting.push(resolve));
  const release = () => {
    const next = waiting.shift();
    if (next) next();
    else free++;
  };
  return jobs.map((job) =>
    acquire().then(async (): Promise<PromiseSettledResult<T>> => {
      try {
        return { status: 'fulfilled', value: await job() };
      } catch (reason) {
        return { status: 'rejected', reason };
      } finally {
        release();
      }
    }),
  );
}
