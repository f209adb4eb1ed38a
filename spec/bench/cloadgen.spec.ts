// The C load generator (bench/loadgen.c through bench/cloadgen.ts): short bounded runs against in-test servers count
// and verify every reply byte, in both write modes, and a corrupt, early-closing or over-answering server fails the run.
import * as fs from 'fs';
import * as net from 'net';
import * as os from 'os';
import * as path from 'path';
import { buildCLoadgen, cLoadgenAvailable, runCLoad } from '../../bench/cloadgen';
import type { LoadOptions, LoadResult } from '../../bench/loadgen';
import { makePattern } from '../../bench/protocol';
import { once } from '../support/net';

const available = cLoadgenAvailable();
// Without a C compiler the tests are registered as skipped (never passed) and the title says why.
const describeWithCc = available.ok ? describe : describe.skip;
const SETUP = available.ok ? 'built with the C compiler' : `skipped: ${available.reason}`;
if (!available.ok) console.warn(`cloadgen spec skipped: ${available.reason}`);

/** Bytes a server read and wrote over all its connections, and how many it accepted. */
interface Counts {
  received: number;
  sent: number;
  connections: number;
}

/**
 * Runs `body` with the port of a raw net server on 127.0.0.1 whose connections `onConnection`
 * handles, then closes it: `server.close()` resolves once every connection has closed, so the
 * counts are final when `body`'s result is checked.
 */
async function withServer(
  onConnection: (socket: net.Socket, counts: Counts) => void,
  body: (port: number, counts: Counts) => Promise<void>,
): Promise<Counts> {
  const counts: Counts = { received: 0, sent: 0, connections: 0 };
  const server = net.createServer((socket) => {
    counts.connections++;
    socket.on('error', () => {});
    onConnection(socket, counts);
  });
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  try {
    await body((server.address() as net.AddressInfo).port, counts);
  } finally {
    await new Promise((resolve) => server.close(resolve));
  }
  return counts;
}

/** Writes `reply` for the socket and counts it. */
function answer(socket: net.Socket, counts: Counts, reply: Buffer): void {
  counts.sent += reply.length;
  socket.write(reply);
}

/** Echoes every byte as it comes. */
function echo(socket: net.Socket, counts: Counts): void {
  socket.on('data', (chunk: Buffer) => {
    counts.received += chunk.length;
    answer(socket, counts, chunk);
  });
}

