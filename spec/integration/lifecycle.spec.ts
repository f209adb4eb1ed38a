// Real loopback sockets: a connect subscription's teardown, connect errors, resets, reconnect. listen()'s teardown,
// bind errors and unix paths: listen.spec.ts; a connection's events, addresses and writes: SocketConnection.spec.ts.
import * as net from 'net';
import {
  EMPTY,
  NEVER,
  Subject,
  VirtualTimeScheduler,
  catchError,
  firstValueFrom,
  lastValueFrom,
  mergeMap,
  retry,
  take,
  tap,
} from 'rxjs';
import { connect } from '../../lib/core/connect';
import { backoff } from '../../lib/util/backoff';
import { ConnectTimeoutError } from '../../lib/errors';
import { sendTo } from '../../lib/core/sendTo';
import { listen } from '../../lib/core/listen';
import { closed, once, plainConnect, readAll, startServer } from '../support/net';

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
