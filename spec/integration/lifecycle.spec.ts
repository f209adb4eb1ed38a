// Real loopback sockets: teardown, bind and connect errors, resets, write after end, reconnect.
import * as fs from 'fs';
import * as net from 'net';
import * as os from 'os';
import * as path from 'path';
import {
  EMPTY,
  NEVER,
  Subject,
  VirtualTimeScheduler,
  catchError,
  finalize,
  firstValueFrom,
  lastValueFrom,
  map,
  mergeMap,
  of,
  retry,
  take,
  tap,
  toArray,
} from 'rxjs';
import { connect } from '../../lib/core/connect';
import { backoff } from '../../lib/util/backoff';
import { ConnectTimeoutError, WriteAfterEndError } from '../../lib/errors';
import { sendStats, sendTo } from '../../lib/core/sendTo';
import { listen } from '../../lib/core/listen';
import type { Connection, ConnectionEvent } from '../../lib/types';
import {
  closed,
  expectTcpHandlesBackTo,
  once,
  plainConnect,
  readAll,
  startServer,
  tcpHandleCount,
} from '../support/net';

/** A port that was free a moment ago (bind, read, close). */
async function freePort(): Promise<number> {
  const server = net.createServer().listen(0, '127.0.0.1');
  await once(server, 'listening');
  const port = (server.address() as net.AddressInfo).port;
  server.close();
  await once(server, 'close');
  return port;
}

describe('teardown', () => {
  it('closes the server and destroys accepted sockets on unsubscribe, leaving no handle open', async () => {
    const before = tcpHandleCount();
    const accepted: Connection[] = [];
    const server = await startServer((conn) => {
      accepted.push(conn);
      return NEVER;
    });
    const clients = await Promise.all([plainConnect(server.port), plainConnect(server.port)]);
    const clientsClosed = clients.map((c) => {
      c.on('error', () => undefined);
      return closed(c);
    });
    // Wait until both are accepted (the server side has seen them).
    while (accepted.length < 2) await new Promise((r) => setImmediate(r));
    server.subscription.unsubscribe();
    await Promise.all(clientsClosed);
    await Promise.all(accepted.map((c) => (c.closed ? undefined : lastValueFrom(c.events$, { defaultValue: null }))));
    expect(accepted.every((c) => c.closed)).toBe(true);
    await expectTcpHandlesBackTo(before);
    // The port is free again: a new plain server can bind it.
    const again = net.createServer().listen(server.port, '127.0.0.1');
    await once(again, 'listening');
    again.close();
    await once(again, 'close');
  });

  it('destroys the client socket when a connect subscription is unsubscribed', async () => {
    const server = await startServer(() => NEVER);
    try {
      const conn = await firstValueFrom(connect({ port: server.port, host: '127.0.0.1' }));
      // firstValueFrom unsubscribed after the first value: the socket must be going down.
      await lastValueFrom(conn.events$, { defaultValue: null });
      expect(conn.closed).toBe(true);
    } finally {
      server.subscription.unsubscribe();
    }
  });
});

