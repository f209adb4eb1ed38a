// Running the benchmark runner from a spec, as `npm run bench -- ...` does, and reading its JSON run records.
import { execFile } from 'child_process';
import * as path from 'path';
import { promisify } from 'util';

const ROOT = path.resolve(__dirname, '..', '..');

/** Runs `npm run bench -- ...args` (through ts-node, as the script does); rejects on a non-zero exit. */
export function runBench(args: string[], env: Record<string, string> = {}) {
  return promisify(execFile)(
    process.execPath,
    [require.resolve('ts-node/dist/bin.js'), '--transpile-only', 'bench/run.ts', ...args],
    { cwd: ROOT, maxBuffer: 16 * 1024 * 1024, env: { ...process.env, ...env } },
  );
}

/** The JSON run records of `workload` in the runner's output. */
export function benchRecords<T>(stdout: string, workload: string): T[] {
  return stdout
    .split('\n')
    .filter((line) => line.startsWith(`{"workload":"${workload}"`))
    .map((line) => JSON.parse(line) as T);
}
