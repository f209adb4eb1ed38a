// SocketConnection on real loopback sockets: its events$, addresses and byte counters, bytes read before data$ is
// subscribed, writing after the peer's FIN, and a write after end. Its read gate: spec/core/SocketGate.spec.ts.
import { createHash, randomBytes } from 'crypto';
import {
  EMPTY,
  Subject,
  catchError,
  defer,
  finalize,
  firstValueFrom,
  map,
  mergeMap,
  of,
  take,
  tap,
  toArray,
} from 'rxjs';
import { connect } from '../../lib/core/connect';
import { WriteAfterEndError } from '../../lib/errors';
import { sendStats, sendTo } from '../../lib/core/sendTo';
import type { ConnectionEvent } from '../../lib/types';
import { closed, plainConnect, readAll, startServer } from '../support/net';

describe('SocketConnection', () => {
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

  it('loses no byte written before the server subscribes to data$', async () => {
    const clientDone = new Subject<void>();
    // Small enough to sit in the kernel's buffers while the server does not read.
    const payload = randomBytes(32 * 1024);
    const server = await startServer((conn) =>
      // Subscribe to data$ only after the client has written (and ended) everything.
      clientDone.pipe(
        take(1),
        mergeMap(() => conn.data$),
        toArray(),
        mergeMap((chunks) => {
          conn.end(createHash('sha256').update(Buffer.concat(chunks)).digest('hex'));
          return EMPTY;
        }),
      ),
    );
    try {
      const client = await plainConnect(server.port);
      const reply = readAll(client);
      // Written at once on connect, in several writes; the server subscribes once all was flushed.
      for (let i = 0; i < 8; i++) client.write(payload.subarray(i * 4096, (i + 1) * 4096));
      client.end(() => clientDone.next());
      expect((await reply).toString()).toBe(createHash('sha256').update(payload).digest('hex'));
      await closed(client);
    } finally {
      server.subscription.unsubscribe();
    }
  });

  it('keeps a connection writable after the peer half-closes, and end() flushes before FIN', async () => {
    const big = randomBytes(4 * 1024 * 1024);
    const server = await startServer((conn) =>
      defer(() => conn.data$.pipe(toArray())).pipe(
        mergeMap((chunks) => {
          // data$ completed on the client's FIN; we can still write, then end.
          expect(conn.writeEnded).toBe(false);
          conn.write(Buffer.concat(chunks));
          conn.write(big);
          conn.end();
          return EMPTY;
        }),
      ),
    );
    try {
      const client = await plainConnect(server.port);
      const reply = readAll(client);
      client.end('question');
      const bytes = await reply;
      expect(bytes.subarray(0, 8).toString()).toBe('question');
      expect(bytes.subarray(8).equals(big)).toBe(true);
      await closed(client);
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
