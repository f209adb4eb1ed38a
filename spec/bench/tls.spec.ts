// The bench's tls workload: each of its servers (hand-written Node and rxnet; TLS from the first byte, and STARTTLS)
// serves the load generator's connections (connect, handshake, one echoed line, close) without an error.
import { TLS_KINDS, load, serve } from '../../bench/tlspeers';
import { expectTcpHandlesBackTo, tcpHandleCount } from '../support/net';

describe('bench tls workload', () => {
  it.each(TLS_KINDS)('%s serves TLS connections from the load generator', async (kind) => {
    const baseline = tcpHandleCount();
    const server = await serve(kind);
    try {
      const result = await load(server.port, kind, 4, 100, 400);
      expect(result.errors).toBe(0);
      expect(result.connections).toBeGreaterThan(0);
      expect(result.total).toBeGreaterThanOrEqual(result.connections);
      expect(result.p99).toBeGreaterThanOrEqual(result.p50);
    } finally {
      server.close();
    }
    await expectTcpHandlesBackTo(baseline);
  });
});
