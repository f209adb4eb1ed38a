// The dashboard demo: its Server-Sent Events follow the chat's connections (read over plain HTTP), and in a real
// headless Chromium its page shows ten raw clients come and go, with uPlot charts drawn.
import { spawn } from 'child_process';
import * as fs from 'fs';
import * as http from 'http';
import type * as net from 'net';
import * as os from 'os';
import * as path from 'path';
import { ReplaySubject, filter, firstValueFrom, timeout } from 'rxjs';
import type { Subscription } from 'rxjs';
import { chromium } from 'playwright-core';
import type { Browser, Page } from 'playwright-core';
import { dashboard } from '../../demos/dashboard';
import type { DashboardDemo, DashboardSample } from '../../demos/dashboard';
import { closed, expectTcpHandlesBackTo, plainConnect, tcpHandleCount } from '../support/net';

// The little of the DOM that the page functions use: they run in Chromium, and the specs compile without lib "dom".
declare const document: {
  querySelector(selector: string): { textContent: string | null; getAttribute(name: string): string | null } | null;
};
interface Canvas {
  width: number;
  height: number;
  getContext(kind: '2d'): { getImageData(x: number, y: number, w: number, h: number): { data: Uint8ClampedArray } };
}

/** Bound on every wait: a loaded CI machine answers late, a broken page never. */
const WAIT_MS = 10_000;

const CHROMIUM = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';
const MISSING = `no Chromium at ${CHROMIUM} (Debian: apt-get install chromium; or set CHROMIUM_PATH)`;
const hasChromium = fs.existsSync(CHROMIUM);
// Without Chromium the browser test is registered as skipped, never passed.
const describeWithChromium = hasChromium ? describe : describe.skip;
if (!hasChromium) console.warn(`dashboard browser spec skipped: ${MISSING}`);

interface Running {
  chatPort: number;
  httpPort: number;
  subscription: Subscription;
  /** Every line the demo logged, replayed to each waiter. */
  lines: ReplaySubject<string>;
}

async function start(demo: DashboardDemo = 'chat'): Promise<Running> {
  const chat = new ReplaySubject<number>(1);
  const web = new ReplaySubject<number>(1);
  const lines = new ReplaySubject<string>();
  const subscription = dashboard({
    demo,
    port: 0,
    host: '127.0.0.1',
    httpPort: 0,
    log: (line) => lines.next(line),
    listening: (address) => typeof address !== 'string' && chat.next(address.port),
    httpListening: (address) => web.next(address.port),
  }).subscribe({
    error: (error) => {
      chat.error(error);
      web.error(error);
    },
  });
  return { chatPort: await firstValueFrom(chat), httpPort: await firstValueFrom(web), subscription, lines };
}

/** Resolves with the first logged line matching `pattern`. */
const logged = (run: Running, pattern: RegExp) =>
  firstValueFrom(
    run.lines.pipe(
      filter((line) => pattern.test(line)),
      timeout({ first: WAIT_MS, with: () => Promise.reject(new Error(`nothing logged matching ${pattern}`)) }),
    ),
  );

/** GET `path` with `headers`; resolves with the status, headers and body. */
function get(port: number, path: string, headers: http.OutgoingHttpHeaders = {}) {
  return new Promise<{ status: number; type: string | undefined; body: string }>((resolve, reject) => {
    http
      .get({ host: '127.0.0.1', port, path, headers, agent: false }, (res) => {
        let body = '';
        res.setEncoding('utf8');
        res.on('data', (chunk: string) => (body += chunk));
        res.once('end', () => resolve({ status: res.statusCode ?? 0, type: res.headers['content-type'], body }));
      })
      .once('error', reject);
  });
}

/** A plain HTTP reader of `/events`: every sample it has parsed, and a bounded wait for one that fits. */
class EventsReader {
  readonly samples: DashboardSample[] = [];
  /** Where the next `until` starts looking. */
  private next = 0;
  /** The stream's content type, once its headers came. */
  type: string | undefined;
  private readonly arrived = new ReplaySubject<DashboardSample>();
  private readonly request: http.ClientRequest;
  /** Resolves when the server ends the stream. */
  readonly ended: Promise<void>;

