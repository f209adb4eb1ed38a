// listen({ shaping }): every connection emitted shaped, each hold told as a throttle event and counted by serverMetrics.
import { count, map } from 'rxjs';
import { sendTo } from '../../lib/core/sendTo';
import type { ServerEvent } from '../../lib/core/listen';
import { serverMetrics } from '../../lib/observe/metrics';
import { ShapedConnection } from '../../lib/shaping/shapeTraffic';
import type { Connection } from '../../lib/types';
import { closed, plainConnect, readAll, startServer } from '../support/net';

const SIZE = 300_000;

it('reads an upload and writes its reply at the byte rates of listen({ shaping }), telling each throttle', async () => {
  const metrics = serverMetrics();
  const events: ServerEvent[] = [];
  const emitted: Connection[] = [];
  const server = await startServer(
    (conn) => {
      emitted.push(conn);
      // Reads the whole upload, then answers with as many bytes.
      return conn.data$.pipe(
        map((chunk) => chunk.length),
        count(),
        map(() => Buffer.alloc(SIZE, 'r')),
        sendTo(conn),
      );
    },
    {
      shaping: { readLimit: 1_000_000, writeLimit: 1_000_000, burst: 16_384 },
      events: (e) => {
        events.push(e);
        metrics.events.next(e);
      },
    },
  );
  try {
    const begin = performance.now();
    const client = await plainConnect(server.port);
    const reply = readAll(client);
    client.end(Buffer.alloc(SIZE, 'u'));
    expect((await reply).length).toBe(SIZE);
    await closed(client);
    const ms = performance.now() - begin;
    // 300 kB each way at 1 MB/s, less a burst each: about 0.57 s; unshaped it takes a few ms.
    expect(ms).toBeGreaterThanOrEqual(500);
    expect(ms).toBeLessThan(2000);
    expect(emitted[0]).toBeInstanceOf(ShapedConnection);
    const throttles = events.filter((e): e is Extract<ServerEvent, { type: 'throttle' }> => e.type === 'throttle');
    expect(new Set(throttles.map((t) => t.direction))).toEqual(new Set(['read', 'write']));
    // Events name the socket's own connection, as its connection event did.
    const own = events.find((e) => e.type === 'connection');
    expect(own?.type === 'connection' && throttles.every((t) => t.connection === own.connection)).toBe(true);
    const counted = metrics.snapshot().throttles;
    expect(counted).toEqual({
      read: throttles.filter((t) => t.direction === 'read').length,
      write: throttles.filter((t) => t.direction === 'write').length,
    });
    expect(server.errors).toEqual([]);
  } finally {
    server.subscription.unsubscribe();
  }
});
