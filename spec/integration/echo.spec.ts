// Real loopback sockets: echo, concurrency, bulk transfer in bounded memory, interop with plain net peers.
import { createHash, randomBytes } from 'crypto';
import * as net from 'net';
import { firstValueFrom, map, mergeMap, toArray } from 'rxjs';
import { connect } from '../../lib/core/connect';
import { sendStats, sendTo } from '../../lib/core/sendTo';
import type { Connection } from '../../lib/types';
import { closed, once, plainConnect, readAll, startServer } from '../support/net';

const echo = (conn: Connection) => conn.data$.pipe(sendTo(conn, { pauseSource: conn }));

describe('echo over loopback', () => {
  it('echoes what a plain client writes and closes after the client half-closes', async () => {
    const server = await startServer(echo);
    try {
      const client = await plainConnect(server.port);
      const received = readAll(client);
      client.end('hello rxnet');
      expect((await received).toString()).toBe('hello rxnet');
      await closed(client);
    } finally {
      server.subscription.unsubscribe();
    }
    expect(server.errors).toEqual([]);
  });

  it('serves Dwarves, Elves and Hobbits at once, each receiving only its own reply', async () => {
    const server = await startServer((conn) =>
      conn.data$.pipe(
        map((chunk) => `Sending: ${chunk.toString('utf8')}`),
        sendTo(conn),
      ),
    );
    try {
      const names = { Dwarves: 'More Axes', Elves: 'More Arrows', Hobbits: 'More Pipe Weed' };
      const replies = await Promise.all(
        Object.entries(names).map(([name, message]) =>
          firstValueFrom(
            connect({ port: server.port, host: '127.0.0.1' }).pipe(
              mergeMap((conn) => {
                conn.end(message);
                return conn.data$;
              }),
              toArray(),
              map((chunks) => [name, Buffer.concat(chunks).toString()]),
            ),
          ),
        ),
      );
      expect(Object.fromEntries(replies)).toEqual({
        Dwarves: 'Sending: More Axes',
        Elves: 'Sending: More Arrows',
        Hobbits: 'Sending: More Pipe Weed',
      });
    } finally {
      server.subscription.unsubscribe();
    }
  });

  it('echoes 64 MiB to a slow reader with an intact SHA-256 and the queue within its high-water mark', async () => {
    const total = 64 * 1024 * 1024;
    const highWaterMark = 4;
    const stats = sendStats();
    const server = await startServer((conn) =>
      conn.data$.pipe(sendTo(conn, { pauseSource: conn, highWaterMark, stats })),
    );
    try {
      const client = await plainConnect(server.port);
      const sent = createHash('sha256');
      const got = createHash('sha256');
      let received = 0;
      let sinceBreak = 0;
      const done = new Promise<void>((resolve, reject) => {
        client.on('data', (chunk: Buffer) => {
          got.update(chunk);
          received += chunk.length;
          sinceBreak += chunk.length;
          // A slow reader: a pause of 2 ms after every 512 KiB read.
          if (sinceBreak >= 512 * 1024) {
            sinceBreak = 0;
            client.pause();
            setTimeout(() => client.resume(), 2);
          }
        });
        client.once('end', resolve);
        client.once('error', reject);
      });
      // Writer with drain handling, 64 KiB at a time.
      const block = randomBytes(64 * 1024);
      let written = 0;
      const writeMore = () => {
        while (written < total) {
          const piece = Buffer.from(block);
          piece.writeUInt32BE(written >>> 0, 0);
          sent.update(piece);
          written += piece.length;
          if (!client.write(piece)) {
            client.once('drain', writeMore);
            return;
          }
        }
        client.end();
      };
      writeMore();
      await done;
      expect(received).toBe(total);
      expect(got.digest('hex')).toBe(sent.digest('hex'));
      expect(stats.waits).toBeGreaterThan(0);
      expect(stats.peakQueued).toBeLessThanOrEqual(highWaterMark);
      expect(stats.written).toBeGreaterThan(0);
      await closed(client);
    } finally {
      server.subscription.unsubscribe();
    }
  });
});

describe("interop with the seed programs' plain net style", () => {
  it('answers a seed-style client that writes, reads one reply and ends', async () => {
    const server = await startServer((conn) =>
      conn.data$.pipe(
        map((chunk) => 'Sending: ' + chunk.toString()),
        sendTo(conn),
      ),
    );
    try {
      const reply = await new Promise<string>((resolve, reject) => {
        const client = net.connect({ port: server.port, host: '127.0.0.1' }, function () {
          client.setEncoding('utf8');
          client.write('More Axes');
        });
        let text = '';
        client.on('data', (data: string) => {
          text += data;
          client.end();
        });
        client.on('error', reject);
        client.on('close', () => resolve(text));
      });
      expect(reply).toBe('Sending: More Axes');
    } finally {
      server.subscription.unsubscribe();
    }
  });

  it('connects to a plain net server, like the seed server, and reads its reply', async () => {
    const server = net.createServer((client) => {
      client.setEncoding('utf8');
      client.on('data', (data) => client.write('Sending: ' + data));
      client.on('end', () => client.end());
    });
    server.listen(0, '127.0.0.1');
    await once(server, 'listening');
    const port = (server.address() as net.AddressInfo).port;
    try {
      const reply = await firstValueFrom(
        connect({ port, host: '127.0.0.1' }).pipe(
          mergeMap((conn) => {
            conn.write('More Arrows');
            return conn.data$.pipe(
              map((chunk) => {
                conn.end();
                return chunk.toString();
              }),
            );
          }),
          toArray(),
        ),
      );
      expect(reply.join('')).toBe('Sending: More Arrows');
    } finally {
      server.close();
      await once(server, 'close');
    }
  });
});