  constructor(port: number) {
    let pending = '';
    let end: () => void;
    this.ended = new Promise((resolve) => (end = resolve));
    this.request = http.get({ host: '127.0.0.1', port, path: '/events', agent: false }, (res) => {
      this.type = res.headers['content-type'];
      res.setEncoding('utf8');
      res.on('data', (chunk: string) => {
        pending += chunk;
        const events = pending.split('\n\n');
        pending = events.pop()!;
        for (const event of events) {
          const data = event.split('\n').find((line) => line.startsWith('data: '));
          if (data === undefined) continue;
          const sample = JSON.parse(data.slice(6)) as DashboardSample;
          this.samples.push(sample);
          this.arrived.next(sample);
        }
      });
      res.once('end', () => end());
    });
    this.request.once('error', () => end());
  }

  /** The first sample after the one the last `until` found (read already or not) that satisfies `test`. */
  async until(what: string, test: (s: DashboardSample) => boolean): Promise<DashboardSample> {
    const found = await firstValueFrom(
      this.arrived.pipe(
        filter((sample) => this.samples.indexOf(sample) >= this.next && test(sample)),
        timeout({ first: WAIT_MS, with: () => Promise.reject(new Error(`no sample with ${what}`)) }),
      ),
    );
    this.next = this.samples.indexOf(found) + 1;
    return found;
  }

  close(): void {
    this.request.destroy();
  }
}

/** Reads from `socket` until `pattern` matches what came. */
function reads(socket: net.Socket, pattern: RegExp): Promise<string> {
  return new Promise((resolve, reject) => {
    let got = '';
    const timer = setTimeout(() => done(new Error(`never read ${pattern}; got ${JSON.stringify(got)}`)), WAIT_MS);
    const onData = (chunk: Buffer) => {
      got += chunk.toString('utf8');
      if (pattern.test(got)) done();
    };
    const done = (error?: Error) => {
      clearTimeout(timer);
      socket.removeListener('data', onData);
      if (error) reject(error);
      else resolve(got);
    };
    socket.on('data', onData);
  });
}

/** Ends `socket` and resolves once it has closed (reading what is left, so the peer's FIN is seen). */
async function hangUp(socket: net.Socket): Promise<void> {
  socket.resume().end();
  await closed(socket);
}

