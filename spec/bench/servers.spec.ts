// The bench's servers answer correctly: line and length servers in every reply style (as cut, a new Buffer, a
// string encoded again), and ndjson servers with the reply the load generator expects.
import { execFile } from 'child_process';
import * as path from 'path';
import { promisify } from 'util';
import { runLoad } from '../../bench/loadgen';
import type { Framing } from '../../bench/protocol';
import { REPLY_STYLES, kindsFor, startServer, type ReplyStyle, type ServerKind } from '../../bench/servers';

async function shortRun(kind: ServerKind, workload: Framing, size: number, reply?: ReplyStyle): Promise<void> {
  const server = await startServer({ kind, workload, host: '127.0.0.1', reply });
  try {
    const result = await runLoad({
      port: server.port,
      mode: workload,
      size,
      conns: 2,
      inflight: 4,
      warmupMs: 20,
      durationMs: 100,
    });
    expect(result.messages).toBeGreaterThan(0);
    expect(result.verifiedBytes).toBeGreaterThanOrEqual(result.messages * size);
  } finally {
    await server.close();
  }
}

describe('bench line and length servers', () => {
  const cases: [ServerKind, 'lines' | 'length', ReplyStyle][] = [];
  for (const kind of ['plain', 'plain-cork', 'rxnet', 'rxnet-otel'] as const)
    for (const workload of ['lines', 'length'] as const)
      for (const reply of REPLY_STYLES) cases.push([kind, workload, reply]);

  it.each(cases)(
    '%s %s with %s replies answers every message as the load generator verifies',
    (kind, workload, reply) => shortRun(kind, workload, 64, reply),
  );
});

describe('bench ndjson servers', () => {
  it('exist for plain, plain-cork, rxnet and rxnet observed through OpenTelemetry', () => {
    expect(kindsFor('ndjson')).toEqual(['plain', 'plain-cork', 'rxnet', 'rxnet-otel']);
  });

  const cases: [ServerKind, number][] = [];
  for (const kind of kindsFor('ndjson')) for (const size of [64, 1024]) cases.push([kind, size]);

  it.each(cases)('%s answers every %i-byte request with its pong', (kind, size) => shortRun(kind, 'ndjson', size));
});

describe('bench server child', () => {
  const serverChild = (env: Record<string, string>) =>
    promisify(execFile)(
      process.execPath,
      [require.resolve('ts-node/dist/bin.js'), 'bench/server.ts', 'plain', 'lines'],
      {
        cwd: path.resolve(__dirname, '..', '..'),
        env: { ...process.env, TS_NODE_TRANSPILE_ONLY: '1', ...env },
      },
    );

  it('refuses a reply style it does not know, loudly', async () => {
    await expect(serverChild({ RXNET_BENCH_REPLY: 'strings' })).rejects.toMatchObject({
      code: 1,
      stderr: expect.stringContaining('RXNET_BENCH_REPLY must be one of cut, new, string; got "strings"'),
    });
  }, 30_000);
});
