// Server lifecycle on real sockets: graceful shutdown, grace period, maxConnections, server events.
import * as net from 'net';
import { NEVER, ReplaySubject, Subject, VirtualTimeScheduler, firstValueFrom, ignoreElements, mergeMap } from 'rxjs';
import { sendTo } from '../../lib/core/sendTo';
import { listen } from '../../lib/core/listen';
import type { ListenOptions, ServerEvent } from '../../lib/core/listen';
import type { Connection } from '../../lib/types';
import { closed, expectTcpHandlesBackTo, plainConnect, readAll, tcpHandleCount } from '../support/net';

/** Starts `listen` with the given options; resolves the port, and the list of events told. */
async function start(options: Partial<ListenOptions>, handle: (c: Connection) => import('rxjs').Observable<unknown>) {
  const events: ServerEvent[] = [];
  const port$ = new ReplaySubject<number>(1);
  const completed = new ReplaySubject<void>(1);
  const subscription = listen({
    port: 0,
    host: '127.0.0.1',
    ...options,
    events: (e) => {
      events.push(e);
      if (e.type === 'listening' && typeof e.address !== 'string') port$.next(e.address.port);
    },
  })
    .pipe(mergeMap(handle))
    .subscribe({ complete: () => completed.next(), error: (e) => port$.error(e) });
  return { port: await firstValueFrom(port$), events, subscription, completed: firstValueFrom(completed) };
}

const types = (events: ServerEvent[]) => events.map((e) => e.type);

describe('graceful shutdown', () => {
  it('stops accepting, lets open connections finish, and completes when the last has closed', async () => {
    const shutdown = new Subject<void>();
    const server = await start({ shutdown, onShutdown: (c) => c.write('server going down\n') }, (conn) =>
      conn.data$.pipe(sendTo(conn)),
    );
    const client = await plainConnect(server.port);
    const reply = readAll(client);
    client.write('before\n');
    while (!server.events.some((e) => e.type === 'connection')) await new Promise((r) => setImmediate(r));
    shutdown.next();
    // New connections are refused now.
    const refused = await plainConnect(server.port).catch((e) => e.code);
    expect(refused).toBe('ECONNREFUSED');
    // The open one still works: it finishes its exchange and ends.
    client.end('after\n');
    const text = (await reply).toString();
    expect(text).toContain('before\n');
    expect(text).toContain('server going down\n');
    expect(text).toContain('after\n');
    await server.completed;
    await closed(client);
    expect(types(server.events)).toEqual(['listening', 'connection', 'shutdown', 'disconnect', 'close']);
  });

  it('accepts an AbortSignal and completes at once when no connection is open', async () => {
    const baseline = tcpHandleCount();
    const controller = new AbortController();
    const server = await start({ shutdown: controller.signal }, () => NEVER);
    controller.abort();
    await server.completed;
    expect(types(server.events)).toEqual(['listening', 'shutdown', 'close']);
    await expectTcpHandlesBackTo(baseline);
  });

  it('destroys the connections still open when the grace period (on its scheduler) ends', async () => {
    const scheduler = new VirtualTimeScheduler();
    const shutdown = new Subject<void>();
    // The handler ends with its connection (data$ completes when the socket closes).
    const server = await start({ shutdown, gracePeriod: 5000, scheduler }, (conn) => conn.data$.pipe(ignoreElements()));
    const stubborn = await plainConnect(server.port);
    stubborn.on('error', () => undefined);
    while (!server.events.some((e) => e.type === 'connection')) await new Promise((r) => setImmediate(r));
    shutdown.next();
    expect(stubborn.destroyed).toBe(false);
    scheduler.flush(); // 5000 virtual ms pass
    await closed(stubborn);
    await server.completed;
    expect(types(server.events).slice(-2)).toEqual(['disconnect', 'close']);
  });
});

describe('maxConnections', () => {
  it('refuses connections over the limit and reports them as drop events', async () => {
    const server = await start({ maxConnections: 2 }, (conn) => conn.data$.pipe(sendTo(conn)));
    try {
      const a = await plainConnect(server.port);
      const b = await plainConnect(server.port);
      while (server.events.filter((e) => e.type === 'connection').length < 2) await new Promise((r) => setImmediate(r));
      const c = await plainConnect(server.port);
      const cPort = c.localPort;
      c.on('error', () => undefined);
      await closed(c);
      const drop = server.events.find((e) => e.type === 'drop');
      expect(drop).toMatchObject({
        type: 'drop',
        reason: 'max-connections',
        remoteAddress: '127.0.0.1',
        remotePort: cPort,
        open: 2,
      });
      // The two within the limit are served.
      const replies = [readAll(a), readAll(b)];
      a.end('a');
      b.end('b');
      expect((await Promise.all(replies)).map(String)).toEqual(['a', 'b']);
      await Promise.all([closed(a), closed(b)]);
      const counts = server.events
        .filter((e) => e.type === 'connection' || e.type === 'disconnect')
        .map((e) => (e as { open: number }).open);
      expect(counts).toEqual([1, 2, 1, 0]);
    } finally {
      server.subscription.unsubscribe();
    }
  });
});

describe('scale', () => {
  it('holds 2,000 concurrent connections, exchanges a message on each, then shuts down gracefully', async () => {
    const count = 2000;
    const before = tcpHandleCount();
    const shutdown = new Subject<void>();
    const server = await start({ shutdown, backlog: 4096 }, (conn) =>
      conn.data$.pipe(sendTo(conn, { end: false }), ignoreElements()),
    );
    const sockets: net.Socket[] = [];
    // Open in batches so the accept queue is never the bottleneck.
    for (let i = 0; i < count; i += 200) {
      sockets.push(
        ...(await Promise.all(Array.from({ length: Math.min(200, count - i) }, () => plainConnect(server.port)))),
      );
    }
    while (server.events.filter((e) => e.type === 'connection').length < count)
      await new Promise((r) => setImmediate(r));
    expect(server.events.filter((e) => e.type === 'connection').pop()).toMatchObject({ open: count });
    // Every connection exchanges one message while all are open.
    const answers = await Promise.all(
      sockets.map(
        (s, i) =>
          new Promise<string>((resolve) => {
            s.once('data', (d) => resolve(d.toString()));
            s.write(`#${i}`);
          }),
      ),
    );
    expect(answers.every((a, i) => a === `#${i}`)).toBe(true);
    // Graceful shutdown: each client then ends; the server completes when the last has closed.
    shutdown.next();
    for (const s of sockets) s.end();
    await Promise.all(sockets.map((s) => closed(s)));
    await server.completed;
    expect(server.events.filter((e) => e.type === 'disconnect')).toHaveLength(count);
    await expectTcpHandlesBackTo(before);
  });
});