describe('dashboard demo: /events over plain HTTP', () => {
  let run: Running | undefined;
  let reader: EventsReader | undefined;
  let handles = 0;

  beforeEach(() => {
    handles = tcpHandleCount();
  });

  afterEach(async () => {
    reader?.close();
    run?.subscription.unsubscribe();
    reader = run = undefined;
    await expectTcpHandlesBackTo(handles);
  });

  it('sends a sample at once, then follows the chat: 0 → 1 → 0 connections, bytes counted', async () => {
    run = await start();
    reader = new EventsReader(run.httpPort);
    const first = await reader.until('any figures', () => true);
    expect(first).toMatchObject({ demo: 'chat', listening: true, open: 0, accepted: 0 });
    expect(reader.type).toBe('text/event-stream');

    const client = await plainConnect(run.chatPort);
    await reads(client, /welcome, guest\d+!/);
    await reader.until('1 open', (s) => s.open === 1);
    client.write('hello dashboard\n');
    await reader.until('the line read', (s) => s.bytesRead >= 16 && s.inPerSecond > 0);
    await hangUp(client);
    const last = await reader.until('0 open', (s) => s.open === 0);
    expect(last).toMatchObject({ accepted: 1, peakOpen: 1 });
    expect(last.bytesWritten).toBeGreaterThan(0);
  });

  it('counts out a client that resets and serves the next one', async () => {
    run = await start();
    reader = new EventsReader(run.httpPort);
    const resetting = await plainConnect(run.chatPort);
    await reader.until('1 open', (s) => s.open === 1);
    resetting.resetAndDestroy();
    await closed(resetting);
    await reader.until('0 open after the reset', (s) => s.open === 0 && s.accepted === 1);

    const next = await plainConnect(run.chatPort);
    await reads(next, /welcome, guest\d+! 1 online/);
    next.write('/who\n');
    await reads(next, /1 online: guest\d+/);
    await reader.until('1 open again', (s) => s.open === 1 && s.accepted === 2);
    await hangUp(next);
    await reader.until('0 open', (s) => s.open === 0);
  });

  it('forgets a viewer that goes away', async () => {
    run = await start();
    reader = new EventsReader(run.httpPort);
    await logged(run, /connected \(1 watching\)/);
    reader.close();
    await logged(run, /left \(0 watching\)/);
  });

  it('serves the page and uPlot from node_modules, 404 elsewhere, 403 to a name other than loopback', async () => {
    run = await start();
    const page = await get(run.httpPort, '/');
    expect(page).toMatchObject({ status: 200, type: 'text/html; charset=utf-8' });
    expect(page.body).toContain('id="connections"');
    const uplot = fs.readFileSync(require.resolve('uplot/dist/uPlot.iife.min.js'), 'utf8');
    expect(await get(run.httpPort, '/uPlot.iife.min.js')).toMatchObject({ status: 200, body: uplot });
    expect((await get(run.httpPort, '/uPlot.min.css')).type).toBe('text/css; charset=utf-8');
    expect((await get(run.httpPort, '/nope')).status).toBe(404);
    // A page on another name that resolves to 127.0.0.1 (DNS rebinding) reads nothing.
    expect((await get(run.httpPort, '/events', { host: 'evil.example' })).status).toBe(403);
  });

  it('answers a request whose target does not parse as a URL, and HEAD /events keeps no viewer, still serving after', async () => {
    run = await start();
    const raw = await plainConnect(run.httpPort);
    raw.write('GET http://[ HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n');
    const answer = await new Promise<string>((resolve) => {
      let text = '';
      raw.on('data', (chunk: Buffer) => (text += chunk.toString()));
      raw.on('close', () => resolve(text));
    });
    expect(answer).toMatch(/^HTTP\/1\.1 404/);
    const head = await new Promise<number>((resolve, reject) =>
      http
        .request({ host: '127.0.0.1', port: run!.httpPort, path: '/events', method: 'HEAD' }, (res) => {
          res.resume();
          res.on('end', () => resolve(res.statusCode ?? 0));
        })
        .on('error', reject)
        .end(),
    );
    expect(head).toBe(200);
    const seen: string[] = [];
    run.lines.subscribe((line) => seen.push(line)).unsubscribe();
    expect(seen.filter((line) => /watching/.test(line))).toEqual([]);
    expect((await get(run.httpPort, '/')).status).toBe(200);
  });

  it('with --demo idle-server follows the echo server the same way', async () => {
    run = await start('idle-server');
    reader = new EventsReader(run.httpPort);
    const client = await plainConnect(run.chatPort);
    client.write('echo me\n');
    await reads(client, /echo me\n/);
    await reader.until('1 open', (s) => s.demo === 'idle-server' && s.open === 1);
    await hangUp(client);
    await reader.until('0 open', (s) => s.open === 0 && s.bytesWritten === 8);
  });

  it('unsubscribing ends the viewers’ streams and closes both servers', async () => {
    run = await start();
    reader = new EventsReader(run.httpPort);
    const member = await plainConnect(run.chatPort);
    await reader.until('1 open', (s) => s.open === 1);
    member.resume();
    run.subscription.unsubscribe();
    await reader.ended;
    await closed(member);
    await expect(plainConnect(run.chatPort)).rejects.toMatchObject({ code: 'ECONNREFUSED' });
    await expect(plainConnect(run.httpPort)).rejects.toMatchObject({ code: 'ECONNREFUSED' });
  });

  it('npm run demo -- dashboard --port 0 --http-port 0 prints both addresses and exits 0 on Ctrl-C', async () => {
    const child = spawn(
      process.execPath,
      ['-r', 'ts-node/register/transpile-only', 'demos/run.ts', 'dashboard', '--port', '0', '--http-port', '0'],
      { cwd: path.resolve(__dirname, '../..'), stdio: ['ignore', 'pipe', 'pipe'] },
    );
    const exit = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) =>
      child.once('exit', (code, signal) => resolve({ code, signal })),
    );
    let out = '';
    try {
      await new Promise<void>((resolve, reject) => {
        const timer = setTimeout(() => reject(new Error(`not both addresses printed: ${out}`)), 30_000);
        const check = () => {
          if (/chat server listening on \{.*"port":\d+/.test(out) && /open http:\/\/127\.0\.0\.1:\d+\//.test(out)) {
            clearTimeout(timer);
            resolve();
          }
        };
        child.stdout.on('data', (chunk: Buffer) => ((out += chunk.toString()), check()));
        child.stderr.on('data', (chunk: Buffer) => (out += chunk.toString()));
        child.once('exit', () => (clearTimeout(timer), reject(new Error(`exited early: ${out}`))));
      });
      const httpPort = Number(/open http:\/\/127\.0\.0\.1:(\d+)\//.exec(out)![1]);
      expect((await get(httpPort, '/')).status).toBe(200);
      child.kill('SIGINT');
      expect(await exit).toEqual({ code: 0, signal: null });
    } finally {
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
    }
  }, 40_000);
});