describeWithCc(`bench C load generator [${SETUP}]`, () => {
  let dir: string;
  let binary: string;

  beforeAll(() => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'rxnet-cloadgen-spec-'));
    binary = buildCLoadgen(dir);
  });

  afterAll(() => {
    fs.rmSync(dir, { recursive: true, force: true });
  });

  const short = (port: number, options: Partial<LoadOptions>): LoadOptions => ({
    port,
    mode: 'lines',
    size: 64,
    conns: 1,
    inflight: 4,
    warmupMs: 100,
    durationMs: 300,
    ...options,
  });

  it('builds once: a binary newer than the source is kept', () => {
    const mtime = fs.statSync(binary).mtimeMs;
    expect(buildCLoadgen(dir)).toBe(binary);
    expect(fs.statSync(binary).mtimeMs).toBe(mtime);
  });

  const cases: ['lines' | 'length', 'each' | 'batch', number][] = [];
  for (const mode of ['lines', 'length'] as const)
    for (const writes of ['each', 'batch'] as const) for (const conns of [1, 5]) cases.push([mode, writes, conns]);

  it.each(cases)(
    'runs %s with %s writes on %i connection(s) and verifies every echoed byte',
    async (mode, writes, conns) => {
      const pattern = makePattern(mode, 64);
      const windows: string[] = [];
      let result: LoadResult | undefined;
      const counts = await withServer(echo, async (port) => {
        result = await runCLoad(
          binary,
          short(port, { mode, conns, inflight: 16, clientWrites: writes }),
          { send: pattern.doubled, expect: pattern.doubled, count: pattern.count },
          { windowStart: () => windows.push('start'), windowEnd: () => windows.push('end') },
        );
      });
      const r = result!;
      expect(windows).toEqual(['start', 'end']);
      expect(r).toMatchObject({ mode, size: 64, conns, inflight: 16, idle: 0 });
      expect(r.seconds).toBeGreaterThanOrEqual(0.3);
      expect(r.messages).toBeGreaterThan(0);
      expect(r.messagesPerSec).toBeCloseTo(r.messages / r.seconds, 6);
      expect(r.mbPerSec).toBeCloseTo((r.messages * 64) / r.seconds / 1e6, 6);
      // Every byte sent came back and was verified, warm-up and drain included.
      expect(counts.connections).toBe(conns);
      expect(r.verifiedBytes).toBe(counts.received);
      expect(r.verifiedBytes).toBe(counts.sent);
      expect(r.verifiedBytes % 64).toBe(0);
      expect(r.verifiedBytes / 64).toBeGreaterThan(r.messages);
      expect(r.p50us).toBeGreaterThan(0);
      expect(r.p99us).toBeGreaterThanOrEqual(r.p50us);
      expect(r.maxUs).toBeGreaterThanOrEqual(r.p99us);
      expect(r.loadgenCpu).toBeGreaterThan(0);
      expect(r.perConnMin).toBeGreaterThan(0);
      expect(r.perConnMax).toBeGreaterThanOrEqual(r.perConnMin);
      expect(r.perConnMin * conns).toBeLessThanOrEqual(r.messages);
      expect(r.perConnMax * conns).toBeGreaterThanOrEqual(r.messages);
    },
  );

  it('verifies replies of another size than the requests (each 64-byte line answered with its 100-byte line)', async () => {
    const requests = makePattern('lines', 64);
    const replies = makePattern('lines', 100);
    const replyTo = new Map<string, Buffer>();
    for (let m = 0; m < requests.count; m++)
      replyTo.set(
        requests.doubled.toString('latin1', m * 64, (m + 1) * 64),
        replies.doubled.subarray(m * 100, (m + 1) * 100),
      );
    const lineServer = (socket: net.Socket, counts: Counts) => {
      let held = '';
      socket.on('data', (chunk: Buffer) => {
        counts.received += chunk.length;
        held += chunk.toString('latin1');
        let start = 0;
        let end: number;
        while ((end = held.indexOf('\n', start)) !== -1) {
          answer(socket, counts, replyTo.get(held.slice(start, end + 1))!);
          start = end + 1;
        }
        held = held.slice(start);
      });
    };
    for (const writes of ['each', 'batch'] as const) {
      let result: LoadResult | undefined;
      const counts = await withServer(lineServer, async (port) => {
        result = await runCLoad(binary, short(port, { conns: 3, inflight: 8, clientWrites: writes }), {
          send: requests.doubled,
          expect: replies.doubled,
          count: requests.count,
          replySize: 100,
        });
      });
      expect(result!.messages).toBeGreaterThan(0);
      expect(result!.verifiedBytes).toBe(counts.sent);
      expect(counts.received / 64).toBe(counts.sent / 100);
      expect(result!.mbPerSec).toBeCloseTo((result!.messages * 100) / result!.seconds / 1e6, 6);
    }
  });

  it('opens the idle connections too, and leaves them idle', async () => {
    const pattern = makePattern('lines', 64);
    let result: LoadResult | undefined;
    const counts = await withServer(echo, async (port) => {
      result = await runCLoad(binary, short(port, { conns: 2, idle: 3, warmupMs: 20, durationMs: 100 }), {
        send: pattern.doubled,
        expect: pattern.doubled,
        count: pattern.count,
      });
    });
    expect(counts.connections).toBe(5);
    expect(result!.idle).toBe(3);
    expect(result!.verifiedBytes).toBe(counts.sent);
  });

  it('rejects the run when one echoed byte differs', async () => {
    const pattern = makePattern('length', 64);
    // Echoes everything, but the 100th byte of each connection comes back changed.
    const corrupt = (socket: net.Socket, counts: Counts) => {
      let seen = 0;
      socket.on('data', (chunk: Buffer) => {
        const copy = Buffer.from(chunk);
        if (seen <= 99 && seen + copy.length > 99) copy[99 - seen] ^= 0xff;
        seen += copy.length;
        answer(socket, counts, copy);
      });
    };
    await withServer(corrupt, (port) =>
      expect(
        runCLoad(binary, short(port, { mode: 'length' }), {
          send: pattern.doubled,
          expect: pattern.doubled,
          count: pattern.count,
        }),
      ).rejects.toThrow(/^reply bytes differ from those expected, in \d+\.\.\d+$/),
    );
  });

  it('rejects the run when the server ends a connection before the last reply', async () => {
    const pattern = makePattern('lines', 64);
    // Echoes the first 10 messages, then ends its side (and reads on without answering).
    const early = (socket: net.Socket, counts: Counts) => {
      socket.on('data', (chunk: Buffer) => {
        const room = 640 - counts.sent;
        if (room > 0) answer(socket, counts, chunk.subarray(0, room));
        if (counts.sent === 640 && socket.writable) socket.end();
      });
    };
    await withServer(early, (port) =>
      expect(
        runCLoad(binary, short(port, {}), { send: pattern.doubled, expect: pattern.doubled, count: pattern.count }),
      ).rejects.toThrow(/^server ended the connection after 10 of 1[0-4] messages$/),
    );
  });

  it('rejects the run when a reply brings more bytes than the messages sent ask for', async () => {
    const pattern = makePattern('lines', 64);
    // One message in flight: the first reply carries the next message's reply too, in the same segment.
    const eager = (socket: net.Socket, counts: Counts) => {
      socket.once('data', () => answer(socket, counts, pattern.doubled.subarray(0, 128)));
    };
    await withServer(eager, (port) =>
      expect(
        runCLoad(binary, short(port, { inflight: 1, clientWrites: 'batch' }), {
          send: pattern.doubled,
          expect: pattern.doubled,
          count: pattern.count,
        }),
      ).rejects.toThrow(/^received 128 bytes, only 64 expected for those sent$/),
    );
  });

  it('rejects the run when replies stop coming, once the drain timeout has passed', async () => {
    const pattern = makePattern('lines', 64);
    // Reads everything and answers nothing.
    const silent = (socket: net.Socket) => socket.resume();
    await withServer(silent, (port) =>
      expect(
        runCLoad(binary, short(port, { conns: 2, warmupMs: 10, durationMs: 20, drainTimeoutMs: 50 }), {
          send: pattern.doubled,
          expect: pattern.doubled,
          count: pattern.count,
        }),
      ).rejects.toThrow(/^2 connection\(s\) still missing replies 50 ms after the run$/),
    );
  });

  it('rejects when nothing listens, and when the patterns do not match the sizes', async () => {
    const pattern = makePattern('lines', 64);
    // A port that was just closed: nothing listens there.
    const closed = net.createServer();
    closed.listen(0, '127.0.0.1');
    await once(closed, 'listening');
    const port = (closed.address() as net.AddressInfo).port;
    await new Promise((resolve) => closed.close(resolve));
    await expect(
      runCLoad(binary, short(port, {}), { send: pattern.doubled, expect: pattern.doubled, count: pattern.count }),
    ).rejects.toThrow(/^connect to 127\.0\.0\.1:\d+: Connection refused$/);
    await expect(
      runCLoad(binary, short(port, { size: 65 }), { send: pattern.doubled, expect: pattern.doubled, count: 61 }),
    ).rejects.toThrow(RangeError);
  });
});
