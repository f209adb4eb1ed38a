// `npm run bench -- table FILE...`: the framed cells of saved results (bench/results/*.json) as a
// Markdown table, one row per cell and one column per server, with rxnet's ratios and whether
// they meet issue 20's targets. bench/README.md's "Current ratios" is made with it.
import * as fs from 'fs';
import { cellLabel, judged, kilo, TARGETS, type MedianRow } from './report';

interface Saved {
  started: string;
  commit?: string;
  medians: MedianRow[];
}

const SERVERS = ['plain', 'plain-cork', 'rxnet', 'rxnet-otel', 'netty', 'go', 'split2', 'pipe'];
/** Columns only a run that named them has (`--servers ...,rxnet-otel`). */
const WHEN_RUN = ['rxnet-otel'];

/** A cell's medians as `judged` takes them. */
const measure = (m: MedianRow) => ({ mps: m.messagesPerSec, cpu: m.serverCpuUsPerMsg, gen: m.loadgenCpu });

/** One Markdown row per framed cell of `medians` (bulk echo and memory are in the runner's own table). */
export function cellTable(medians: MedianRow[]): string {
  const cells = new Map<string, Map<string, MedianRow>>();
  for (const m of medians) {
    if (m.workload === 'echo') continue;
    const key = `${m.workload}|${m.size}|${m.reply}|${m.clientWrites}|${m.conns}`;
    if (!cells.has(key)) cells.set(key, new Map());
    cells.get(key)!.set(m.server, m);
  }
  const columns = SERVERS.filter((s) => !WHEN_RUN.includes(s) || medians.some((m) => m.server === s));
  const header = [
    'cell',
    'conns',
    ...columns,
    'rxnet ÷ best plain',
    'p99 ÷ best plain',
    'rxnet ÷ faster peer',
    'server CPU/msg ÷ best plain',
  ];
  const lines = [`| ${header.join(' | ')} |`, `|${header.map(() => ' --- ').join('|')}|`];
  for (const [key, servers] of cells) {
    const [workload, size, reply, clientWrites, conns] = key.split('|');
    const rx = servers.get('rxnet');
    if (!rx) continue;
    const best = (kinds: string[]) =>
      kinds
        .map((k) => servers.get(k))
        .filter((m): m is MedianRow => m !== undefined)
        .reduce<MedianRow | undefined>(
          (a, b) => (a === undefined || b.messagesPerSec > a.messagesPerSec ? b : a),
          undefined,
        );
    const plain = best(['plain', 'plain-cork']);
    const peer = best(['netty', 'go']);
    const many = Number(conns) > 1;
    const mark = (verdict: { ratio: number; met: boolean | null; target: string }) =>
      `${verdict.ratio.toFixed(2)}${verdict.target.includes('generator-bound') ? ' (gen-bound: by CPU)' : ''} ${verdict.met ? '✓' : '✗'}`;
    const vsPlain = plain
      ? mark(judged(measure(rx), measure(plain), many ? TARGETS.vsPlainAtMany : TARGETS.vsPlainAtOne))
      : '';
    const p99 = plain ? rx.p99us / plain.p99us : NaN;
    const vsPeer = peer ? mark(judged(measure(rx), measure(peer), TARGETS.vsPeers)) : '';
    const label = cellLabel(workload, Number(size), reply, clientWrites);
    lines.push(
      `| ${[
        label,
        conns,
        ...columns.map((s) => {
          const m = servers.get(s);
          return m ? kilo(m.messagesPerSec) : '';
        }),
        vsPlain,
        plain ? `${p99.toFixed(2)} ${p99 <= TARGETS.p99 ? '✓' : '✗'}` : '',
        vsPeer,
        plain ? (rx.serverCpuUsPerMsg / plain.serverCpuUsPerMsg).toFixed(2) : '',
      ].join(' | ')} |`,
    );
  }
  return lines.join('\n');
}

export function main(files: string[]): void {
  if (files.length === 0) throw new Error('usage: npm run bench -- table bench/results/<file>.json...');
  for (const file of files) {
    const saved = JSON.parse(fs.readFileSync(file, 'utf8')) as Saved;
    console.log(`\n${saved.started}${saved.commit ? ` (commit ${saved.commit})` : ''}: msg/s, medians\n`);
    console.log(cellTable(saved.medians));
  }
}
