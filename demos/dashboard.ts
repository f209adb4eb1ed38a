// Live dashboard: a demo server (chat, idle-server) with a loopback web page that charts its connections, throughput and queues.
import * as fs from 'fs';
import * as http from 'http';
import type { AddressInfo } from 'net';
import * as path from 'path';
import { Observable, asyncScheduler, interval } from 'rxjs';
import type { ObservableInput, SchedulerLike } from 'rxjs';
import { listen, serverMetrics } from '../lib';
import type { BoundAddress, ConnectionMetrics, ServerEvent, ServerMetrics } from '../lib';
import { DEFAULT_CHAT_PORT, chatServer } from './chat';
import { DEFAULT_IDLE_MS, idleApp } from './idle-server';
import { consoleLog, demoArgs, integerFlag, shutDownOnSignals } from './support';
import type { Log } from './support';

/** The demos the dashboard can run: those whose server takes our server events (chat's `metrics`, idle-server's `idleApp`). */
export const DASHBOARD_DEMOS = ['chat', 'idle-server'] as const;
export type DashboardDemo = (typeof DASHBOARD_DEMOS)[number];
/** Each demo's own default port (idle-server's is 8108). */
const DEFAULT_PORTS: Record<DashboardDemo, number> = { chat: DEFAULT_CHAT_PORT, 'idle-server': 8108 };
export const DEFAULT_HTTP_PORT = 8080;
export const DEFAULT_SAMPLE_MS = 250;

/** One sample, as `/events` sends it (one `data:` line of JSON per event). */
export interface DashboardSample {
  /** When it was taken, in milliseconds since the epoch. */
  readonly t: number;
  readonly demo: DashboardDemo;
  /** True while the demo server listens. */
  readonly listening: boolean;
  /** Connections open now, the most open at once, accepted in all. */
  readonly open: number;
  readonly peakOpen: number;
  readonly accepted: number;
  /** Bytes read and written in all, and per second over the last sampling interval. */
  readonly bytesRead: number;
  readonly bytesWritten: number;
  readonly inPerSecond: number;
  readonly outPerSecond: number;
  /** Values waiting in the open connections' sinks now: in all, and in the longest queue. */
  readonly queued: number;
  readonly longestQueue: number;
  /** The longest any sink's queue has been since the start. */
  readonly peakQueued: number;
  /** Times a socket's buffer was full (`writable$` went false), and values dropped by sinks. */
  readonly notWritable: number;
  readonly messagesDropped: number;
}

export interface DashboardOptions {
  /** The demo server to run and watch (default `chat`). */
  demo?: DashboardDemo;
  /** The demo server's port (0: any free one). */
  port: number;
  /** The demo server's bind address; all addresses when omitted, as the demos do. */
  host?: string;
  /** The web page's port on 127.0.0.1 (0: any free one); it never binds another address. */
  httpPort: number;
  /** Milliseconds between samples (default 250); a change in the connection count is sent at once. */
  sampleEvery?: number;
  log?: Log;
  /** Where the demo server listens, once it does. */
  listening?: (address: BoundAddress) => void;
  /** Where the web page is served, once it is. */
  httpListening?: (address: AddressInfo) => void;
  /** Graceful shutdown of the demo server; the dashboard completes once the demo server has. */
  shutdown?: ObservableInput<unknown> | AbortSignal;
  /** Scheduler of the sampling (and of the demo's timers). */
  scheduler?: SchedulerLike;
}

/** What the page may load, read once per subscription. */
function assets(): Map<string, { type: string; body: Buffer }> {
  const uplot = (file: string) => fs.readFileSync(require.resolve(`uplot/dist/${file}`));
  return new Map([
    ['/', { type: 'text/html; charset=utf-8', body: fs.readFileSync(path.join(__dirname, 'dashboard', 'index.html')) }],
    ['/uPlot.iife.min.js', { type: 'text/javascript; charset=utf-8', body: uplot('uPlot.iife.min.js') }],
    ['/uPlot.min.css', { type: 'text/css; charset=utf-8', body: uplot('uPlot.min.css') }],
  ]);
}

/** Only names of the loopback interface: a page on another name (DNS rebinding) gets nothing. */
const LOOPBACK_HOST = /^(127\.0\.0\.1|localhost|\[::1\])(:\d+)?$/i;

/** A page watching `/events`; a viewer that reads slowly skips samples instead of piling them up. */
interface Viewer {
  readonly res: http.ServerResponse;
  readonly who: string;
  blocked: boolean;
}

