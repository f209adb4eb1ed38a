// Resetting peers on real sockets: a server written the plain way goes on, a client retries after a reset.
import * as net from 'net';
import { Observable, firstValueFrom, map, merge, mergeMap, retry, take, tap, toArray } from 'rxjs';
import { connect } from '../../lib/core/connect';
import { endOnIdle } from '../../lib/time/endOnIdle';
import { idleWatch } from '../../lib/time/idleWatch';
import { decodeLines } from '../../lib/framing/lines/decodeLines';
import { sendTo } from '../../lib/core/sendTo';
import type { Connection } from '../../lib/types';
import { closed, once, plainConnect, readAll, startServer } from '../support/net';

/** Connects, writes `data`, waits until the server has answered something, then resets. */
async function writeAndReset(port: number, data: string): Promise<void> {
  const socket = await plainConnect(port);
  socket.on('error', () => undefined);
  socket.write(data);
  await once(socket, 'data');
  socket.resetAndDestroy();
  await closed(socket);
}

/** A new client's whole exchange: writes `data`, half-closes, returns all it read. */
async function exchange(port: number, data: string): Promise<string> {
  const socket = await plainConnect(port);
  const reply = readAll(socket);
  socket.end(data);
  const text = (await reply).toString();
  await closed(socket);
  return text;
}

const servers: [string, (conn: Connection) => Observable<unknown>][] = [
  ['an echo: data$ into sendTo', (conn) => conn.data$.pipe(sendTo(conn))],
  [
    'a line server: lines, map, sendTo with pauseSource',
    (conn) =>
      conn.data$.pipe(
        decodeLines(),
        map((line) => `Sending: ${line}\n`),
        sendTo(conn, { pauseSource: conn }),
      ),
  ],
  [
    'a line server with an idle policy merged in',
    (conn) =>
      merge(
        conn.data$.pipe(
          decodeLines(),
          map((line) => `Sending: ${line}\n`),
          sendTo(conn),
        ),
        conn.events$.pipe(idleWatch({ allIdle: 60_000 }), endOnIdle(conn, { goodbye: 'bye\n' })),
      ),
  ],
];

describe('a server piped with a bare mergeMap', () => {
  it.each(servers)('survives six peers that write and reset, then serves a new client: %s', async (_, handler) => {
    const server = await startServer(handler);
    try {
      for (let i = 0; i < 6; i++) await writeAndReset(server.port, `hello ${i}\n`);
      expect(await exchange(server.port, 'still here\n')).toMatch(/still here\n$/);
      expect(server.errors).toEqual([]);
    } finally {
      server.subscription.unsubscribe();
    }
  });

  it('keeps the reset as the connection’s closeReason, and data$ still errors with it', async () => {
    const seen: string[] = [];
    const server = await startServer((conn) => {
      // A subscriber of data$ itself sees the reset as its error.
      conn.data$.subscribe({ error: (error) => seen.push(`data$ ${error.code}`) });
      return merge(
        conn.data$.pipe(sendTo(conn)),
        conn.events$.pipe(
          tap((e) => {
            if (e.type === 'error') seen.push(`error ${(e.error as NodeJS.ErrnoException).code}`);
            if (e.type === 'close')
              seen.push(`close ${e.hadError} ${(conn.closeReason as NodeJS.ErrnoException)?.code}`);
          }),
        ),
      );
    });
    try {
      await writeAndReset(server.port, 'x');
      while (seen.length < 3) await new Promise((r) => setImmediate(r));
      expect(seen.sort()).toEqual(['close true ECONNRESET', 'data$ ECONNRESET', 'error ECONNRESET']);
      expect(server.errors).toEqual([]);
    } finally {
      server.subscription.unsubscribe();
    }
  });
});

describe('a client', () => {
  it("still retries after the peer's reset once it was connected (data$ and connect() both error)", async () => {
    let accepted = 0;
    const server = await startServer((conn) => {
      accepted++;
      // The first connection is reset by the server once it has read something; the second is served.
      if (accepted === 1) {
        return conn.data$.pipe(
          take(1),
          tap(() => conn.socket!.resetAndDestroy()),
        );
      }
      return conn.data$.pipe(sendTo(conn));
    });
    try {
      const errors: string[] = [];
      const replies = await firstValueFrom(
        connect({ port: server.port, host: '127.0.0.1' }).pipe(
          // The usual client: its data$ errors with the reset (and connect() then does too), so retry
          // reconnects, as it did before sinks ended quietly. The next test has no data$ to tell.
          mergeMap((conn) => {
            const answers = conn.data$.pipe(
              map((chunk) => chunk.toString()),
              tap({ error: () => undefined }),
            );
            return merge(
              new Observable<never>((subscriber) => {
                conn.write('ping');
                subscriber.complete();
              }),
              answers,
            );
          }),
          tap({ error: (error) => errors.push(error.code) }),
          retry(1),
          take(1),
          toArray(),
        ),
      );
      expect(errors).toEqual(['ECONNRESET']);
      expect(replies).toEqual(['ping']);
      expect(accepted).toBe(2);
    } finally {
      server.subscription.unsubscribe();
    }
  });

  it('sees connect() error when its sink-only pipeline is reset, so retry reconnects', async () => {
    let accepted = 0;
    // A plain server that resets the first connection once it has read from it, and serves the next.
    const plain = net.createServer({ allowHalfOpen: true }, (socket) => {
      socket.on('error', () => undefined);
      if (++accepted === 1) socket.once('data', () => socket.resetAndDestroy());
      else socket.once('data', (chunk) => socket.end(chunk));
    });
    plain.listen(0, '127.0.0.1');
    await once(plain, 'listening');
    const port = (plain.address() as net.AddressInfo).port;
    try {
      const attempts: string[] = [];
      await firstValueFrom(
        connect({ port, host: '127.0.0.1' }).pipe(
          mergeMap((conn) =>
            new Observable<string>((subscriber) => subscriber.next('one request')).pipe(take(1), sendTo(conn)),
          ),
          tap({ error: (error) => attempts.push(error.code), complete: () => attempts.push('done') }),
          retry(2),
          toArray(),
        ),
      );
      expect(attempts).toEqual(['ECONNRESET', 'done']);
      expect(accepted).toBe(2);
    } finally {
      plain.close();
      await once(plain, 'close');
    }
  });
});
