// The UDP demos: statsd (StatsD lines in, each second's totals printed) and udp-echo, driven by Debian's
// `nc -u` (netcat-openbsd) where it is installed and by a Node dgram client everywhere; run in-process on port 0.
import { spawn } from 'child_process';
import * as dgram from 'dgram';
import * as path from 'path';
import {
  ReplaySubject,
  filter,
  first,
  firstValueFrom,
  fromEvent,
  map,
  scan,
  take,
  timeout,
  toArray,
  type Observable,
  type Subscription,
} from 'rxjs';
import { TestScheduler } from 'rxjs/testing';
import { MAX_METRICS, parseStatsdLine, statsdServer, statsdTotals, type StatsdDatagram } from '../../demos/statsd';
import { udpEcho } from '../../demos/udp-echo';
import { findProgram } from '../support/proxies';

const nc = findProgram('nc');
const MISSING = 'nc not found (Debian: apt-get install netcat-openbsd)';
// Without nc its tests are registered as skipped, never passed, and the title says why.
const describeWithNc = nc === undefined ? describe.skip : describe;
if (nc === undefined) console.warn(`udp demos: the nc tests skipped: ${MISSING}`);

/** How long a test waits for what it expects to be printed or echoed (totals print once a second). */
const WITHIN_MS = 8000;

/** A demo started in-process on 127.0.0.1:0: its port, everything it logged, and its subscription. */
interface Running {
  port: number;
  lines$: Observable<string>;
  subscription: Subscription;
  errors: unknown[];
}

async function start(
  make: (log: (line: string) => void, bound: (address: { port: number }) => void) => Observable<never>,
): Promise<Running> {
  const lines = new ReplaySubject<string>();
  const port = new ReplaySubject<number>(1);
  const errors: unknown[] = [];
  const subscription = make(
    (line) => lines.next(line),
    (address) => port.next(address.port),
  ).subscribe({
    error: (error) => {
      errors.push(error);
      port.error(error);
    },
  });
  subscription.add(() => lines.complete());
  return { port: await firstValueFrom(port), lines$: lines, subscription, errors };
}

const startStatsd = () => start((log, bound) => statsdServer({ port: 0, host: '127.0.0.1', log, bound }));
const startEcho = () => start((log, bound) => udpEcho({ port: 0, host: '127.0.0.1', log, bound, verbose: false }));

/** Sums the `name N` totals printed until they reach `expected` (a second's boundary may split them), within WITHIN_MS. */
function totalOf(running: Running, name: string, expected: number): Promise<number> {
  return firstValueFrom(
    running.lines$.pipe(
      filter((line) => line.startsWith(`${name} `)),
      scan((sum, line) => sum + Number(line.slice(name.length + 1)), 0),
      first((sum) => sum >= expected),
      timeout(WITHIN_MS),
    ),
  );
}

/** The first printed line matching `pattern`, within WITHIN_MS. */
function printed(running: Running, pattern: RegExp): Promise<string> {
  return firstValueFrom(
    running.lines$.pipe(
      first((line) => pattern.test(line)),
      timeout(WITHIN_MS),
    ),
  );
}

/** `nc -u -w1 127.0.0.1 PORT` with `input` on its stdin; resolves with its stdout once it exits. */
function ncUdp(port: number, input: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const child = spawn(nc!, ['-u', '-w1', '127.0.0.1', String(port)], { stdio: ['pipe', 'pipe', 'pipe'] });
    let out = '';
    let err = '';
    child.stdout.on('data', (chunk: Buffer) => (out += chunk.toString()));
    child.stderr.on('data', (chunk: Buffer) => (err += chunk.toString()));
    child.once('error', reject);
    child.once('exit', (code) => (code === 0 ? resolve(out) : reject(new Error(`nc exited ${code}: ${err}`))));
    child.stdin.end(input);
  });
}

/** A Node dgram client on 127.0.0.1, bound; closed by the caller. */
async function dgramClient(): Promise<dgram.Socket> {
  const socket = dgram.createSocket('udp4');
  await new Promise<void>((resolve) => socket.bind(0, '127.0.0.1', resolve));
  return socket;
}

function closeSocket(socket: dgram.Socket): Promise<void> {
  return new Promise((resolve) => socket.close(() => resolve()));
}

/** UDP handles open now: a baseline, so a spec checks only what it opened itself. */
function udpHandleCount(): number {
  return process.getActiveResourcesInfo().filter((r) => r === 'UDPWrap').length;
}

/** Waits (a closed handle leaves after a few turns of the loop) until no more UDP handles are open than at `baseline`. */
async function expectUdpHandlesBackTo(baseline: number): Promise<void> {
  const deadline = performance.now() + 2000;
  for (let i = 0; udpHandleCount() > baseline && performance.now() < deadline; i++) {
    await new Promise((resolve) => (i < 100 ? setImmediate(resolve) : setTimeout(resolve, 5)));
  }
  expect(udpHandleCount()).toBeLessThanOrEqual(baseline);
}

