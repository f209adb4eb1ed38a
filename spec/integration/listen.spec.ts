// listen() on real loopback sockets: the server closed and its accepted sockets destroyed on unsubscribe, a bind
// error as the error notification, a unix socket path. Its options: spec/core/listenOptions.spec.ts; its accepted
// connections and their close timers: ServerConnections; graceful shutdown and maxConnections: shutdown.spec.ts.
import * as fs from 'fs';
import * as net from 'net';
import * as os from 'os';
import * as path from 'path';
import { NEVER, Subject, firstValueFrom, lastValueFrom, mergeMap, toArray } from 'rxjs';
import { connect } from '../../lib/core/connect';
import { sendTo } from '../../lib/core/sendTo';
import { listen } from '../../lib/core/listen';
import type { Connection } from '../../lib/types';
import { closed, expectTcpHandlesBackTo, once, plainConnect, startServer, tcpHandleCount } from '../support/net';

describe('listen', () => {
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

  it("delivers EADDRINUSE as the error notification with Node's code", async () => {
    const server = await startServer(() => NEVER);
    try {
      const error = await firstValueFrom(listen({ port: server.port, host: '127.0.0.1' })).catch((e) => e);
      expect(error).toMatchObject({ code: 'EADDRINUSE', syscall: 'listen' });
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
