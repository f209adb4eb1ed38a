// The bench's charts: ratios read from saved results (judged rows, resp, tls) and drawn as an SVG of one panel per
// workload, each dot where its ratio lies on the log scale, coloured by its target.
import { chartSvg, meets, pointsOfRows, pointsOfTls, xOf, type ChartPoint } from '../../bench/chart';
import type { Row } from '../../bench/report';
import type { TlsRecord } from '../../bench/tls';

const row = (workload: string, conns: number, against: string, ratio: number, target: string): Row => ({
  workload,
  conns,
  rxnet: '',
  against,
  baseline: '',
  ratio,
  target,
  met: null,
});

describe('bench charts', () => {
  it('reads judged rows: throughput and memory, not p99; the target and its direction; panels by workload', () => {
    const points = pointsOfRows([
      row('lines 64 B cut batch', 1, 'best plain (plain-cork)', 1.02, '>= 1.00'),
      row('lines 64 B cut batch p99', 1, 'plain-cork', 0.9, '<= 1.1'),
      row('lines 64 B cut batch', 1, 'faster peer (go)', 0.8, '>= 1.00'),
      row('10000 idle: heap/conn', 10000, 'plain', 1.3, '<= 1.5'),
    ]);
    expect(points).toEqual([
      {
        group: 'lines',
        label: 'lines 64 B cut batch @1',
        against: 'plain-cork',
        ratio: 1.02,
        target: 1,
        lowerIsBetter: false,
      },
      { group: 'lines', label: 'lines 64 B cut batch @1', against: 'go', ratio: 0.8, target: 1, lowerIsBetter: false },
      {
        group: 'conns: memory per idle connection, and active ones',
        label: '10000 idle: heap/conn @10000',
        against: 'plain',
        ratio: 1.3,
        target: 1.5,
        lowerIsBetter: true,
      },
    ]);
    expect(points.map(meets)).toEqual([true, false, true]);
  });

  it('reads the tls records as rxnet ÷ hand-written medians, CPU lower-is-better', () => {
    const rec = (kind: TlsRecord['kind'], perSecond: number, cpu: number): TlsRecord => ({
      workload: 'tls',
      kind,
      rep: 1,
      connections: 1,
      total: 1,
      perSecond,
      p50: 1,
      p99: 1,
      errors: 0,
      serverCpuUsPerConn: cpu,
    });
    const points = pointsOfTls([rec('plain-tls', 500, 800), rec('rxnet-tls', 550, 1000)]);
    expect(points).toEqual([
      { group: 'tls', label: 'rxnet-tls conns/s', against: 'plain-tls', ratio: 1.1 },
      { group: 'tls', label: 'rxnet-tls CPU/conn', against: 'plain-tls', ratio: 1.25, lowerIsBetter: true },
    ]);
  });

  it('draws a panel per group and a dot per ratio at its place on the log scale, labels escaped', () => {
    const points: ChartPoint[] = [
      { group: 'lines', label: 'a <b> & c', against: 'plain', ratio: 1, target: 1 },
      { group: 'lines', label: 'a <b> & c', against: 'go', ratio: 0.5, target: 1 },
      { group: 'resp', label: 'GET', against: 'redis-server', ratio: 2 },
    ];
    const svg = chartSvg(points, 'test');
    expect(svg.startsWith('<svg xmlns="http://www.w3.org/2000/svg"')).toBe(true);
    expect(svg.trim().endsWith('</svg>')).toBe(true);
    expect(svg).toContain('>lines</text>');
    expect(svg).toContain('>resp</text>');
    expect(svg).toContain('a &lt;b&gt; &amp; c');
    expect(svg).not.toContain('a <b>');
    const circles = [
      ...svg.matchAll(/<circle cx="([\d.]+)" cy="([\d.]+)" r="4" class="(\w+) (\w+)" data-ratio="([\d.]+)">/g),
    ];
    expect(circles.map((c) => [c[3], c[4], c[5]])).toEqual([
      ['met', 'first', '1.000'],
      ['missed', 'other', '0.500'],
      ['none', 'first', '2.000'],
    ]);
    expect(Number(circles[0][1])).toBeCloseTo(xOf(1), 1);
    expect(Number(circles[1][1])).toBeLessThan(Number(circles[0][1]));
    expect(Number(circles[2][1])).toBeGreaterThan(Number(circles[0][1]));
    // Log scale: halving and doubling lie the same distance from 1.
    expect(xOf(1) - xOf(0.5)).toBeCloseTo(xOf(2) - xOf(1), 6);
    // Tags balance (a cheap well-formedness check).
    for (const tag of ['svg', 'text', 'title', 'style']) {
      expect(svg.split(`<${tag}`).length).toBe(svg.split(`</${tag}>`).length);
    }
  });
});
