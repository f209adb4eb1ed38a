// Smoke test of the benchmark runner: a short echo suite runs every run on its own server process, with the
// heap trim threshold fixed unless --default-malloc, and reports page faults; a short connection-scale run
// measures memory per idle connection twice; the slow consumer reads at issue 7's 10 MB/s by default.
import { benchRecords as recordsOf, runBench as bench } from '../support/bench';

interface ConnsLine {
  server: string;
  connections: number;
  heapPerConn: number;
  settledHeapPerConn: number;
  settleMs?: number;
}

/** Runs `npm run bench -- echo --quick --conns 1 --quiet-wait 0 --no-save ...flags` and parses its run records. */
async function echoRecords(
  flags: string[],
  env: Record<string, string> = {},
): Promise<{ stdout: string; records: EchoRecord[] }> {
  const { stdout } = await bench(['echo', '--quick', '--conns', '1', '--quiet-wait', '0', '--no-save', ...flags], env);
  const records = recordsOf<EchoRecord>(stdout, 'echo');
  return { stdout, records };
}

interface EchoRecord {
  workload: string;
  server: string;
  rep: number;
  messages: number;
  serverPid?: number;
  serverFaultsPerMsg?: number;
  serverMallocTrim?: string;
}

describe('bench runner', () => {
  it('gives every echo run a fresh server process with the trim threshold fixed, and reports its faults per message', async () => {
    const { stdout, records } = await echoRecords(['--reps', '2', '--servers', 'pipe,rxnet']);
    expect(records.map((r) => `${r.server}${r.rep}`).sort()).toEqual(['pipe0', 'pipe1', 'rxnet0', 'rxnet1']);
    for (const r of records) {
      expect(r.messages).toBeGreaterThan(0);
      expect(r.serverPid).toEqual(expect.any(Number));
      expect(r.serverFaultsPerMsg).toBeGreaterThanOrEqual(0);
      // As the server process itself read it from its environment.
      expect(r.serverMallocTrim).toBe(String(64 * 1024 * 1024));
    }
    expect(new Set(records.map((r) => r.serverPid)).size).toBe(4);
    expect(stdout).toMatch(/faults\/msg/);
    expect(stdout).toMatch(/echo servers with MALLOC_TRIM_THRESHOLD_=67108864/);
  }, 120_000);

  it("leaves glibc's own heap trimming to the echo servers with --default-malloc, and takes bulk runs from --bulk-reps", async () => {
    const { stdout, records } = await echoRecords(
      ['--bulk-reps', '2', '--servers', 'rxnet', '--default-malloc'],
      // A threshold the runner was given does not reach the servers either.
      { MALLOC_TRIM_THRESHOLD_: '131072' },
    );
    // --quick would make one run; --bulk-reps gives bulk echo two.
    expect(records.map((r) => `${r.server}${r.rep}`)).toEqual(['rxnet0', 'rxnet1']);
    for (const r of records) {
      expect(r.messages).toBeGreaterThan(0);
      expect(r.serverMallocTrim).toBeUndefined();
    }
    expect(stdout).toMatch(/echo servers with glibc's own heap trimming/);
  }, 120_000);
});

describe('bench runner, line cells', () => {
  it('runs a line cell in every asked reply and client style, and judges rxnet against the better plain form', async () => {
    const { stdout } = await bench([
      'lines',
      '--quick',
      '--sizes',
      '64',
      '--conns',
      '1',
      '--reply',
      'new,string',
      '--servers',
      'plain,plain-cork,rxnet',
      '--no-save',
    ]);
    const records = recordsOf<EchoRecord & { reply: string; clientWrites: string; loadgen: string }>(stdout, 'lines');
    const settings = new Set(records.map((r) => `${r.server} ${r.reply} ${r.clientWrites}`));
    for (const server of ['plain', 'plain-cork', 'rxnet'])
      for (const reply of ['new', 'string'])
        for (const writes of ['batch', 'each']) expect(settings).toContain(`${server} ${reply} ${writes}`);
    expect(records).toHaveLength(12);
    for (const r of records) {
      expect(r.messages).toBeGreaterThan(0);
      expect(['c', 'node']).toContain(r.loadgen);
    }
    // One judged row per cell against the better plain form, and the medians show the generator's CPU.
    for (const cell of [
      'lines 64 B new batch',
      'lines 64 B new each',
      'lines 64 B string batch',
      'lines 64 B string each',
    ])
      expect(stdout).toMatch(new RegExp(`^${cell} +1 .* best plain \\(plain(-cork)?\\)`, 'm'));
    expect(stdout).toMatch(/load generator \(cores\)/);
    expect(stdout).toMatch(/targets met: \d+ of \d+/);
  }, 120_000);
});

describe('bench runner, connection scale', () => {
  it('measures memory per idle connection right after accepting and again once V8 has shrunk its young generation', async () => {
    const { stdout } = await bench(['conns', '--quick', '--idle', '1000', '--active', '50', '--no-save']);
    const records = recordsOf<ConnsLine>(stdout, 'conns');
    expect(records.map((r) => r.server).sort()).toEqual(['plain', 'rxnet']);
    for (const r of records) {
      expect(r.connections).toBe(1000);
      // A connection keeps some heap, whenever it is measured.
      expect(r.heapPerConn).toBeGreaterThan(0);
      expect(r.settledHeapPerConn).toBeGreaterThan(0);
      // V8 shrank the young generation within the wait (it takes about 6 s here).
      expect(r.settleMs).toEqual(expect.any(Number));
    }
    expect(stdout).toMatch(/1000 idle, settled: RSS\/conn/);
    expect(stdout).toMatch(/1000 idle: RSS\/conn/);
  }, 120_000);
});

describe('bench runner, slow consumer', () => {
  const runSlow = (flags: string[]) => bench(['slow', '--no-save', ...flags]);

  it("reads at issue 7's 10 MB/s unless told otherwise", async () => {
    // 4 MiB at 10 MB/s: about 0.4 s per server.
    const { stdout } = await runSlow(['--slow-bytes', String(4 * 1024 * 1024), '--quiet-wait', '0']);
    const records = recordsOf<{ server: string; rate: number; bytes: number; mbPerSec: number }>(stdout, 'slow');
    expect(records.map((r) => r.server)).toEqual(['pipe', 'rxnet']);
    for (const r of records) {
      expect(r.rate).toBe(10e6);
      expect(r.bytes).toBe(4 * 1024 * 1024);
      // The reader really was held to its rate.
      expect(r.mbPerSec).toBeLessThan(12);
    }
    expect(stdout).toMatch(/slow: 4\.2 MB at 10 MB\/s, peak RSS/);
  }, 120_000);

  it('rejects a rate that is not a positive number', async () => {
    await expect(runSlow(['--slow-rate', '0'])).rejects.toMatchObject({
      code: 1,
      stderr: expect.stringContaining('--slow-rate must be a positive number'),
    });
  }, 60_000);
});
