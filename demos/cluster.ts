// The echo server on every core: node:cluster forks one worker per core, all sharing one listening socket.
import cluster from 'node:cluster';
import type { Worker } from 'node:cluster';
import * as os from 'os';
import type { Subscription } from 'rxjs';
import type { BoundAddress } from '../lib';
import { echoServer } from './echo-server';
import { consoleLog, demoArgs, integerFlag } from './support';

/** What a worker tells the primary over the IPC channel. */
type WorkerMessage = { type: 'listening'; address: BoundAddress };
/** What the primary tells a worker. */
type PrimaryMessage = { type: 'stop' };

const FLAGS = {
  host: { type: 'string' },
  workers: { type: 'string' },
  'max-restarts': { type: 'string' },
} as const;

/** Workers replaced within {@link RESTART_WINDOW_MS} before the primary stops replacing them (`--max-restarts`). */
export const DEFAULT_MAX_RESTARTS = 5;
/** The window over which restarts are counted: more than the maximum in it is a crash loop. */
export const RESTART_WINDOW_MS = 60_000;

/**
 * `npm run demo -- cluster [--port 8107] [--host H] [--workers N] [--max-restarts N]`: the primary
 * forks N workers (default `os.availableParallelism()`); each worker runs the seed's echo server.
 * Node's cluster module hands the accepted connections to the workers (round-robin by default,
 * except on Windows), so they share one port, even port 0. The primary prints `Cluster listening:
 * {address}` once every worker listens. A worker that dies after it listened (a crash, a kill) is
 * replaced, up to `--max-restarts` (default 5) a minute: past that it is a crash loop, and the
 * primary goes on with the workers left and exits 1 in the end. The first Ctrl-C (SIGINT) or
 * SIGTERM stops all workers cleanly (each closes its server and connections); a second one kills
 * them.
 */
export async function main(argv: string[]): Promise<void> {
  if (cluster.isPrimary) primary(argv);
  else worker(argv);
}

function primary(argv: string[]): void {
  const { values } = demoArgs(argv, 8107, FLAGS);
  const count = values.workers === undefined ? os.availableParallelism() : Number(values.workers);
  if (!Number.isInteger(count) || count < 1)
    throw new Error(`--workers must be a positive integer, got ${String(values.workers)}`);
  const maxRestarts =
    values['max-restarts'] === undefined
      ? DEFAULT_MAX_RESTARTS
      : integerFlag('--max-restarts', values['max-restarts'], 0);

  // Workers run this file with the same flags; a .ts file needs ts-node in them too, as in the primary.
  const tsNode = ['-r', 'ts-node/register/transpile-only'];
  const execArgv =
    __filename.endsWith('.ts') && !process.execArgv.includes('ts-node/register/transpile-only')
      ? [...process.execArgv, ...tsNode]
      : process.execArgv;
  cluster.setupPrimary({ exec: __filename, args: argv, execArgv });

  const workers = new Set<Worker>();
  /** Workers that have told us they listen: only those are replaced when they die. */
  const listening = new Set<Worker>();
  /** When each restart of the last minute happened. */
  let restarts: number[] = [];
  let clusterListening = false;
  let stopping = false;
  const stop = () => {
    if (stopping) {
      // A second Ctrl-C: do not wait for the workers any longer.
      for (const w of workers) w.process.kill('SIGKILL');
      return;
    }
    stopping = true;
    console.log(`Stopping ${workers.size} workers`);
    for (const w of workers) if (w.isConnected()) w.send({ type: 'stop' } satisfies PrimaryMessage);
  };
  process.on('SIGINT', stop);
  process.on('SIGTERM', stop);

  /** Replaces `dead` unless it never listened (it would fail again) or restarts come too fast. */
  const replace = (dead: Worker) => {
    if (!listening.has(dead)) {
      console.log(`not replacing worker ${dead.id}: it exited before it listened`);
      process.exitCode = 1;
      return;
    }
    const now = Date.now();
    restarts = restarts.filter((at) => now - at < RESTART_WINDOW_MS);
    if (restarts.length >= maxRestarts) {
      console.log(
        `not replacing worker ${dead.id}: ${restarts.length} restart(s) in the last ${RESTART_WINDOW_MS / 1000} s, ` +
          `at most ${maxRestarts} (--max-restarts); going on with ${workers.size} worker(s)`,
      );
      process.exitCode = 1;
      return;
    }
    restarts.push(now);
    const w = start();
    console.log(
      `worker ${w.id} replaces worker ${dead.id} (restart ${restarts.length} of at most ${maxRestarts} a minute)`,
    );
  };

  const start = (): Worker => {
    const w = cluster.fork();
    workers.add(w);
    w.on('message', (message: WorkerMessage) => {
      if (message.type !== 'listening') return;
      listening.add(w);
      console.log(`worker ${w.id} (pid ${w.process.pid}) listening`);
      if (!clusterListening && listening.size === count) {
        clusterListening = true;
        console.log(`Cluster listening: ${JSON.stringify(message.address)} (${count} workers)`);
      }
    });
    w.on('exit', (code, signal) => {
      workers.delete(w);
      console.log(`worker ${w.id} exited (${signal ?? code})`);
      // A worker that stopped (Ctrl-C reaches workers too; a bind error stops one) disconnected
      // first; one that did not was killed or crashed, and the primary stands in for it.
      if (!stopping && !w.exitedAfterDisconnect) replace(w);
      else if (code !== 0 && !stopping) process.exitCode = 1;
      listening.delete(w);
      if (workers.size === 0) {
        // Nothing left (stopped, or not replaced): the primary ends as well.
        process.removeListener('SIGINT', stop);
        process.removeListener('SIGTERM', stop);
        console.log('Server Terminated');
      }
    });
    return w;
  };
  for (let i = 0; i < count; i++) start();
}

function worker(argv: string[]): void {
  const { port, values } = demoArgs(argv, 8107, FLAGS);
  const id = cluster.worker?.id ?? 0;
  const log = (line: string) => consoleLog(`[worker ${id}] ${line}`);
  // eslint-disable-next-line prefer-const -- stop() may run (from the error callback) before the assignment below
  let subscription: Subscription | undefined;
  const stop = () => {
    process.removeListener('SIGINT', stop);
    process.removeListener('SIGTERM', stop);
    process.removeListener('message', onMessage);
    subscription?.unsubscribe(); // closes this worker's server and destroys its connections
    cluster.worker?.disconnect(); // closes the IPC channel, so the worker process can end
  };
  const onMessage = (message: PrimaryMessage) => {
    if (message.type === 'stop') stop();
  };
  // A terminal's Ctrl-C reaches the whole process group: the workers may hear it before the primary.
  process.on('SIGINT', stop);
  process.on('SIGTERM', stop);
  process.on('message', onMessage);
  subscription = echoServer({
    port,
    host: values.host as string | undefined,
    log,
    listening: (address) => process.send?.({ type: 'listening', address } satisfies WorkerMessage),
  }).subscribe({
    error: (error) => {
      console.error(`[worker ${id}] Server Error: `, error.code ?? '', error.message);
      process.exitCode = 1;
      stop();
    },
  });
}

if (require.main === module) void main(process.argv.slice(2));
