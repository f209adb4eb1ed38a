// The bench's udp workload: how its medians become rows, ratios and chart points, and a short run of the runner
// (rxnet's echoes, the hand-written dgram one and the C ceiling against udploadgen), skipped without a C compiler.
import { benchRecords, runBench } from '../support/bench';
import { pointsOfUdp } from '../../bench/chart';
import { UDP_KINDS, udpAvailable, udpRows, udpSummary, type UdpKind, type UdpRecord } from '../../bench/udp';

const run = (server: UdpKind, rep: number, perSecond: number, cpuUs: number, window = 32): UdpRecord => ({
  workload: 'udp',
  server,
  rep,
  datagrams: perSecond,
  seconds: 1,
  perSecond,
  sent: perSecond,
  lost: 0,
  late: 0,
  stalls: 0,
  p50Us: 100,
  p99Us: 200,
  loadgenCpu: 0.5,
  window,
  size: 64,
  serverCpu: 1,
  serverCpuUsPerDatagram: cpuUs,
  interference: 0,
  attempts: 1,
});

describe('bench udp workload, its figures', () => {
  const records: UdpRecord[] = [
    ...[100, 120, 110].map((n, rep) => run('dgram', rep, n * 1000, 10)),
    ...[95, 105, 100].map((n, rep) => run('rxnet', rep, n * 1000, 11)),
    ...[80, 90, 85].map((n, rep) => run('rxnet-send', rep, n * 1000, 13)),
    ...[400, 410, 390].map((n, rep) => run('c-echo', rep, n * 1000, 1)),
    ...[100, 100, 100].map((n, rep) => run('dgram', rep, n * 1000, 10, 256)),
    ...[80, 85, 82].map((n, rep) => run('rxnet', rep, n * 1000, 12, 256)),
    ...[110, 110, 110].map((n, rep) => run('c-echo', rep, n * 1000, 1, 256)),
  ];

  it('gives one row per cell with the medians, rxnet ÷ dgram judged against 0.9, and whether the ceiling was near', () => {
    const [w32, w256] = udpRows(records);
    expect(w32).toMatchObject({ size: 64, window: 32, target: 0.9, met: true, nearCeiling: false });
    expect(w32.perSecond).toEqual({ dgram: 110_000, rxnet: 100_000, 'rxnet-send': 85_000, 'c-echo': 400_000 });
    expect(w32.ratio).toBeCloseTo(100 / 110);
    expect(w32.sendRatio).toBeCloseTo(85 / 110);
    expect(w32.cpuRatio).toBeCloseTo(1.1);
    expect(w256).toMatchObject({ window: 256, met: false, nearCeiling: true });
    expect(w256.ratio).toBeCloseTo(0.82);
    expect(Number.isNaN(w256.sendRatio)).toBe(true);
  });

  it('prints a line per server and cell, then the ratios with their verdicts', () => {
    const lines = udpSummary(records, 3);
    expect(lines[0]).toMatch(/^udp echo: medians of 3 run\(s\)/);
    expect(lines.some((l) => /^64 B, 32 in flight +rxnet +100\.0k +11\.00 +0$/.test(l))).toBe(true);
    expect(
      lines.some((l) => /^64 B, 32 in flight +rxnet 0\.91 ✓ \(aim ≥ 0\.9\), CPU 1\.10; rxnet-send 0\.77/.test(l)),
    ).toBe(true);
    expect(lines.some((l) => /^64 B, 256 in flight +rxnet 0\.82 ✗ .*near the ceiling/.test(l))).toBe(true);
  });

  it('charts datagrams/s (with its target) and CPU per datagram for each cell', () => {
    const points = pointsOfUdp(records);
    expect(points.map((p) => p.label)).toEqual([
      '64 B, 32 in flight datagrams/s',
      '64 B, 32 in flight CPU/datagram',
      '64 B, 32 in flight datagrams/s, send()',
      '64 B, 32 in flight CPU/datagram, send()',
      '64 B, 256 in flight datagrams/s',
      '64 B, 256 in flight CPU/datagram',
    ]);
    expect(points[0]).toMatchObject({ group: 'udp', against: 'dgram', target: 0.9 });
    expect(points[1]).toMatchObject({ lowerIsBetter: true });
  });
});

const available = udpAvailable();
// Without a C compiler the run is registered as skipped (never passed) and the title says why.
const describeWithCc = available.ok ? describe : describe.skip;
if (!available.ok) console.warn(`bench udp run skipped: ${available.reason}`);

describeWithCc(
  `bench runner, udp workload [${available.ok ? 'udploadgen built with cc' : `skipped: ${available.reason}`}]`,
  () => {
    it('runs every server once against udploadgen, each echo intact, and prints the ratios', async () => {
      const args = ['udp', '--quick', '--no-save', '--sizes', '64', '--udp-window', '8', '--duration', '300'];
      const { stdout } = await runBench(args);
      const records = benchRecords<UdpRecord>(stdout, 'udp');
      expect(records.map((r) => r.server).sort()).toEqual([...UDP_KINDS].sort());
      for (const r of records) {
        expect(r).toMatchObject({ window: 8, size: 64, late: 0 });
        expect(r.datagrams).toBeGreaterThan(0);
        expect(r.perSecond).toBeGreaterThan(0);
        expect(r.p99Us).toBeGreaterThanOrEqual(r.p50Us);
        expect(r.serverCpuUsPerDatagram).toBeGreaterThan(0);
      }
      expect(stdout).toMatch(/^64 B, 8 in flight +rxnet [\d.]+ [✓✗] \(aim ≥ 0\.9\), CPU [\d.]+; rxnet-send [\d.]+/m);
    }, 120_000);
  },
);
