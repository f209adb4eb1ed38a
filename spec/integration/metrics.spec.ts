// serverMetrics() following a real loopback server through listen({ events }): traffic, accepted, open and dropped connections.
import { ReplaySubject, filter, firstValueFrom, map, mergeMap } from 'rxjs';
import { serverMetrics } from '../../lib/observe/metrics';
import { decodeLines } from '../../lib/framing/lines/decodeLines';
import { sendTo } from '../../lib/core/sendTo';
import { listen } from '../../lib/core/listen';
import type { Connection } from '../../lib/types';
import { closed, expectTcpHandlesBackTo, plainConnect, readAll, tcpHandleCount } from '../support/net';

describe('serverMetrics over loopback', () => {
  it('counts a real server through listen({ events }): traffic, accepted and open connections, drops over maxConnections', async () => {
    const baseline = tcpHandleCount();
    const m = serverMetrics();
    const bound = new ReplaySubject<number>(1);
    const first = new ReplaySubject<Connection>(1);
    const subscription = listen({
      port: 0,
      host: '127.0.0.1',
      maxConnections: 1,
      events: m.events,
      listening: (a) => typeof a !== 'string' && bound.next(a.port),
    })
      .pipe(
        mergeMap((conn) => {
          first.next(conn);
          const cm = m.connection(conn);
          return conn.data$.pipe(
            decodeLines(),
            cm.countFramesIn(),
            map((l) => `got ${l}\n`),
            cm.countFramesOut(),
            sendTo(conn, { stats: cm.send }),
          );
        }),
      )
      .subscribe();
    try {
      const port = await firstValueFrom(bound);
      const a = await plainConnect(port);
      await firstValueFrom(first);
      // Over the limit: Node closes it at once and the server tells a drop.
      const dropped = firstValueFrom(m.metrics$.pipe(filter((s) => s.dropped === 1)));
      const b = await plainConnect(port);
      b.on('error', () => {});
      await dropped;
      await closed(b);
      const reply = readAll(a);
      a.end('one\ntwo\n');
      expect((await reply).toString()).toBe('got one\ngot two\n');
      await closed(a);
      await firstValueFrom(m.metrics$.pipe(filter((s) => s.open === 0)));
      expect(m.snapshot()).toMatchObject({
        listening: true,
        open: 0,
        peakOpen: 1,
        accepted: 1,
        dropped: 1,
        bytesRead: 8,
        bytesWritten: 16,
        framesIn: 2,
        framesOut: 2,
      });
    } finally {
      subscription.unsubscribe();
    }
    await expectTcpHandlesBackTo(baseline);
  });
});
