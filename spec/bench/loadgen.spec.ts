// Smoke test of the benchmark's load generator: a short bounded run verifies every echoed byte and catches a corrupt echo.
import * as net from 'net';
import { runLoad } from '../../bench/loadgen';
import { startServer } from '../../bench/servers';
import { once } from '../support/net';

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
    const server = net.createServer((socket) => {
      let seen = 0;
      socket.on('data', (chunk: Buffer) => {
        const copy = Buffer.from(chunk);
        if (seen <= 99 && seen + copy.length > 99) copy[99 - seen] ^= 0xff;
        seen += copy.length;
        socket.write(copy);
      });
    });
    server.listen(0, '127.0.0.1');
    await once(server, 'listening');
    try {
      const port = (server.address() as net.AddressInfo).port;
      await expect(
        runLoad({ port, mode: 'length', size: 64, conns: 1, inflight: 4, warmupMs: 20, durationMs: 100 }),
      ).rejects.toThrow(/echoed bytes differ/);
    } finally {
      await new Promise((resolve) => server.close(resolve));
    }
  });
});