/**
 * Runs a demo server and serves a page on `127.0.0.1:httpPort` that shows its figures live.
 *
 * ```
 * demo server events ──▶ serverMetrics() ──┬─ every sampleEvery ms ──▶ /events (SSE) ──▶ page: numbers, uPlot charts
 *                                          └─ open count changed ────▶ (sent at once)
 * ```
 *
 * `/` is the page, `/uPlot.*` the chart library from `node_modules/uplot`, `/events` a stream of
 * {@link DashboardSample}s as Server-Sent Events: one at once, then one per interval and one on
 * every change in the connection count. Byte rates are taken at the interval only. Queue figures
 * come from the sinks given a connection's `send` stats (the chat's hub does); idle-server echoes
 * with `pauseSource` and reports none. A page that goes away is forgotten; unsubscribing ends the
 * pages' streams and closes both servers. The demo's failure (a port in use) is the error
 * notification, as is the web server's.
 */
export function dashboard(options: DashboardOptions): Observable<never> {
  const demo = options.demo ?? 'chat';
  if (!DASHBOARD_DEMOS.includes(demo)) throw new Error(`--demo must be one of ${DASHBOARD_DEMOS.join(', ')}`);
  const every = options.sampleEvery ?? DEFAULT_SAMPLE_MS;
  if (!Number.isInteger(every) || every < 10) throw new Error(`sampleEvery must be an integer >= 10 ms, got ${every}`);
  const log = options.log ?? consoleLog;
  const scheduler = options.scheduler ?? asyncScheduler;

  return new Observable<never>((subscriber) => {
    const files = assets();
    const metrics = serverMetrics();
    /** The meters of the open connections, for their queues now. */
    const meters = new Map<number, ConnectionMetrics>();
    const viewers = new Set<Viewer>();
    let open = 0;
    let rates = { t: scheduler.now(), bytesRead: 0, bytesWritten: 0, inPerSecond: 0, outPerSecond: 0 };

    const sample = (tick: boolean): DashboardSample => {
      const s = metrics.snapshot();
      const t = scheduler.now();
      if (tick) {
        const seconds = (t - rates.t) / 1000;
        rates = {
          t,
          bytesRead: s.bytesRead,
          bytesWritten: s.bytesWritten,
          inPerSecond: seconds > 0 ? Math.round((s.bytesRead - rates.bytesRead) / seconds) : 0,
          outPerSecond: seconds > 0 ? Math.round((s.bytesWritten - rates.bytesWritten) / seconds) : 0,
        };
      }
      let queued = 0;
      let longestQueue = 0;
      for (const meter of meters.values()) {
        queued += meter.send.queued;
        longestQueue = Math.max(longestQueue, meter.send.queued);
      }
      return {
        t,
        demo,
        listening: s.listening,
        open: s.open,
        peakOpen: s.peakOpen,
        accepted: s.accepted,
        bytesRead: s.bytesRead,
        bytesWritten: s.bytesWritten,
        inPerSecond: rates.inPerSecond,
        outPerSecond: rates.outPerSecond,
        queued,
        longestQueue,
        peakQueued: s.peakQueued,
        notWritable: s.notWritable,
        messagesDropped: s.messagesDropped,
      };
    };

    const write = (viewer: Viewer, frame: string) => {
      if (viewer.blocked) return;
      if (!viewer.res.write(frame)) {
        viewer.blocked = true;
        viewer.res.once('drain', () => (viewer.blocked = false));
      }
    };
    const broadcast = (tick: boolean) => {
      if (!tick && viewers.size === 0) return;
      // Rates follow every tick, watched or not, so a page that opens late sees the last interval's.
      const s = sample(tick);
      if (viewers.size === 0) return;
      const frame = `data: ${JSON.stringify(s)}\n\n`;
      for (const viewer of viewers) write(viewer, frame);
    };

    // The metrics follow the server; we also keep the open connections' meters and tell a new count at once.
    const events: ServerMetrics['events'] = {
      next: (event: ServerEvent) => {
        metrics.events.next(event);
        if (event.type === 'connection' || event.type === 'upgrade')
          meters.set(event.connection.id, metrics.connection(event.connection));
        if (event.type === 'upgrade') meters.delete(event.previous.id);
        if (event.type === 'disconnect') meters.delete(event.connection.id);
        if ('open' in event && event.open !== open) {
          open = event.open;
          broadcast(false);
        }
      },
    };
    const watched: ServerMetrics = {
      events,
      metrics$: metrics.metrics$,
      snapshot: () => metrics.snapshot(),
      connection: (conn) => metrics.connection(conn),
    };

    const web = http.createServer((req, res) => {
      res.setHeader('x-content-type-options', 'nosniff');
      res.setHeader('cache-control', 'no-store');
      if (!LOOPBACK_HOST.test(req.headers.host ?? '')) {
        res.writeHead(403, { 'content-type': 'text/plain' }).end('loopback names only\n');
        return;
      }
      if (req.method !== 'GET' && req.method !== 'HEAD') {
        res.writeHead(405, { allow: 'GET, HEAD', 'content-type': 'text/plain' }).end('GET only\n');
        return;
      }
      // The path as sent, not parsed: a target URL cannot parse ('http://[') must not throw out of here.
      const pathname = (req.url ?? '/').split('?', 1)[0];
      if (pathname === '/events') {
        // HEAD: the headers alone, and no viewer kept for a stream nobody reads.
        if (req.method === 'HEAD') {
          res.writeHead(200, { 'content-type': 'text/event-stream' }).end();
          return;
        }
        const viewer: Viewer = { res, who: `${req.socket.remoteAddress}:${req.socket.remotePort}`, blocked: false };
        res.writeHead(200, { 'content-type': 'text/event-stream' });
        viewers.add(viewer);
        log(`viewer ${viewer.who} connected (${viewers.size} watching)`);
        res.once('close', () => {
          viewers.delete(viewer);
          log(`viewer ${viewer.who} left (${viewers.size} watching)`);
        });
        // A browser whose stream broke retries after a second.
        write(viewer, `retry: 1000\ndata: ${JSON.stringify(sample(false))}\n\n`);
        return;
      }
      const file = files.get(pathname);
      if (file === undefined) {
        res.writeHead(404, { 'content-type': 'text/plain' }).end('not found\n');
        return;
      }
      res.writeHead(200, { 'content-type': file.type, 'content-length': file.body.length });
      res.end(req.method === 'HEAD' ? undefined : file.body);
    });
    web.on('error', (error) => subscriber.error(error));
    web.listen(options.httpPort, '127.0.0.1', () => {
      const address = web.address() as AddressInfo;
      log(`dashboard listening: ${JSON.stringify(address)}, open http://127.0.0.1:${address.port}/`);
      options.httpListening?.(address);
    });

    const server = demoServer(demo, options, watched, log).subscribe({
      error: (error) => subscriber.error(error),
      complete: () => subscriber.complete(),
    });
    const ticks = interval(every, scheduler).subscribe(() => broadcast(true));

    return () => {
      ticks.unsubscribe();
      server.unsubscribe();
      broadcast(false);
      for (const viewer of viewers) viewer.res.end();
      viewers.clear();
      meters.clear();
      web.close();
      web.closeAllConnections();
    };
  });
}

