// A StatsD-style metrics server over UDP on 8125: `name:value|c` counters (and `|g` gauges, `|ms` timers), each second's totals printed.
import { isIPv6 } from 'net';
import { Observable, asyncScheduler, bufferTime, defer, filter, ignoreElements, map, scan, switchMap, tap } from 'rxjs';
import type { SchedulerLike } from 'rxjs';
import { bindUdp } from '../lib';
import type { UdpSocket } from '../lib';
import { Log, consoleLog, demoArgs, integerFlag, stopOnSignal } from './support';

/** One well-formed line: a counter's increment (already scaled by its sample rate), a gauge, a timing. */
export type StatsdSample =
  | { readonly type: 'c'; readonly name: string; readonly value: number }
  | { readonly type: 'g'; readonly name: string; readonly value: number; readonly delta: boolean }
  | { readonly type: 'ms'; readonly name: string; readonly value: number };

/** What one datagram held: its well-formed lines, and how many others it had. */
export interface StatsdDatagram {
  readonly samples: readonly StatsdSample[];
  readonly bad: number;
}

/** Printable, no whitespace, none of StatsD's separators; `#` stays free for the demo's own notes. */
const NAME = /^[^\s:|@#]+$/;
const NUMBER = /^[+-]?(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?$/;

/**
 * Parses one StatsD line, `name:value|type[|@rate]`: `c` counts (`-1` too; `|@0.1` means one sample
 * in ten, so it counts 10), `g` sets a gauge (`+3`/`-3` move it), `ms` is a timing in ms. Returns
 * undefined for anything else.
 */
export function parseStatsdLine(line: string): StatsdSample | undefined {
  const colon = line.indexOf(':');
  const name = line.slice(0, colon);
  if (colon <= 0 || !NAME.test(name)) return undefined;
  const [text, type, rateField, ...rest] = line.slice(colon + 1).split('|');
  if (rest.length > 0 || !NUMBER.test(text)) return undefined;
  const value = Number(text);
  let rate = 1;
  if (rateField !== undefined) {
    rate = rateField.startsWith('@') && NUMBER.test(rateField.slice(1)) ? Number(rateField.slice(1)) : NaN;
    if (!(rate > 0 && rate <= 1) || type === 'g') return undefined;
  }
  if (!Number.isFinite(value)) return undefined;
  if (type === 'c') return { type, name, value: value / rate };
  if (type === 'g') return { type, name, value, delta: text[0] === '+' || text[0] === '-' };
  if (type === 'ms' && value >= 0) return { type, name, value };
  return undefined;
}

/** Parses a datagram: lines separated by `\n` (or `\r\n`); empty lines are skipped, others counted bad. */
export function parseStatsdDatagram(data: Buffer): StatsdDatagram {
  const samples: StatsdSample[] = [];
  let bad = 0;
  for (const raw of data.toString('utf8').split('\n')) {
    const line = raw.endsWith('\r') ? raw.slice(0, -1) : raw;
    if (line === '') continue;
    const sample = parseStatsdLine(line);
    if (sample === undefined) bad++;
    else samples.push(sample);
  }
  return { samples, bad };
}

/** Metric names one interval (and the gauges kept from one to the next) may hold; lines past it count as bad. */
export const MAX_METRICS = 10_000;

interface Timing {
  count: number;
  sum: number;
  min: number;
  max: number;
}

/** What one interval prints, and the gauges it leaves for the next. */
interface Flush {
  readonly lines: string[];
  readonly gauges: Map<string, number>;
}

/** Up to six decimals, no float noise (`0.1 + 0.2` prints 0.3). */
function format(n: number): string {
  return String(Math.round(n * 1e6) / 1e6);
}

/** Totals of one interval's datagrams, given the gauges so far. */
function flush(gauges: Map<string, number>, batch: readonly StatsdDatagram[], maxMetrics: number): Flush {
  const counters = new Map<string, number>();
  const timers = new Map<string, Timing>();
  const changed = new Set<string>();
  let bad = 0;
  let next = gauges;
  for (const { samples, bad: badLines } of batch) {
    bad += badLines;
    for (const s of samples) {
      if (s.type === 'c') {
        const total = counters.get(s.name);
        if (total === undefined && counters.size >= maxMetrics) bad++;
        else counters.set(s.name, (total ?? 0) + s.value);
      } else if (s.type === 'ms') {
        const t = timers.get(s.name);
        if (t === undefined && timers.size >= maxMetrics) bad++;
        else if (t === undefined) timers.set(s.name, { count: 1, sum: s.value, min: s.value, max: s.value });
        else {
          t.count++;
          t.sum += s.value;
          t.min = Math.min(t.min, s.value);
          t.max = Math.max(t.max, s.value);
        }
      } else {
        if (next === gauges) next = new Map(gauges);
        const last = next.get(s.name);
        if (last === undefined && next.size >= maxMetrics) bad++;
        else {
          next.set(s.name, s.delta ? (last ?? 0) + s.value : s.value);
          changed.add(s.name);
        }
      }
    }
  }
  const lines: [string, string][] = [];
  for (const [name, total] of counters) lines.push([name, `${name} ${format(total)}`]);
  for (const name of changed) lines.push([name, `${name} ${format(next.get(name)!)}`]);
  for (const [name, t] of timers) {
    const stats = `count=${t.count} min=${format(t.min)} mean=${format(t.sum / t.count)} max=${format(t.max)}`;
    lines.push([name, `${name} ${stats}`]);
  }
  lines.sort((a, b) => (a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : 0));
  const printed = lines.map(([, line]) => line);
  if (bad > 0) printed.push(`# ${bad} bad line${bad === 1 ? '' : 's'}`);
  return { lines: printed, gauges: next };
}

/**
 * Each interval's totals as the lines to print, for the intervals in which something came:
 * counters summed (`hits 3`), gauges that changed at their value (`temp 21.5`), timers as
 * `name count=… min=… mean=… max=…`, sorted by name, then `# N bad lines` if there were any.
 *
 * ```
 * datagrams  --a--a--b---|-------|--a------|
 * (1 s)      ------------x-------.---------y     x = ['hits 2', 'temp 20'], y = ['hits 1']
 * ```
 */
export function statsdTotals(
  datagrams$: Observable<StatsdDatagram>,
  intervalMs = 1000,
  scheduler: SchedulerLike = asyncScheduler,
  maxMetrics = MAX_METRICS,
): Observable<string[]> {
  // Gauges live as long as one subscription: a fresh Map for each.
  return defer(() =>
    datagrams$.pipe(
      bufferTime(intervalMs, scheduler),
      filter((batch) => batch.length > 0),
      scan((last: Flush, batch) => flush(last.gauges, batch, maxMetrics), { lines: [], gauges: new Map() }),
      map((f) => f.lines),
      filter((lines) => lines.length > 0),
    ),
  );
}

export interface StatsdOptions {
  port: number;
  /** Bind address (default 127.0.0.1; an IPv6 address binds a udp6 socket). */
  host?: string;
  /** How often totals are printed (default 1000 ms). */
  intervalMs?: number;
  log?: Log;
  /** Told the bound address (the real port when 0 was asked for). */
  bound?: (address: UdpSocket['local']) => void;
  scheduler?: SchedulerLike;
}

/** The server: binds, then prints each interval's totals of what it received until unsubscribed. */
export function statsdServer(options: StatsdOptions): Observable<never> {
  const log = options.log ?? consoleLog;
  const host = options.host ?? '127.0.0.1';
  return bindUdp({
    type: isIPv6(host) ? 'udp6' : 'udp4',
    port: options.port,
    address: host,
    bound: (address) => {
      log('statsd listening: ' + JSON.stringify(address));
      options.bound?.(address);
    },
  }).pipe(
    switchMap((socket) =>
      statsdTotals(
        socket.messages$.pipe(map((d) => parseStatsdDatagram(d.data))),
        options.intervalMs,
        options.scheduler,
      ),
    ),
    tap((lines) => lines.forEach((line) => log(line))),
    ignoreElements(),
  );
}

export async function main(argv: string[]): Promise<void> {
  const { port, values } = demoArgs(argv, 8125, { host: { type: 'string' }, interval: { type: 'string' } });
  const intervalMs = values.interval === undefined ? 1000 : integerFlag('--interval', values.interval, 1);
  const subscription = statsdServer({ port, host: values.host as string | undefined, intervalMs }).subscribe({
    error: (error) => {
      console.error('statsd failed:', error.code ?? '', error.message);
      process.exitCode = 1;
    },
  });
  stopOnSignal(subscription, () => console.log('statsd stopped'));
}

if (require.main === module) void main(process.argv.slice(2));
