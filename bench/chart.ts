// Charts of the bench's ratios as SVG: one panel per workload, one row per cell, rxnet ÷ each baseline as a dot on a
// log scale around 1.0, the target as a tick, met in green, missed in red.
import * as fs from 'fs';
import type { Row } from './report';
import { respRatios, type RespRecord } from './resp';
import type { TlsRecord } from './tls';
import { udpRows, type UdpRecord } from './udp';
import { median } from './report';

/** One ratio to draw: rxnet ÷ `against` in `label`'s cell of `group`'s panel. */
export interface ChartPoint {
  group: string;
  label: string;
  against: string;
  ratio: number;
  /** The target (a ratio), if the cell has one. */
  target?: number;
  /** True where lower is better (p99, CPU, memory): the target is a ceiling. */
  lowerIsBetter?: boolean;
}

/** What a saved results file holds that the chart reads. */
export interface SavedResults {
  started?: string;
  commit?: string;
  ratios?: Row[];
  resp?: RespRecord[];
  tls?: TlsRecord[];
  udp?: UdpRecord[];
}

/** The points of the rows the runner judged (echo, lines, length, ndjson, conns, slow). */
export function pointsOfRows(rows: readonly Row[]): ChartPoint[] {
  // Throughput, CPU and memory; the p99 rows stay in the tables.
  return rows
    .filter((row) => Number.isFinite(row.ratio) && row.ratio > 0 && !row.workload.endsWith(' p99'))
    .map((row) => {
      const m = /^([<>]=) ([\d.]+)/.exec(row.target);
      const lowerIsBetter = m?.[1] === '<=';
      return {
        group: groupOf(row.workload),
        label: `${row.workload} @${row.conns}`,
        against: row.against.replace(/^best plain \((.+)\)$/, '$1').replace(/^faster peer \((.+)\)$/, '$1'),
        ratio: row.ratio,
        target: m ? Number(m[2]) : undefined,
        lowerIsBetter,
      };
    });
}

/** The panel a judged row goes in: its workload's name. */
function groupOf(workload: string): string {
  if (/ idle|active of/.test(workload)) return 'conns: memory per idle connection, and active ones';
  if (workload.startsWith('slow')) return 'slow consumer';
  if (workload.startsWith('echo')) return 'bulk echo';
  return workload.split(' ')[0];
}

/** The points of the resp workload: the demo ÷ redis-server, rxnet's client ÷ ioredis. */
export function pointsOfResp(records: readonly RespRecord[]): ChartPoint[] {
  return respRatios([...records]).map((row) => ({
    group: 'resp',
    label: row.cell,
    against: row.baselineName,
    ratio: row.ratio,
    target: row.target > 0 ? row.target : undefined,
  }));
}

/** The points of the tls workload: connections per second and server CPU per connection, rxnet ÷ hand-written. */
export function pointsOfTls(records: readonly TlsRecord[]): ChartPoint[] {
  const of = (kind: string, pick: (r: TlsRecord) => number | undefined) =>
    median(
      records
        .filter((r) => r.kind === kind)
        .map(pick)
        .filter((v): v is number => v !== undefined),
    );
  const points: ChartPoint[] = [];
  for (const [ours, theirs] of [
    ['rxnet-tls', 'plain-tls'],
    ['rxnet-starttls', 'plain-starttls'],
  ]) {
    const rate = of(ours, (r) => r.perSecond) / of(theirs, (r) => r.perSecond);
    const cpu = of(ours, (r) => r.serverCpuUsPerConn) / of(theirs, (r) => r.serverCpuUsPerConn);
    if (rate > 0) points.push({ group: 'tls', label: `${ours} conns/s`, against: theirs, ratio: rate });
    if (cpu > 0)
      points.push({ group: 'tls', label: `${ours} CPU/conn`, against: theirs, ratio: cpu, lowerIsBetter: true });
  }
  return points;
}

/**
 * The points of the udp workload: datagrams/s and server CPU per datagram, rxnet ÷ the hand-written
 * dgram echo; rxnet's echo through `sendDatagrams` is judged, the one through `socket.send` shown.
 */
export function pointsOfUdp(records: readonly UdpRecord[]): ChartPoint[] {
  const points: ChartPoint[] = [];
  for (const row of udpRows(records)) {
    const cell = `${row.size} B, ${row.window} in flight`;
    const add = (label: string, ratio: number, extra: Partial<ChartPoint> = {}) => {
      if (ratio > 0) points.push({ group: 'udp', label: `${cell} ${label}`, against: 'dgram', ratio, ...extra });
    };
    add('datagrams/s', row.ratio, { target: row.target });
    add('CPU/datagram', row.cpuRatio, { lowerIsBetter: true });
    add('datagrams/s, send()', row.sendRatio);
    add('CPU/datagram, send()', row.sendCpuRatio, { lowerIsBetter: true });
  }
  return points;
}

/** Every point a saved results file gives. */
export function pointsOf(results: SavedResults): ChartPoint[] {
  return [
    ...pointsOfRows(results.ratios ?? []),
    ...pointsOfResp(results.resp ?? []),
    ...pointsOfTls(results.tls ?? []),
    ...pointsOfUdp(results.udp ?? []),
  ];
}

const LABEL_WIDTH = 330;
const PLOT_WIDTH = 520;
/** Room for the figures at the right of a row (the echo rows name up to five baselines). */
const VALUE_WIDTH = 420;
const ROW_HEIGHT = 16;
const PANEL_GAP = 34;
/** The ratios the x axis spans (log scale), and its grid. */
const MIN_RATIO = 0.25;
const MAX_RATIO = 2.5;
const GRID = [0.25, 0.5, 0.75, 1, 1.25, 1.5, 2, 2.5];