describeWithChromium(`dashboard demo in headless Chromium [${hasChromium ? CHROMIUM : `skipped: ${MISSING}`}]`, () => {
  let run: Running | undefined;
  let browser: Browser | undefined;
  let page: Page;
  const clients: net.Socket[] = [];
  const pageErrors: string[] = [];

  beforeAll(async () => {
    run = await start();
    browser = await chromium.launch({ executablePath: CHROMIUM, args: ['--no-sandbox'], timeout: 20_000 });
    page = await browser.newPage({ viewport: { width: 1100, height: 900 } });
    page.on('pageerror', (error) => pageErrors.push(error.message));
    page.on('console', (message) => message.type() === 'error' && pageErrors.push(message.text()));
  }, 30_000);

  afterAll(async () => {
    for (const client of clients) client.destroy();
    await browser?.close();
    run?.subscription.unsubscribe();
  });

  const shows = (text: string) =>
    page.waitForFunction((want) => document.querySelector('#connections')?.textContent === want, text, {
      timeout: WAIT_MS,
    });

  it('shows ten raw clients connect (#connections reads 10) and leave (0), with the uPlot charts drawn', async () => {
    await page.goto(`http://127.0.0.1:${run!.httpPort}/`, { timeout: WAIT_MS });
    await shows('0');

    // Clients that read what the chat sends them, as members do.
    for (let i = 0; i < 10; i++) clients.push((await plainConnect(run!.chatPort)).resume());
    await shows('10');
    // Traffic for the throughput chart, round after round: every client says a line (the chat sends it to the
    // nine others), then the page must show a newer sample with bytes going out before the next round.
    for (let round = 1; round <= 6; round++) {
      const before = Number(await page.getAttribute('body', 'data-samples'));
      clients.forEach((client, i) => client.write(`round ${round}: hello from client ${i + 1}\n`));
      await page.waitForFunction(
        (before) =>
          Number(document.querySelector('body')?.getAttribute('data-samples')) > before &&
          document.querySelector('#out-rate')?.textContent !== '0 B/s',
        before,
        { timeout: WAIT_MS },
      );
    }
    clients.forEach((client, i) => client.write(`last words from client ${i + 1}\n`));
    const screenshot = process.env.RXNET_DASHBOARD_SCREENSHOT ?? path.join(os.tmpdir(), 'rxnet-dashboard.png');
    await page.screenshot({ path: screenshot, fullPage: true });
    expect(fs.statSync(screenshot).size).toBeGreaterThan(0);

    await Promise.all(clients.splice(0).map(hangUp));
    await shows('0');

    const canvases = await page.$$eval('.uplot canvas', (all) =>
      (all as unknown as Canvas[]).map((canvas) => {
        const pixels = canvas.getContext('2d').getImageData(0, 0, canvas.width, canvas.height).data;
        let drawn = 0;
        for (let i = 3; i < pixels.length; i += 4) if (pixels[i] !== 0) drawn++;
        return { width: canvas.width, height: canvas.height, drawn };
      }),
    );
    expect(canvases).toHaveLength(3);
    for (const canvas of canvases) {
      expect(canvas.width).toBeGreaterThan(0);
      expect(canvas.height).toBeGreaterThan(0);
      expect(canvas.drawn).toBeGreaterThan(0);
    }
    expect(await page.textContent('#accepted')).toBe('10');
    expect(await page.textContent('#status')).toBe('live');
    expect(pageErrors).toEqual([]);
  }, 45_000);
});
