// The echo server on every core: node:cluster forks one worker per core, all sharing one listening socket.
import cluster from 'node:cluster';
import type { Worker } from 'node:cluster';
import * as os from 'os';
import type { Subscription } from 'rxjs';
import type { BoundAddress } from '../lib';
import { echoServer } from './echo-server';
import { consoleLog, demoArgs } from './support';

/** What a worker tells the primary over the IPC channel. */
type WorkerMessage = { type: 'listening'; address: BoundAddress };
/** What the primary tells a worker. */
type PrimaryMessage = { type: 'stop' };

const FLAGS = { host: { type: 'string' }, workers: { type: 'string' } } as const;

/**
 * `npm run demo -- cluster [--port 8107] [--host H] [--workers N]`: the primary forks N workers
 * (default `os.availableParallelism()`) and restarts none; each worker runs the seed's echo
 * server. Node's cluster module hands the accepted connections to the workers (round-robin by
 * default, except on Windows), so they share one port, even port 0. The primary prints
 * `Cluster listening: {address}` once every worker listens, and the first Ctrl-C (SIGINT) or
 * SIGTERM stops all workers cleanly (each closes its server and connections); a second one
 * kills them.
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

  // Workers run this file with the same flags; a .ts file needs ts-node in them too, as in the primary.
  const tsNode = ['-r', 'ts-node/register/transpile-only'];
  const execArgv =
    __filename.endsWith('.ts') && !process.execArgv.includes('ts-node/register/transpile-only')
      ? [...process.execArgv, ...tsNode]
      : process.execArgv;
  cluster.setupPrimary({ exec: __filename, args: argv, execArgv });

  const workers = new Set<Worker>();
  let listening = 0;
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

  for (let i = 0; i < count; i++) {
    const w = cluster.fork();
    workers.add(w);
    w.on('message', (message: WorkerMessage) => {
      if (message.type !== 'listening') return;
      console.log(`worker ${w.id} (pid ${w.process.pid}) listening`);
      if (++listening === count)
        console.log(`Cluster listening: ${JSON.stringify(message.address)} (${count} workers)`);
    });
    w.on('exit', (code, signal) => {
      workers.delete(w);
      console.log(`worker ${w.id} exited (${signal ?? code})`);
      if (code !== 0 && !stopping) process.exitCode = 1;
      if (workers.size === 0) {
        // Nothing left: no restarts, so the primary ends as well.
        process.removeListener('SIGINT', stop);
        process.removeListener('SIGTERM', stop);
        console.log('Server Terminated');
      }
    });
  }
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
