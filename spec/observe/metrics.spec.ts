// serverMetrics(): a server's figures from hand-made server events and in-memory connections.
// A real server counted through listen({ events }) is in spec/integration/metrics.spec.ts.
import { map } from 'rxjs';
import { serverMetrics } from '../../lib/observe/metrics';
import type { ServerSnapshot } from '../../lib/observe/metrics';
import { decodeLines } from '../../lib/framing/lines/decodeLines';
import { sendTo } from '../../lib/core/sendTo';
import type { ServerEvent } from '../../lib/core/listen';
import { connectionPair, createTestScheduler } from '../../lib/testing';

const marbles = () => createTestScheduler({ assertDeepEqual: (actual, expected) => expect(actual).toEqual(expected) });

describe('serverMetrics', () => {
  /** A server-side in-memory connection to name in hand-made server events. */
  const pairs = () => connectionPair()[1];

  it('follows open, peak, accepted and dropped connections from the server events', () => {
    const m = serverMetrics();
    const [a, b] = [pairs(), pairs()];
    const events: ServerEvent[] = [
      { type: 'listening', address: { address: '127.0.0.1', family: 'IPv4', port: 1337 } },
      { type: 'connection', connection: a, open: 1 },
      { type: 'connection', connection: b, open: 2 },
      { type: 'drop', reason: 'max-connections', remoteAddress: '127.0.0.1', remotePort: 5000, open: 2 },
      { type: 'disconnect', connection: a, hadError: false, open: 1 },
      { type: 'error', error: new Error('EMFILE') },
      { type: 'shutdown', open: 1 },
    ];
    for (const e of events) m.events.next(e);
    expect(m.snapshot()).toMatchObject<Partial<ServerSnapshot>>({
      address: { address: '127.0.0.1', family: 'IPv4', port: 1337 },
      listening: true,
      shuttingDown: true,
      open: 1,
      peakOpen: 2,
      accepted: 2,
      dropped: 1,
      errors: 1,
    });
    m.events.next({ type: 'close' });
    expect(m.snapshot()).toMatchObject({ listening: false, address: undefined });
  });

  it('emits the current snapshot at once, then one after every server event', () => {
    const m = serverMetrics();
    const opens: number[] = [];
    m.metrics$.pipe(map((s) => s.open)).subscribe((n) => opens.push(n));
    const a = pairs();
    m.events.next({ type: 'connection', connection: a, open: 1 });
    m.events.next({ type: 'disconnect', connection: a, hadError: false, open: 0 });
    expect(opens).toEqual([0, 1, 0]);
  });

  it("hands out one connection's metrics per connection, created on its connection event", () => {
    const m = serverMetrics();
    const a = pairs();
    m.events.next({ type: 'connection', connection: a, open: 1 });
    expect(m.connection(a)).toBe(m.connection(a));
    expect(m.connection(a).connection).toBe(a);
  });

  it('adds up the frames and queue figures of open and closed connections', () => {
    marbles().run(({ cold, flush }) => {
      const m = serverMetrics();
      const [c1, s1] = connectionPair();
      const [c2, s2] = connectionPair();
      for (const [client, server, text] of [
        [c1, s1, 'a\nb\n'],
        [c2, s2, 'c\n'],
      ] as const) {
        m.events.next({ type: 'connection', connection: server, open: 1 });
        const cm = m.connection(server);
        server.data$
          .pipe(
            decodeLines(),
            cm.countFramesIn(),
            cm.countFramesOut(),
            map((l) => `${l}\n`),
            sendTo(server, { stats: cm.send }),
          )
          .subscribe();
        cold('-a|', { a: Buffer.from(text) })
          .pipe(sendTo(client, { end: client === c1 }))
          .subscribe();
      }
      flush();
      expect(s1.closed).toBe(true);
      expect(s2.closed).toBe(false);
      expect(m.snapshot()).toMatchObject({
        bytesRead: 6,
        bytesWritten: 6,
        framesIn: 3,
        framesOut: 3,
        written: 3,
        peakQueued: 0,
      });
    });
  });
});