describe('statsd demo, its parsing', () => {
  it.each([
    ['hits:1|c', { type: 'c', name: 'hits', value: 1 }],
    ['hits:-2|c', { type: 'c', name: 'hits', value: -2 }],
    ['hits:1|c|@0.1', { type: 'c', name: 'hits', value: 10 }],
    ['api.latency:12.5|ms', { type: 'ms', name: 'api.latency', value: 12.5 }],
    ['temp:21|g', { type: 'g', name: 'temp', value: 21, delta: false }],
    ['temp:+3|g', { type: 'g', name: 'temp', value: 3, delta: true }],
    ['temp:-3|g', { type: 'g', name: 'temp', value: -3, delta: true }],
  ])('reads %j', (line, sample) => {
    expect(parseStatsdLine(line)).toEqual(sample);
  });

  it.each([
    '',
    'hits',
    ':1|c',
    'hits:|c',
    'hits:1',
    'hits:x|c',
    'hits:1|q',
    'hits:1|c|@0',
    'hits:1|c|@1.5',
    'hits:1|c|0.5',
    'hits:1|c|@0.5|extra',
    'temp:1|g|@0.5',
    'latency:-1|ms',
    'hits:Infinity|c',
    'hits:1e999|c',
    'two words:1|c',
    'hash#tag:1|c',
  ])('rejects %j', (line) => {
    expect(parseStatsdLine(line)).toBeUndefined();
  });
});

describe('statsd demo, its totals (virtual time)', () => {
  const d = (...lines: string[]): StatsdDatagram => {
    const samples = lines.map((line) => parseStatsdLine(line)).filter((s) => s !== undefined);
    return { samples, bad: lines.length - samples.length };
  };

  it('prints, at the end of each second that had datagrams, its counter totals sorted by name', () => {
    new TestScheduler((actual, expected) => expect(actual).toEqual(expected)).run(({ cold, expectObservable }) => {
      const values = { a: d('hits:1|c'), b: d('hits:2|c', 'bytes:100|c'), c: d('hits:1|c|@0.5') };
      // Nothing came in the second second: nothing printed then.
      const source = cold('     a 100ms b 2000ms c 999ms |', values);
      const expected = '        1000ms x 1999ms y 101ms |';
      expectObservable(statsdTotals(source, 1000)).toBe(expected, { x: ['bytes 100', 'hits 3'], y: ['hits 2'] });
    });
  });

  it('keeps gauges from second to second, moves them by +N/-N, and sums timers', () => {
    new TestScheduler((actual, expected) => expect(actual).toEqual(expected)).run(({ cold, expectObservable }) => {
      const values = {
        a: d('temp:20|g', 'rt:10|ms', 'rt:30|ms'),
        b: d('temp:+2.5|g'),
        c: d('temp:-0.1|g', 'temp:-0.2|g'),
      };
      const source = cold('     a 1499ms b 999ms c 999ms |', values);
      const expected = '        1000ms x 999ms y 999ms z 499ms |';
      expectObservable(statsdTotals(source, 1000)).toBe(expected, {
        x: ['rt count=2 min=10 mean=20 max=30', 'temp 20'],
        y: ['temp 22.5'],
        z: ['temp 22.2'],
      });
    });
  });

  it('counts bad lines, and names past the limit, in a "#" line of their own', () => {
    new TestScheduler((actual, expected) => expect(actual).toEqual(expected)).run(({ cold, expectObservable }) => {
      const source = cold('a 1500ms |', { a: d('a:1|c', 'junk', 'b:1|c', 'c:1|c', 'a:1|c') });
      expectObservable(statsdTotals(source, 1000, undefined, 2)).toBe('1000ms x 500ms |', {
        x: ['a 2', 'b 1', '# 2 bad lines'],
      });
    });
    expect(MAX_METRICS).toBeGreaterThan(1000);
  });
});

