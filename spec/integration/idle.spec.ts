// Real loopback sockets: the idle watch and its goodbye policy end an idle connection and leave a busy one alone.
import * as net from 'net';
import { filter, finalize, ignoreElements, interval, merge, takeWhile, tap } from 'rxjs';
import { endOnIdle } from '../../lib/time/endOnIdle';
import { idleWatch } from '../../lib/time/idleWatch';
import type { IdleEvent } from '../../lib/time/idleWatch';
import { sendTo } from '../../lib/core/sendTo';
import type { Connection } from '../../lib/types';
import { closed, plainConnect, readAll, startServer } from '../support/net';

const IDLE_MS = 200;

/** The seed's idle server, reactively: echo, and end connections idle for IDLE_MS with a goodbye. */
function idleEcho(seen: IdleEvent[]) {
  return (conn: Connection) =>
    merge(
      conn.data$.pipe(
        filter(() => !conn.writeEnded),
        sendTo(conn, { pauseSource: conn }),
      ),
      conn.events$.pipe(idleWatch({ allIdle: IDLE_MS }), endOnIdle(conn, { goodbye: 'idle timeout..' })),
    ).pipe(tap((e) => seen.push(e)));
}

/** Writes `ping n` and waits for its echo, every `gap` ms, `rounds` times, then ends. */
async function pingPong(socket: net.Socket, rounds: number, gap: number): Promise<string> {
  let text = '';
  socket.setEncoding('utf8');
  for (let i = 0; i < rounds; i++) {
    const message = `ping ${i}\n`;
    const echoed = new Promise<void>((resolve, reject) => {
      const onData = (data: string) => {
        text += data;
        if (text.endsWith(message)) {
          socket.removeListener('data', onData);
          socket.removeListener('error', reject);
          resolve();
        }
      };
      socket.on('data', onData);
      socket.once('error', reject);
    });
    socket.write(message);
    await echoed;
    // Pacing, not synchronisation: the busy client talks every `gap` ms, well within IDLE_MS.
    await new Promise((resolve) => setTimeout(resolve, gap));
  }
  const rest = new Promise<string>((resolve) => {
    socket.on('data', (data: string) => (text += data));
    socket.once('end', () => resolve(text));
  });
  socket.end();
  return rest;
}

describe('idle watch over loopback', () => {
  it('ends an idle connection with the goodbye and leaves a busy one alone', async () => {
    const seen: IdleEvent[] = [];
    const server = await startServer(idleEcho(seen));
    try {
      const idle = await plainConnect(server.port);
      const busy = await plainConnect(server.port);
      const started = performance.now();
      const idleReply = readAll(idle);
      const busyReply = pingPong(busy, 12, 50);

      // The idle client sent nothing: it hears the goodbye, then our FIN, after about IDLE_MS.
      expect((await idleReply).toString()).toBe('idle timeout..');
      expect(performance.now() - started).toBeGreaterThanOrEqual(IDLE_MS - 20);
      await closed(idle);

      // The busy one talked for about 3 * IDLE_MS and got only its echoes, then closed on its own FIN.
      const text = await busyReply;
      expect(performance.now() - started).toBeGreaterThan(2 * IDLE_MS);
      expect(text).toBe(Array.from({ length: 12 }, (_, i) => `ping ${i}\n`).join(''));
      await closed(busy);
    } finally {
      server.subscription.unsubscribe();
    }
    expect(seen).toEqual([{ state: 'allIdle', first: true, idleFor: expect.any(Number) }]);
    expect(seen[0].idleFor).toBeGreaterThanOrEqual(IDLE_MS);
    expect(server.errors).toEqual([]);
  });

  it('counts the server writing on its own as activity: a server that streams is not all-idle', async () => {
    // Every 40 ms the server writes a tick; the client never writes: allIdle never fires, readIdle does.
    const seen: IdleEvent[] = [];
    const server = await startServer((conn) =>
      merge(
        interval(40).pipe(
          takeWhile(() => !conn.writeEnded),
          tap(() => conn.write('tick\n')),
          ignoreElements(),
        ),
        conn.events$.pipe(idleWatch({ allIdle: IDLE_MS }), endOnIdle(conn, { goodbye: 'idle timeout..' })),
        conn.events$.pipe(idleWatch({ readIdle: 3 * IDLE_MS }), endOnIdle(conn, { goodbye: 'silent reader\n' })),
      ).pipe(tap((e) => seen.push(e))),
    );
    try {
      const client = await plainConnect(server.port);
      const reply = (await readAll(client)).toString();
      expect(reply).toMatch(/^(tick\n)+silent reader\n$/);
      await closed(client);
    } finally {
      server.subscription.unsubscribe();
    }
    expect(seen.map((e) => e.state)).toEqual(['readIdle']);
    expect(server.errors).toEqual([]);
  });

  it('destroys a connection whose peer never answers the goodbye FIN, after closeTimeout', async () => {
    let serverSide: Connection | undefined;
    let policyDone!: () => void;
    const done = new Promise<void>((resolve) => (policyDone = resolve));
    const server = await startServer((conn) => {
      serverSide = conn;
      return conn.events$.pipe(
        idleWatch({ allIdle: 100 }),
        endOnIdle(conn, { goodbye: 'bye', closeTimeout: 150 }),
        finalize(() => policyDone()),
      );
    });
    // A half-open peer: it reads our goodbye and FIN but keeps its own side open.
    const client = net.connect({ port: server.port, host: '127.0.0.1', allowHalfOpen: true });
    try {
      const heard = await new Promise<string>((resolve, reject) => {
        let text = '';
        client.setEncoding('utf8');
        client.on('data', (d: string) => (text += d));
        client.once('end', () => resolve(text));
        client.once('error', reject);
      });
      expect(heard).toBe('bye');
      const finAt = performance.now();
      await done;
      expect(serverSide!.closed).toBe(true);
      expect(performance.now() - finAt).toBeGreaterThanOrEqual(100);
    } finally {
      client.destroy();
      await closed(client);
      server.subscription.unsubscribe();
    }
  });
});