/** Where `ratio` lies on the plot (clamped to its ends). */
export function xOf(ratio: number): number {
  const clamped = Math.min(MAX_RATIO, Math.max(MIN_RATIO, ratio));
  return LABEL_WIDTH + (PLOT_WIDTH * Math.log(clamped / MIN_RATIO)) / Math.log(MAX_RATIO / MIN_RATIO);
}

function escape(text: string): string {
  return text.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;');
}

/** Whether `point` meets its target; undefined without one. */
export function meets(point: ChartPoint): boolean | undefined {
  if (point.target === undefined) return undefined;
  return point.lowerIsBetter ? point.ratio <= point.target : point.ratio >= point.target;
}

/**
 * The SVG: a panel per group in the order they come, a row per label, a dot per baseline (filled
 * for the first baseline of a row, hollow for others, such as the Netty and Go peers), the
 * target as a short vertical tick.
 */
export function chartSvg(points: readonly ChartPoint[], title: string): string {
  const groups = [...new Set(points.map((p) => p.group))];
  const parts: string[] = [];
  let y = 60;
  for (const group of groups) {
    const ofGroup = points.filter((p) => p.group === group);
    const labels = [...new Set(ofGroup.map((p) => p.label))];
    parts.push(`<text x="8" y="${y}" class="group">${escape(group)}</text>`);
    y += 10;
    const plotTop = y;
    const plotBottom = y + labels.length * ROW_HEIGHT;
    for (const ratio of GRID) {
      const x = xOf(ratio).toFixed(1);
      const cls = ratio === 1 ? 'one' : 'grid';
      parts.push(`<line x1="${x}" y1="${plotTop}" x2="${x}" y2="${plotBottom}" class="${cls}"/>`);
      parts.push(`<text x="${x}" y="${plotBottom + 12}" class="tick">${ratio}</text>`);
    }
    labels.forEach((label, i) => {
      const rowY = plotTop + i * ROW_HEIGHT + ROW_HEIGHT / 2;
      parts.push(`<text x="${LABEL_WIDTH - 8}" y="${rowY + 4}" class="label">${escape(label)}</text>`);
      const ofRow = ofGroup.filter((p) => p.label === label);
      const values: string[] = [];
      ofRow.forEach((point, j) => {
        const x = xOf(point.ratio).toFixed(1);
        const met = meets(point);
        const cls = met === undefined ? 'none' : met ? 'met' : 'missed';
        if (point.target !== undefined) {
          const tx = xOf(point.target).toFixed(1);
          parts.push(`<line x1="${tx}" y1="${rowY - 5}" x2="${tx}" y2="${rowY + 5}" class="target"/>`);
        }
        const shape = j === 0 ? 'first' : 'other';
        parts.push(
          `<circle cx="${x}" cy="${rowY}" r="4" class="${cls} ${shape}" data-ratio="${point.ratio.toFixed(3)}">` +
            `<title>${escape(`${label}: rxnet ÷ ${point.against} = ${point.ratio.toFixed(2)}`)}</title></circle>`,
        );
        values.push(`${point.ratio.toFixed(2)} ${point.against}`);
      });
      parts.push(
        `<text x="${LABEL_WIDTH + PLOT_WIDTH + 10}" y="${rowY + 4}" class="value">${escape(values.join(', '))}</text>`,
      );
    });
    y = plotBottom + PANEL_GAP;
  }
  const width = LABEL_WIDTH + PLOT_WIDTH + VALUE_WIDTH;
  const height = y;
  return [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" viewBox="0 0 ${width} ${height}" font-family="sans-serif" font-size="11">`,
    '<style>',
    '.group{font-weight:bold;font-size:13px}.label{text-anchor:end}.tick{text-anchor:middle;fill:#666;font-size:9px}',
    '.grid{stroke:#ddd}.one{stroke:#333;stroke-width:1.5}.target{stroke:#333;stroke-width:2}',
    '.met{fill:#2a9d3a;stroke:#2a9d3a}.missed{fill:#d33;stroke:#d33}.none{fill:#777;stroke:#777}',
    '.other{fill:#fff;stroke-width:2}.value{fill:#444}',
    '</style>',
    `<rect width="${width}" height="${height}" fill="#fff"/>`,
    `<text x="8" y="20" font-size="14" font-weight="bold">${escape(title)}</text>`,
    `<text x="8" y="34" fill="#555">rxnet ÷ baseline (log scale; right of 1 is rxnet faster, except rows marked CPU, p99, memory); filled: the first baseline, hollow: others (Netty, Go); tick: target; green met, red missed</text>`,
    ...parts,
    '</svg>',
    '',
  ].join('\n');
}

/** Reads saved results files and writes one chart of them all to `out`. */
export function chartFiles(files: readonly string[], out: string): void {
  const points: ChartPoint[] = [];
  const dates: string[] = [];
  for (const file of files) {
    const results = JSON.parse(fs.readFileSync(file, 'utf8')) as SavedResults;
    points.push(...pointsOf(results));
    if (results.started) dates.push(results.started.slice(0, 16).replace('T', ' '));
  }
  if (points.length === 0) throw new Error(`no ratios in ${files.join(', ')}`);
  const when = dates.length === 0 ? '' : ` (runs of ${[...new Set(dates)].join(', ')} UTC)`;
  fs.writeFileSync(out, chartSvg(points, `rxnet bench${when}`));
}