describe('errors', () => {
  it("delivers EADDRINUSE as the error notification with Node's code", async () => {
    const server = await startServer(() => NEVER);
    try {
      const error = await firstValueFrom(listen({ port: server.port, host: '127.0.0.1' })).catch((e) => e);
      expect(error).toMatchObject({ code: 'EADDRINUSE', syscall: 'listen' });
    } finally {
      server.subscription.unsubscribe();
    }
  });

  it('delivers ECONNREFUSED as the error notification of connect', async () => {
    const port = await freePort();
    const error = await firstValueFrom(connect({ port, host: '127.0.0.1' })).catch((e) => e);
    expect(error.code).toBe('ECONNREFUSED');
  });

  it('fails with ConnectTimeoutError when the timeout (on its scheduler) fires before the connection', async () => {
    const scheduler = new VirtualTimeScheduler();
    const server = await startServer(() => NEVER);
    try {
      const result = firstValueFrom(connect({ port: server.port, host: '127.0.0.1', timeout: 1000, scheduler })).catch(
        (e) => e,
      );
      scheduler.flush(); // virtual 1000 ms pass before the kernel could answer
      const error = await result;
      expect(error).toBeInstanceOf(ConnectTimeoutError);
      expect(error).toMatchObject({ name: 'ConnectTimeoutError', code: 'ERR_CONNECT_TIMEOUT', timeout: 1000 });
    } finally {
      server.subscription.unsubscribe();
    }
  });

  it("errors only the reset connection's data$, ends its sink quietly and keeps serving the others", async () => {
    const outcomes: string[] = [];
    const dataErrors: string[] = [];
    const reset = new Subject<void>();
    const server = await startServer((conn) => {
      conn.data$.subscribe({ error: (error) => dataErrors.push(error.code) });
      return conn.data$.pipe(
        tap((chunk) => {
          if (chunk.toString() === 'first') reset.next();
        }),
        sendTo(conn),
        tap({
          complete: () =>
            outcomes.push(
              `completed ${conn.closeReason ? (conn.closeReason as NodeJS.ErrnoException).code : 'cleanly'}`,
            ),
        }),
        catchError((error) => {
          outcomes.push(`error ${error.code}`);
          return EMPTY;
        }),
      );
    });
    try {
      const victim = await plainConnect(server.port);
      victim.on('error', () => undefined);
      const resetDone = firstValueFrom(reset);
      victim.write('first');
      await resetDone;
      victim.resetAndDestroy();
      await closed(victim);
      // Another client is served normally after the reset.
      const other = await plainConnect(server.port);
      const reply = readAll(other);
      other.end('still here');
      expect((await reply).toString()).toBe('still here');
      await closed(other);
      while (outcomes.length < 2) await new Promise((r) => setImmediate(r));
      expect(outcomes).toEqual(['completed ECONNRESET', 'completed cleanly']);
      expect(dataErrors).toEqual(['ECONNRESET']);
      expect(server.errors).toEqual([]);
    } finally {
      server.subscription.unsubscribe();
    }
  });

  it('throws a typed WriteAfterEndError on write after end, and a sink stops quietly, counting it unsent', async () => {
    const seen: unknown[] = [];
    const stats = sendStats();
    const server = await startServer((conn) => {
      conn.end('bye');
      try {
        conn.write('too late');
      } catch (error) {
        seen.push(error);
      }
      return of('also too late').pipe(
        sendTo(conn, { end: false, stats }),
        tap({ complete: () => seen.push('sink completed') }),
      );
    });
    try {
      const client = await plainConnect(server.port);
      expect((await readAll(client)).toString()).toBe('bye');
      client.end();
      await closed(client);
      expect(seen).toHaveLength(2);
      expect(seen[0]).toBeInstanceOf(WriteAfterEndError);
      expect(seen[0]).toMatchObject({ code: 'ERR_WRITE_AFTER_END' });
      expect(seen[1]).toBe('sink completed');
      expect([stats.written, stats.unsent]).toEqual([0, 1]);
      expect(server.errors).toEqual([]);
    } finally {
      server.subscription.unsubscribe();
    }
  });
});

describe('reconnect', () => {
  it('connect(...).pipe(retry({ delay: backoff() })) succeeds once a server appears on the port', async () => {
    const port = await freePort();
    const failures: string[] = [];
    let server: { unsubscribe(): void } | undefined;
    try {
      const conn = await firstValueFrom(
        connect({ port, host: '127.0.0.1' }).pipe(
          tap({
            error: (error) => {
              failures.push(error.code);
              // The server appears after the second refusal.
              if (failures.length === 2) {
                server = listen({ port, host: '127.0.0.1' })
                  .pipe(mergeMap((c) => c.data$.pipe(sendTo(c))))
                  .subscribe();
              }
            },
          }),
          retry({ count: 20, delay: backoff({ initialDelay: 5, maxDelay: 50 }) }),
          take(1),
        ),
      );
      expect(failures.slice(0, 2)).toEqual(['ECONNREFUSED', 'ECONNREFUSED']);
      expect(conn.remotePort).toBe(port);
    } finally {
      server?.unsubscribe();
    }
  });
});