/** The demo's server, its server events going to `metrics`. */
function demoServer(demo: DashboardDemo, options: DashboardOptions, metrics: ServerMetrics, log: Log) {
  const { port, host, listening, shutdown, scheduler } = options;
  switch (demo) {
    case 'chat':
      return chatServer({ port, host, log, listening, shutdown, scheduler, metrics });
    case 'idle-server':
      return idleApp(
        listen({
          port,
          host,
          events: metrics.events,
          // On Ctrl-C, echoing connections get what chat members get before they are destroyed.
          shutdown,
          gracePeriod: 5000,
          scheduler,
          listening: (address) => {
            log(`idle server listening on ${JSON.stringify(address)}, idle timeout ${DEFAULT_IDLE_MS} ms`);
            listening?.(address);
          },
        }),
        { log, scheduler },
      );
  }
}

/**
 * `npm run demo -- dashboard [--demo chat|idle-server] [--port N] [--host H] [--http-port 8080] [--every MS]`:
 * the demo server on its usual port, the page on http://127.0.0.1:8080/. Ctrl-C shuts the demo
 * down gracefully (the chat says goodbye), twice forces.
 */
export async function main(argv: string[]): Promise<void> {
  const { port: given, values } = demoArgs(argv, DEFAULT_CHAT_PORT, {
    demo: { type: 'string', default: 'chat' },
    host: { type: 'string' },
    'http-port': { type: 'string', default: String(DEFAULT_HTTP_PORT) },
    every: { type: 'string', default: String(DEFAULT_SAMPLE_MS) },
  });
  const demo = values.demo as DashboardDemo;
  if (!DASHBOARD_DEMOS.includes(demo)) throw new Error(`--demo must be one of ${DASHBOARD_DEMOS.join(', ')}`);
  const shutdown = new AbortController();
  const subscription = dashboard({
    demo,
    port: values.port === undefined ? DEFAULT_PORTS[demo] : given,
    host: values.host as string | undefined,
    httpPort: integerFlag('--http-port', values['http-port'], 0, 65535),
    sampleEvery: integerFlag('--every', values.every, 10),
    shutdown: shutdown.signal,
  }).subscribe({
    error: (error) => {
      console.error('dashboard error:', error.code ?? '', error.message);
      process.exitCode = 1;
    },
  });
  shutDownOnSignals(subscription, shutdown, 'shutting down (Ctrl-C again to force)');
}

if (require.main === module) void main(process.argv.slice(2));
