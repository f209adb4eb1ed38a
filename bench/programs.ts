// Programs the bench starts (servers under test, Redis, peers): spawned, awaited until they say they are ready,
// stopped with SIGTERM and then SIGKILL. Apart from the runner so that specs can start their own programs with it.
import { spawn, type ChildProcess } from 'child_process';

/**
 * A child's environment: the runner's, without a glibc trim threshold the runner itself may have
 * been given (so --default-malloc and the memory workloads really get glibc's own rule), plus `extra`.
 */
export function childEnv(extra: Record<string, string> | undefined): NodeJS.ProcessEnv {
  const env = { ...process.env };
  delete env.MALLOC_TRIM_THRESHOLD_;
  return Object.assign(env, extra);
}

/** A program the runner started (a server under test): its port and pid, and the way to stop it. */
export interface ProgramChild {
  readonly port: number;
  readonly pid: number;
  stop(): Promise<void>;
}

/** A stop for `child`: SIGTERM, SIGKILL after 5 s, resolved once it has exited (at once if it had). */
export function stopperOf(child: ChildProcess): () => Promise<void> {
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  return async () => {
    if (child.exitCode === null && child.signalCode === null) {
      child.kill('SIGTERM');
      const force = setTimeout(() => child.kill('SIGKILL'), 5000);
      await exited;
      clearTimeout(force);
    }
  };
}

/** Starts `command args` and resolves once its output matches `ready` (group 1: the port, if `port` is not given). */
export function startProgram(
  what: string,
  command: string,
  args: string[],
  ready: RegExp,
  env: Record<string, string>,
  port?: number,
): Promise<ProgramChild> {
  const child: ChildProcess = spawn(command, args, { stdio: ['ignore', 'pipe', 'pipe'], env: childEnv(env) });
  const stop = stopperOf(child);
  let output = '';
  return new Promise<ProgramChild>((resolve, reject) => {
    const onData = (chunk: Buffer) => {
      output += chunk.toString();
      const m = ready.exec(output);
      if (!m) return;
      child.stdout!.removeListener('data', onData);
      // Keep reading its output so the pipe never fills.
      child.stdout!.resume();
      resolve({ port: port ?? Number(m[1]), pid: child.pid!, stop });
    };
    child.stdout!.on('data', onData);
    child.stderr!.on('data', (chunk: Buffer) => (output += chunk.toString()));
    child.once('error', reject);
    child.once('exit', (code, signal) =>
      reject(new Error(`${what} exited (${code ?? signal}) before it was ready:\n${output}`)),
    );
  });
}
