// Metrics: connection figures in virtual time on the test kit; server figures from events and over loopback.
import { ReplaySubject, asyncScheduler, distinctUntilChanged, filter, firstValueFrom, map, mergeMap, of } from 'rxjs';
import { connectionMetrics, serverMetrics } from '../../lib/observe/metrics';
import type { ConnectionSnapshot, ServerSnapshot } from '../../lib/observe/metrics';
import { decodeLines } from '../../lib/framing/lines/decodeLines';
import { sendTo } from '../../lib/core/sendTo';
import { listen } from '../../lib/core/listen';
import type { ServerEvent } from '../../lib/core/listen';
import { bytes, connectionPair, createTestScheduler } from '../../lib/testing';
import type { Connection } from '../../lib/types';
import { behavesAsOperator } from '../support/operatorContract';
import { closed, expectTcpHandlesBackTo, plainConnect, readAll, tcpHandleCount } from '../support/net';

const marbles = () => createTestScheduler({ assertDeepEqual: (actual, expected) => expect(actual).toEqual(expected) });
/** Runs `work` at `frame` of the current TestScheduler.run (asyncScheduler is virtual there). */
const at = (frame: number, work: () => void) => asyncScheduler.schedule(work, frame);

describe('connectionMetrics', () => {
  behavesAsOperator(() => connectionMetrics(connectionPair()[1]).countFramesIn<Buffer>(), Buffer.from('x'));

  it("counts bytes read and written from the connection's own counters, and frames where they are counted", () => {
    marbles().run(({ cold, flush }) => {
      const [client, server] = connectionPair();
      const m = connectionMetrics(server);
      cold('-a-b|', bytes({ a: 'one\ntw', b: 'o\nthree\n' }))
        .pipe(sendTo(client, { end: false }))
        .subscribe();
      server.data$
        .pipe(
          decodeLines(),
          m.countFramesIn(),
          map((line) => `${line.length}\n`),
          m.countFramesOut(),
          sendTo(server, { stats: m.send }),
        )
        .subscribe();
      flush();
      expect(m.snapshot()).toEqual<ConnectionSnapshot>({
        id: server.id,
        open: true,
        bytesRead: 14,
        bytesWritten: 6,
        framesIn: 3,
        framesOut: 3,
        notWritable: 0,
        written: 3,
        queued: 0,
        peakQueued: 0,
        dropped: 0,
      });
    });
  });

  it('tells how often the socket buffer was full and what the sink queued and dropped', () => {
    marbles().run(({ cold, flush }) => {
      const [, server] = connectionPair();
      const m = connectionMetrics(server);
      at(1, () => server.outbound.stall());
      at(8, () => server.outbound.resume());
      cold('-abcde|', bytes({ a: 'a', b: 'b', c: 'c', d: 'd', e: 'e' }))
        .pipe(sendTo(server, { highWaterMark: 2, overflow: 'drop-oldest', stats: m.send, end: false }))
        .subscribe();
      at(6, () => expect(m.snapshot()).toMatchObject({ notWritable: 1, queued: 2, peakQueued: 2, dropped: 2 }));
      flush();
      expect(m.snapshot()).toMatchObject({ notWritable: 1, written: 3, queued: 0, peakQueued: 2, dropped: 2 });
    });
  });

  it('emits a snapshot at once, then as chunks are read and written, and a final one at close, then completes', () => {
    marbles().run(({ cold, expectObservable }) => {
      const [client, server] = connectionPair();
      const m = connectionMetrics(server);
      server.data$.pipe(sendTo(server)).subscribe();
      cold('--a--b|', bytes({ a: 'hi', b: 'there' }))
        .pipe(sendTo(client))
        .subscribe();
      const figures = m.metrics$.pipe(map((s) => `${s.bytesRead}/${s.bytesWritten}${s.open ? '' : ' closed'}`));
      // At 2 'hi' is read and echoed at once, at 5 'there'; at 6 both FINs went through: closed.
      expectObservable(figures.pipe(distinctUntilChanged())).toBe('a-b--c(d|)', {
        a: '0/0',
        b: '2/2',
        c: '7/7',
        d: '7/7 closed',
      });
    });
  });

  it('keeps the final figures once the connection has closed, and completes metrics$ at once after', () => {
    marbles().run(({ flush }) => {
      const [client, server] = connectionPair();
      const m = connectionMetrics(server);
      server.data$.pipe(sendTo(server)).subscribe();
      of(Buffer.from('bye')).pipe(sendTo(client)).subscribe();
      flush();
      expect(server.closed).toBe(true);
      const final = m.snapshot();
      expect(final).toMatchObject({ open: false, bytesRead: 3, bytesWritten: 3 });
      let seen: ConnectionSnapshot[] = [];
      let completed = false;
      m.metrics$.subscribe({ next: (s) => seen.push(s), complete: () => (completed = true) });
      expect(seen).toEqual([final]);
      expect(completed).toBe(true);
      seen = [];
      expect(connectionMetrics(server).snapshot()).toMatchObject({ open: false, bytesRead: 3 });
    });
  });
});

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
      { type: 'drop', remoteAddress: '127.0.0.1', remotePort: 5000, open: 2 },
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
