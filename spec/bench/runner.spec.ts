// Smoke test of the benchmark runner: a short echo suite runs every run on its own server process and reports page faults.
import { execFile } from 'child_process';
import * as path from 'path';
import { promisify } from 'util';

const ROOT = path.resolve(__dirname, '..', '..');

interface EchoRecord {
  workload: string;
  server: string;
  rep: number;
  messages: number;
  serverPid?: number;
  serverFaultsPerMsg?: number;
}

describe('bench runner', () => {
  it('gives every echo run a fresh server process and reports its faults per message', async () => {
    const { stdout } = await promisify(execFile)(
      process.execPath,
      [
        require.resolve('ts-node/dist/bin.js'),
        '--transpile-only',
        'bench/run.ts',
        'echo',
        '--quick',
        '--reps',
        '2',
        '--conns',
        '1',
        '--servers',
        'pipe,rxnet',
        '--quiet-wait',
        '0',
        '--no-save',
      ],
      { cwd: ROOT, maxBuffer: 16 * 1024 * 1024 },
    );
    const records = stdout
      .split('\n')
      .filter((line) => line.startsWith('{"workload":"echo"'))
      .map((line) => JSON.parse(line) as EchoRecord);
    expect(records.map((r) => `${r.server}${r.rep}`).sort()).toEqual(['pipe0', 'pipe1', 'rxnet0', 'rxnet1']);
    for (const r of records) {
      expect(r.messages).toBeGreaterThan(0);
      expect(r.serverPid).toEqual(expect.any(Number));
      expect(r.serverFaultsPerMsg).toBeGreaterThanOrEqual(0);
    }
    expect(new Set(records.map((r) => r.serverPid)).size).toBe(4);
    expect(stdout).toMatch(/faults\/msg/);
  }, 120_000);
});
