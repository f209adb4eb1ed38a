// bench/report.ts: how the ratio table judges a cell, by throughput or, when the load generator
// was the bottleneck for both servers, by server CPU per message.
import { judged, summarize, TARGETS, type BenchKind, type RunRecord } from '../../bench/report';
import { cellTable } from '../../bench/table';

function run(server: BenchKind, messagesPerSec: number, serverCpuUsPerMsg: number, loadgenCpu: number): RunRecord {
  return {
    mode: 'lines',
    size: 64,
    conns: 1,
    inflight: 16,
    idle: 0,
    seconds: 1,
    messages: messagesPerSec,
    messagesPerSec,
    mbPerSec: (messagesPerSec * 64) / 1e6,
    p50us: 50,
    p99us: 100,
    maxUs: 200,
    verifiedBytes: messagesPerSec * 64,
    loadgenCpu,
    connectMs: 1,
    perConnMin: messagesPerSec,
    perConnMax: messagesPerSec,
    serverCpuUsPerMsg,
    serverCpu: (messagesPerSec * serverCpuUsPerMsg) / 1e6,
    interference: 0,
    serverFaultsPerMsg: 0,
    serverPid: 1,
    serverMallocTrim: undefined,
    workload: 'lines',
    server,
    reply: 'new',
    clientWrites: 'each',
    loadgen: 'c',
    rep: 0,
    attempts: 1,
  };
}

describe('bench report', () => {
  it('judges a cell by throughput while the load generator has room', () => {
    const result = judged({ mps: 90, cpu: 1, gen: 0.5 }, { mps: 100, cpu: 2, gen: 0.5 }, 1);
    expect(result).toEqual({ ratio: 0.9, cpuRatio: 0.5, target: '>= 1.00', met: false });
  });

  it('judges a generator-bound cell by server CPU per message, and says so', () => {
    const cheaper = judged({ mps: 99, cpu: 1, gen: 0.97 }, { mps: 100, cpu: 1.2, gen: 0.95 }, 0.95);
    expect(cheaper.met).toBe(true);
    expect(cheaper.target).toBe(`CPU <= ${(1 / 0.95).toFixed(2)} (generator-bound)`);
    const costlier = judged({ mps: 101, cpu: 1.5, gen: 0.97 }, { mps: 100, cpu: 1, gen: 0.95 }, 1);
    expect(costlier.met).toBe(false);
  });

  it('needs both servers to have saturated the generator before it judges by CPU', () => {
    const result = judged({ mps: 80, cpu: 1, gen: TARGETS.generatorBound }, { mps: 100, cpu: 2, gen: 0.6 }, 1);
    expect(result.target).toBe('>= 1.00');
    expect(result.met).toBe(false);
  });

  it('labels the summarized rows of a generator-bound cell and keeps the median load-generator CPU', () => {
    const runs = [
      run('rxnet', 150_000, 3, 0.98),
      run('plain', 160_000, 4, 0.97),
      run('plain-cork', 155_000, 3.5, 0.99),
    ];
    const { rows, medians } = summarize(runs, [], []);
    const main = rows.find((r) => r.against.startsWith('best plain'));
    expect(main).toMatchObject({ against: 'best plain (plain)', met: true });
    expect(main?.target).toContain('generator-bound');
    expect(main?.cpuRatio).toBeCloseTo(0.75);
    expect(medians.find((m) => m.server === 'rxnet')?.loadgenCpu).toBe(0.98);
  });

  it('makes one Markdown row per cell, every server a column, with the verdicts of the summary', () => {
    const runs = [run('rxnet', 300_000, 2, 0.4), run('plain', 200_000, 3, 0.4), run('plain-cork', 250_000, 2.5, 0.4)];
    runs.push({ ...run('go', 330_000, 1.8, 0.4) }, { ...run('rxnet', 300_000, 2, 0.4), conns: 100 });
    const table = cellTable(summarize(runs, [], []).medians).split('\n');
    expect(table[0]).toBe(
      '| cell | conns | plain | plain-cork | rxnet | netty | go | split2 | pipe | rxnet ÷ best plain | p99 ÷ best plain | rxnet ÷ faster peer | server CPU/msg ÷ best plain |',
    );
    expect(table[2]).toBe(
      '| lines 64 B new each | 1 | 200.0k | 250.0k | 300.0k |  | 330.0k |  |  | 1.20 ✓ | 1.00 ✓ | 0.91 ✗ | 0.80 |',
    );
    // A cell with rxnet alone has no baseline to judge by.
    expect(table[3]).toBe('| lines 64 B new each | 100 |  |  | 300.0k |  |  |  |  |  |  |  |  |');
    expect(table).toHaveLength(4);
  });
});