describe('connections', () => {
  it('reports socket events on events$ as a typed union, ending with close', async () => {
    const server = await startServer((conn) => conn.data$.pipe(sendTo(conn)));
    try {
      const events = await firstValueFrom(
        connect({ port: server.port, host: '127.0.0.1' }).pipe(
          mergeMap((conn) => {
            const types: string[] = [];
            conn.events$.subscribe((e: ConnectionEvent) => types.push(e.type));
            conn.data$.subscribe();
            conn.end('ping');
            return conn.events$.pipe(
              toArray(),
              map(() => types),
            );
          }),
        ),
      );
      expect(events).toEqual(expect.arrayContaining(['data', 'written', 'finish', 'end', 'close']));
      expect(events[events.length - 1]).toBe('close');
    } finally {
      server.subscription.unsubscribe();
    }
  });

  it.each([
    ["a specific address (the local address is the server's, not asked of the kernel)", '127.0.0.1'],
    ['the wildcard address (the local address is asked of the kernel)', '0.0.0.0'],
  ])('keeps the addresses of a connection accepted on %s after it closed', async (_, host) => {
    const seen: { local: string; remote: string }[] = [];
    let clientPort = 0;
    const server = await startServer(
      (conn) =>
        conn.data$.pipe(
          sendTo(conn),
          finalize(() =>
            seen.push({
              local: `${conn.localAddress}:${conn.localPort}`,
              remote: `${conn.remoteAddress}:${conn.remotePort}/${conn.remoteFamily}`,
            }),
          ),
          // The reset errors this connection's pipeline only.
          catchError(() => EMPTY),
        ),
      { host },
    );
    try {
      const client = await plainConnect(server.port);
      clientPort = client.localPort!;
      // The client resets: the kernel forgets the connection before the server side closes.
      client.resetAndDestroy();
      while (seen.length === 0) await new Promise((resolve) => setImmediate(resolve));
      expect(seen).toEqual([{ local: `127.0.0.1:${server.port}`, remote: `127.0.0.1:${clientPort}/IPv4` }]);
    } finally {
      server.subscription.unsubscribe();
    }
  });

  it('reports addresses, byte counters and writability', async () => {
    const server = await startServer((conn) => conn.data$.pipe(sendTo(conn)));
    try {
      const seen = await firstValueFrom(
        connect({ port: server.port, host: '127.0.0.1', noDelay: true }).pipe(
          mergeMap((conn) => {
            const writable: boolean[] = [];
            conn.writable$.subscribe((w) => writable.push(w));
            conn.end('12345');
            return conn.data$.pipe(
              toArray(),
              map(() => ({
                remote: `${conn.remoteAddress}:${conn.remotePort}`,
                local: conn.localAddress,
                read: conn.bytesRead,
                written: conn.bytesWritten,
                writable,
              })),
            );
          }),
        ),
      );
      expect(seen).toEqual({
        remote: `127.0.0.1:${server.port}`,
        local: '127.0.0.1',
        read: 5,
        written: 5,
        writable: [true],
      });
    } finally {
      server.subscription.unsubscribe();
    }
  });

  it('listens on a unix socket path and connects to it', async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'rxnet-'));
    const socketPath = path.join(dir, 'echo.sock');
    const bound = new Subject<string>();
    const sub = listen({ path: socketPath, listening: (a) => bound.next(String(a)) })
      .pipe(mergeMap((c) => c.data$.pipe(sendTo(c))))
      .subscribe();
    try {
      const boundReady = firstValueFrom(bound);
      expect(await boundReady).toBe(socketPath);
      const reply = await firstValueFrom(
        connect({ path: socketPath }).pipe(
          mergeMap((conn) => {
            conn.end('over a unix socket');
            return conn.data$;
          }),
          toArray(),
        ),
      );
      expect(Buffer.concat(reply).toString()).toBe('over a unix socket');
    } finally {
      sub.unsubscribe();
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });
});
