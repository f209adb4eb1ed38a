// Smoke test of the benchmark's load generator: a short bounded run verifies every reply byte and catches a
// corrupt echo or a reply other than the expected one; the ndjson pattern is what the servers' JSON round trip gives.
import * as net from 'net';
import { runLoad } from '../../bench/loadgen';
import { makePattern } from '../../bench/protocol';
import { startServer } from '../../bench/servers';
import { once } from '../support/net';

/** Starts a raw net server on 127.0.0.1 with `onConnection`, runs `body` with its port, closes it. */
async function withRawServer(onConnection: (socket: net.Socket) => void, body: (port: number) => Promise<void>) {
  const server = net.createServer(onConnection);
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  try {
    await body((server.address() as net.AddressInfo).port);
  } finally {
    await new Promise((resolve) => server.close(resolve));
  }
}

describe('bench load generator', () => {
  it('runs a short bounded line echo against the plain server and verifies what came back', async () => {
    const server = await startServer({ kind: 'plain', workload: 'lines', host: '127.0.0.1' });
    try {
      const result = await runLoad({
        port: server.port,
        mode: 'lines',
        size: 64,
        conns: 2,
        inflight: 4,
        warmupMs: 50,
        durationMs: 200,
      });
      expect(result.messages).toBeGreaterThan(0);
      expect(result.verifiedBytes).toBeGreaterThanOrEqual(result.messages * 64);
      expect(result.verifiedBytes % 64).toBe(0);
      expect(result.p99us).toBeGreaterThanOrEqual(result.p50us);
    } finally {
      await server.close();
    }
  });

  it('rejects the run when one echoed byte differs', async () => {
    // Echoes everything, but the 100th byte of each connection comes back changed.
    await withRawServer(
      (socket) => {
        let seen = 0;
        socket.on('data', (chunk: Buffer) => {
          const copy = Buffer.from(chunk);
          if (seen <= 99 && seen + copy.length > 99) copy[99 - seen] ^= 0xff;
          seen += copy.length;
          socket.write(copy);
        });
      },
      (port) =>
        expect(
          runLoad({ port, mode: 'length', size: 64, conns: 1, inflight: 4, warmupMs: 20, durationMs: 100 }),
        ).rejects.toThrow(/reply bytes differ/),
    );
  });

  it('rejects an ndjson run whose replies are not the expected ones (the requests echoed)', async () => {
    await withRawServer(
      (socket) => socket.pipe(socket),
      (port) =>
        expect(
          runLoad({ port, mode: 'ndjson', size: 64, conns: 1, inflight: 4, warmupMs: 20, durationMs: 100 }),
        ).rejects.toThrow(/reply bytes differ from those expected, in 0\.\./),
    );
  });
});

describe('bench ndjson pattern', () => {
  it.each([64, 1024])(
    'has 61 distinct %i-byte JSON requests whose pong, as JSON.stringify writes it, is the expected reply',
    (size) => {
      const pattern = makePattern('ndjson', size);
      expect(pattern.count).toBe(61);
      expect(pattern.replySize).toBe(size);
      expect(pattern.replyPeriod).toBe(pattern.period);
      const requests = new Set<string>();
      for (let m = 0; m < pattern.count; m++) {
        const bytes = pattern.doubled.subarray(m * size, (m + 1) * size);
        const reply = pattern.replyDoubled.subarray(m * size, (m + 1) * size);
        const request = bytes.toString('utf8');
        expect(Buffer.byteLength(request)).toBe(size);
        expect(request.indexOf('\n')).toBe(size - 1);
        const value = JSON.parse(request) as Record<string, unknown>;
        expect(value.op).toBe('ping');
        expect(Buffer.from(JSON.stringify({ ...value, op: 'pong' }) + '\n').equals(reply)).toBe(true);
        requests.add(request);
      }
      expect(requests.size).toBe(61);
      // Both halves hold the same messages.
      expect(pattern.doubled.subarray(pattern.period).equals(pattern.doubled.subarray(0, pattern.period))).toBe(true);
      expect(
        pattern.replyDoubled.subarray(pattern.period).equals(pattern.replyDoubled.subarray(0, pattern.period)),
      ).toBe(true);
    },
  );

  it('keeps the reply the request for the other framings', () => {
    for (const framing of ['bulk', 'lines', 'length'] as const) {
      const pattern = makePattern(framing, 64);
      expect(pattern.replyDoubled).toBe(pattern.doubled);
      expect(pattern.replySize).toBe(64);
    }
  });

  it('refuses a size too small for the object', () => {
    expect(() => makePattern('ndjson', 40)).toThrow(RangeError);
  });
});
