// The bench's echo servers answer correctly in both reply styles: each message as cut, and a new Buffer per message.
import { runLoad } from '../../bench/loadgen';
import { startServer, type ReplyStyle, type ServerKind } from '../../bench/servers';

describe('bench echo servers', () => {
  const cases: [ServerKind, 'lines' | 'length', ReplyStyle][] = [];
  for (const kind of ['plain', 'plain-cork', 'rxnet'] as const)
    for (const workload of ['lines', 'length'] as const)
      for (const reply of ['cut', 'new'] as const) cases.push([kind, workload, reply]);

  it.each(cases)(
    '%s %s with %s replies echoes every byte the load generator verifies',
    async (kind, workload, reply) => {
      const server = await startServer({ kind, workload, host: '127.0.0.1', reply });
      try {
        const result = await runLoad({
          port: server.port,
          mode: workload,
          size: 64,
          conns: 2,
          inflight: 4,
          warmupMs: 20,
          durationMs: 100,
        });
        expect(result.messages).toBeGreaterThan(0);
        expect(result.verifiedBytes).toBeGreaterThanOrEqual(result.messages * 64);
      } finally {
        await server.close();
      }
    },
  );
});