describeWithNc(`statsd and udp-echo demos with nc -u [${nc ?? `skipped: ${MISSING}`}]`, () => {
  let handles = 0;
  let statsd: Running;
  let echo: Running;

  beforeAll(async () => {
    handles = udpHandleCount();
    statsd = await startStatsd();
    echo = await startEcho();
  });

  afterAll(async () => {
    statsd?.subscription.unsubscribe();
    echo?.subscription.unsubscribe();
    await expectUdpHandlesBackTo(handles);
  });

  it('echo "hits:1|c" | nc -u -w1 127.0.0.1 PORT makes statsd print "hits 1"', async () => {
    const total = totalOf(statsd, 'hits', 1);
    await ncUdp(statsd.port, 'hits:1|c\n');
    expect(await total).toBe(1);
    expect(await printed(statsd, /^hits /)).toBe('hits 1');
  });

  it('three nc runs at once add up to 3, however the seconds split them', async () => {
    const total = totalOf(statsd, 'three', 3);
    await Promise.all([1, 2, 3].map(() => ncUdp(statsd.port, 'three:1|c\n')));
    expect(await total).toBe(3);
  });

  it('several lines in one datagram, a sample rate, and a bad line among them', async () => {
    const total = totalOf(statsd, 'multi', 11);
    await ncUdp(statsd.port, 'multi:1|c\nmulti:1|c|@0.1\nmulti;1|c\nmulti.ms:5|ms\n');
    expect(await total).toBe(11);
    expect(await printed(statsd, /^multi\.ms /)).toBe('multi.ms count=1 min=5 mean=5 max=5');
    expect(await printed(statsd, /^# \d+ bad line/)).toMatch(/^# 1 bad line$/);
    expect(statsd.errors).toEqual([]);
  });

  it('udp-echo sends what nc -u -w1 sent back to it', async () => {
    expect(await ncUdp(echo.port, 'hello over udp\n')).toBe('hello over udp\n');
    expect(echo.errors).toEqual([]);
  });
});

describe('statsd and udp-echo demos with a Node dgram client', () => {
  let handles = 0;
  beforeAll(() => {
    handles = udpHandleCount();
  });
  afterAll(async () => {
    await expectUdpHandlesBackTo(handles);
  });

  it('udp-echo answers each of 100 datagrams to its sender', async () => {
    const echo = await startEcho();
    const client = await dgramClient();
    try {
      const sent = Array.from({ length: 100 }, (_, i) => `datagram ${i} ${'x'.repeat(i)}`);
      const replies = firstValueFrom(
        fromEvent(client, 'message').pipe(
          map((args) => args as [Buffer, dgram.RemoteInfo]),
          filter(([, rinfo]) => rinfo.port === echo.port),
          map(([msg]) => msg.toString()),
          take(sent.length),
          toArray(),
          timeout(WITHIN_MS),
        ),
      );
      for (const text of sent) client.send(text, echo.port, '127.0.0.1');
      const received = await replies;
      expect(received.sort()).toEqual(sent.sort());
      expect(echo.errors).toEqual([]);
    } finally {
      await closeSocket(client);
      echo.subscription.unsubscribe();
    }
  });

  it('statsd counts malformed datagrams as bad lines, ignores them, and goes on', async () => {
    const statsd = await startStatsd();
    const client = await dgramClient();
    try {
      const junk: (string | Buffer)[] = [
        Buffer.alloc(0),
        Buffer.from([0xff, 0xfe, 0x00, 0x0a, 0xc3]),
        'no colon here',
        ':1|c',
        'x:1|c|@0',
        'y:NaN|c',
        'z:1|zz',
        'q'.repeat(60_000) + ':1|c|@',
        '\n\n\r\n',
      ];
      for (const datagram of junk) client.send(datagram, statsd.port, '127.0.0.1');
      const total = totalOf(statsd, 'after.junk', 1);
      client.send('after.junk:1|c', statsd.port, '127.0.0.1');
      expect(await total).toBe(1);
      // Every bad line was counted (the boundary of a second may split them over two reports).
      const bad = await firstValueFrom(
        statsd.lines$.pipe(
          filter((line) => line.startsWith('# ')),
          scan((sum, line) => sum + Number(/^# (\d+) bad/.exec(line)![1]), 0),
          first((sum) => sum >= 8),
          timeout(WITHIN_MS),
        ),
      );
      expect(bad).toBe(8);
      expect(statsd.errors).toEqual([]);
      expect(statsd.subscription.closed).toBe(false);
    } finally {
      await closeSocket(client);
      statsd.subscription.unsubscribe();
    }
  });
});

describe('statsd and udp-echo as processes', () => {
  const ROOT = path.resolve(__dirname, '../..');

  it.each([
    ['statsd', /statsd listening: (\{.*\})/],
    ['udp-echo', /udp-echo listening: (\{.*\})/],
  ])('npm run demo -- %s --port 0 prints its bound port and ends with exit code 0 on Ctrl-C', async (name, ready) => {
    const child = spawn(
      process.execPath,
      ['-r', 'ts-node/register/transpile-only', 'demos/run.ts', name, '--port', '0'],
      {
        cwd: ROOT,
        stdio: ['ignore', 'pipe', 'pipe'],
      },
    );
    const exit = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) =>
      child.once('exit', (code, signal) => resolve({ code, signal })),
    );
    let out = '';
    const port = await new Promise<number>((resolve, reject) => {
      child.stdout.on('data', (chunk: Buffer) => {
        out += chunk.toString();
        const m = ready.exec(out);
        if (m) resolve((JSON.parse(m[1]) as { port: number }).port);
      });
      child.stderr.on('data', (chunk: Buffer) => (out += chunk.toString()));
      child.once('exit', () => reject(new Error(`the demo exited:\n${out}`)));
    });
    expect(port).toBeGreaterThan(0);
    child.kill('SIGINT');
    expect(await exit).toEqual({ code: 0, signal: null });
  });
});
