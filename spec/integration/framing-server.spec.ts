// Framing on real loopback sockets: a frame over its limit ends that connection cleanly, with a reply, and the server goes on.
import * as net from 'net';
import {
  EMPTY,
  Observable,
  Subject,
  catchError,
  concatWith,
  defer,
  filter,
  firstValueFrom,
  ignoreElements,
  map,
  of,
  take,
  tap,
  throwError,
} from 'rxjs';
import { FrameTooLongError } from '../../lib/errors';
import { decodeLengthField } from '../../lib/framing/lengthField/decodeLengthField';
import { decodeLines } from '../../lib/framing/lines/decodeLines';
import { sendTo } from '../../lib/core/sendTo';
import type { Connection } from '../../lib/types';
import { closed, plainConnect, startServer } from '../support/net';

const MAX_LINE = 16;

/**
 * A line echo that answers a too-long line with one error line, then ends that connection: the
 * reply and our FIN go out, and whatever the peer still sends is read and dropped until it
 * closes (otherwise a peer that keeps streaming is never seen to go away).
 */
function lineService(conn: Connection, heldBeforeError: number[]): Observable<never> {
  let received = 0;
  const drainUntilClosed = defer(() =>
    conn.data$.pipe(
      ignoreElements(),
      catchError(() => EMPTY),
    ),
  );
  return conn.data$.pipe(
    tap((chunk) => (received += chunk.length)),
    decodeLines({ maxLength: MAX_LINE }),
    map((line) => `echo ${line.toString('utf8')}\n`),
    catchError((error: unknown) => {
      if (!(error instanceof FrameTooLongError)) return throwError(() => error);
      heldBeforeError.push(received);
      return of(`ERR ${error.code} limit=${error.limit}\n`);
    }),
    sendTo(conn),
    concatWith(drainUntilClosed),
  );
}

/** Collects what a plain socket receives, and tells each time a line is complete. */
function reader(socket: net.Socket) {
  let text = '';
  const lines$ = new Subject<string>();
  socket.setEncoding('utf8');
  socket.on('data', (chunk: string) => {
    text += chunk;
    let index: number;
    while ((index = text.indexOf('\n')) >= 0) {
      lines$.next(text.slice(0, index));
      text = text.slice(index + 1);
    }
  });
  const ended = new Promise<void>((resolve) => socket.once('end', resolve));
  return { next: () => firstValueFrom(lines$.pipe(take(1))), ended };
}

/** Emits the id of each server-side connection as it closes. */
function serverCloses() {
  const closes = new Subject<number>();
  const watch = (conn: Connection) =>
    conn.events$.pipe(filter((e) => e.type === 'close')).subscribe(() => closes.next(conn.id));
  return { closes, watch };
}

describe('framing on a real socket', () => {
  it('ends only the connection that sent a line over maxLength, after replying, while the others are still served', async () => {
    const held: number[] = [];
    const { closes, watch } = serverCloses();
    const accepted: Connection[] = [];
    const server = await startServer((conn) => {
      accepted.push(conn);
      watch(conn);
      return lineService(conn, held);
    });
    const sockets: net.Socket[] = [];
    try {
      const good = await plainConnect(server.port);
      sockets.push(good);
      const goodIn = reader(good);
      good.write('hello\n');
      expect(await goodIn.next()).toBe('echo hello');

      const bad = await plainConnect(server.port);
      sockets.push(bad);
      const badIn = reader(bad);
      const badClosedOnServer = firstValueFrom(closes.pipe(filter((id) => id === accepted[1].id)));
      bad.write('x'.repeat(100) + '\n');
      expect(await badIn.next()).toBe(`ERR ERR_FRAME_TOO_LONG limit=${MAX_LINE}`);
      await badIn.ended;
      bad.end();
      await closed(bad);
      await badClosedOnServer;

      // The first connection is untouched, and new ones are accepted and served.
      good.write('still here\n');
      expect(await goodIn.next()).toBe('echo still here');
      const late = await plainConnect(server.port);
      sockets.push(late);
      const lateIn = reader(late);
      late.write('late\r\n');
      expect(await lateIn.next()).toBe('echo late');

      for (const socket of [good, late]) socket.end();
      await Promise.all([goodIn.ended, lateIn.ended, closed(good), closed(late)]);
    } finally {
      for (const socket of sockets) socket.destroy();
      server.subscription.unsubscribe();
    }
    expect(server.errors).toEqual([]);
    expect(held).toEqual([101]);
  });

  it('stops a line streamed without end after the limit plus one chunk, and still delivers the reply', async () => {
    const held: number[] = [];
    const { closes, watch } = serverCloses();
    const server = await startServer((conn) => {
      watch(conn);
      return lineService(conn, held);
    });
    let socket: net.Socket | undefined;
    try {
      socket = await plainConnect(server.port);
      const client = socket;
      const incoming = reader(client);
      const serverClosed = firstValueFrom(closes);
      // Up to 4 MiB without a newline, in 64 KiB writes: far more than the server may hold.
      const block = Buffer.alloc(64 * 1024, 0x61);
      const writer = (async () => {
        for (let i = 0; i < 64 && client.writable; i++) {
          if (!client.write(block)) {
            await new Promise((resolve) => {
              client.once('drain', resolve);
              client.once('close', resolve);
            });
          }
        }
      })();
      expect(await incoming.next()).toBe(`ERR ERR_FRAME_TOO_LONG limit=${MAX_LINE}`);
      await incoming.ended;
      // Told to go away while still having megabytes queued, the client drops them and closes.
      client.destroy();
      await Promise.all([closed(client), writer, serverClosed]);
    } finally {
      socket?.destroy();
      server.subscription.unsubscribe();
    }
    expect(server.errors).toEqual([]);
    expect(held).toHaveLength(1);
    // The bytes read before the error: over the limit, but by no more than one socket read.
    expect(held[0]).toBeGreaterThan(MAX_LINE);
    expect(held[0]).toBeLessThanOrEqual(MAX_LINE + 1 + 64 * 1024);
  });

  it('refuses a frame whose length field announces too much as soon as the header arrives, before any body', async () => {
    const server = await startServer((conn) =>
      conn.data$.pipe(
        decodeLengthField({ maxFrameLength: 1024, lengthFieldLength: 4, initialBytesToStrip: 4 }),
        map((frame) => Buffer.concat([Buffer.from('ok:'), frame])),
        catchError((error: unknown) =>
          error instanceof FrameTooLongError ? of(Buffer.from(`too long: ${error.length}`)) : throwError(() => error),
        ),
        sendTo(conn),
      ),
    );
    let socket: net.Socket | undefined;
    try {
      socket = await plainConnect(server.port);
      const chunks: Buffer[] = [];
      socket.on('data', (c: Buffer) => chunks.push(c));
      const ended = new Promise<void>((resolve) => socket!.once('end', resolve));
      const header = Buffer.alloc(4);
      header.writeUInt32BE(1 << 30, 0);
      // Only the header of a 1 GiB frame is sent: the reply must not wait for the body.
      socket.write(Buffer.concat([Buffer.from([0, 0, 0, 2, 0x68, 0x69]), header]));
      await ended;
      expect(Buffer.concat(chunks).toString()).toBe(`ok:hitoo long: ${(1 << 30) + 4}`);
      socket.end();
      await closed(socket);
    } finally {
      socket?.destroy();
      server.subscription.unsubscribe();
    }
    expect(server.errors).toEqual([]);
  });
});
