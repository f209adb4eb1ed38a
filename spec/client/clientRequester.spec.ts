// requester() over a reconnecting client: requests kept while offline and written to the next connection, timeouts counted
// from subscription, connection loss, the bound, close(); in virtual time.
import { Subscription, asyncScheduler } from 'rxjs';
import { reconnectingClient } from '../../lib/client/reconnectingClient';
import { requester } from '../../lib/client/requester';
import { linesCodec } from '../../lib/framing/lines/linesCodec';
import { ClientClosedError, ConnectionLostError, QueueOverflowError, RequestTimeoutError } from '../../lib/errors';
import { decodeLines } from '../../lib/framing/lines/decodeLines';
import { memoryServer } from '../../lib/testing';
import { virtual } from '../support/memory';

/** Lines of text each way. */
const lines = linesCodec({ encoding: 'utf8' });

/** A memory server that answers `n:line` (n: the connection's number) after `delay` ms; `up()`/`down()` start and stop it. */
function server(delay = 0) {
  const memory = memoryServer();
  const received: string[] = [];
  let listening: Subscription | undefined;
  let count = 0;
  const up = () => {
    listening = memory.listen().subscribe((conn) => {
      const n = ++count;
      conn.data$.pipe(decodeLines()).subscribe({
        next: (line: Buffer) => {
          received.push(`${n}:${line}`);
          asyncScheduler.schedule(() => !conn.writeEnded && conn.write(`${n}:${line}\n`), delay);
        },
        error: () => undefined,
      });
    });
  };
  const down = () => listening?.unsubscribe();
  return { memory, received, up, down };
}

const backoff = { initialDelay: 100, maxDelay: 100, jitter: 0 };

describe('requester over a reconnecting client', () => {
  it('keeps requests made before the first connection and writes them, in order, after the handshake', () => {
    virtual((at) => {
      const { memory, received, up } = server();
      const handshakes: number[] = [];
      const client = reconnectingClient({
        connect: () => memory.connect(),
        backoff,
        handshake: () => {
          handshakes.push(asyncScheduler.now());
          return [];
        },
      });
      const rpc = requester(client, lines);
      const replies: [number, string][] = [];
      for (const line of ['a', 'b']) rpc.request(line).subscribe((r) => replies.push([asyncScheduler.now(), r]));
      at(1, () => expect(rpc.pending).toBe(2));
      at(50, () => up());
      at(250, () => {
        expect(handshakes).toEqual([100]);
        expect(received).toEqual(['1:a', '1:b']);
        expect(replies).toEqual([
          [100, '1:a'],
          [100, '1:b'],
        ]);
        expect(rpc.pending).toBe(0);
        client.close();
      });
    });
  });

  it('fails what was written to a lost connection, keeps what is asked while offline for the next one', () => {
    virtual((at) => {
      const { memory, received, up, down } = server(10);
      up();
      const client = reconnectingClient({ connect: () => memory.connect(), backoff });
      const rpc = requester(client, lines);
      const seen: unknown[] = [];
      at(5, () => rpc.request('lost').subscribe({ next: (r) => seen.push(r), error: (e) => seen.push(e) }));
      at(7, () => down());
      at(8, () => {
        expect(client.state).toBe('backing-off');
        rpc.request('kept').subscribe({ next: (r) => seen.push(r), error: (e) => seen.push(e) });
      });
      at(9, () => up());
      at(200, () => {
        expect(seen).toEqual([expect.any(ConnectionLostError), '2:kept']);
        expect(received).toEqual(['1:lost', '2:kept']);
        client.close();
      });
    });
  });

  it('counts a timeout from subscription, waiting included; a timed-out request is never written', () => {
    virtual((at) => {
      const { memory, received, up } = server();
      const client = reconnectingClient({ connect: () => memory.connect(), backoff });
      const rpc = requester(client, lines, { timeout: 50 });
      const seen: unknown[] = [];
      rpc.request('late').subscribe({ error: (e) => seen.push([asyncScheduler.now(), e]) });
      rpc.request('patient', { timeout: 500 }).subscribe((r) => seen.push([asyncScheduler.now(), r]));
      const left = rpc.request('left').subscribe();
      at(10, () => left.unsubscribe());
      at(60, () => up());
      at(300, () => {
        expect(seen).toEqual([
          [50, new RequestTimeoutError(50)],
          [100, '1:patient'],
        ]);
        expect(received).toEqual(['1:patient']);
        client.close();
      });
    });
  });

  it('holds at most maxQueued while offline; close() errors the waiting ones with ClientClosedError', () => {
    virtual((at) => {
      const { memory } = server();
      const client = reconnectingClient({ connect: () => memory.connect(), backoff });
      const rpc = requester(client, lines, { maxQueued: 2, timeout: 0 });
      const errors: unknown[] = [];
      for (const line of ['a', 'b', 'c']) rpc.request(line).subscribe({ error: (e) => errors.push(e) });
      expect(errors).toEqual([new QueueOverflowError(2, Infinity, 2, 0, 'request queue', 'a connection')]);
      at(10, () => {
        client.close();
        expect(errors.slice(1)).toEqual([new ClientClosedError('requester', 2), new ClientClosedError('requester', 2)]);
        expect(rpc.closed).toBe(true);
        rpc.request('d').subscribe({ error: (e) => errors.push(e) });
        expect(errors[3]).toEqual(new ClientClosedError('requester', 0));
        expect(rpc.pending).toBe(0);
      });
    });
  });

  it('holds what it has not written while connected too: maxQueued bounds it, and it waits through a loss for the next connection', () => {
    virtual((at) => {
      const memory = memoryServer();
      const received: string[][] = [];
      let listening: Subscription | undefined;
      const up = () =>
        (listening = memory.listen().subscribe((conn) => {
          const lines: string[] = [];
          received.push(lines);
          const n = received.length;
          conn.data$.pipe(decodeLines()).subscribe({
            next: (line: Buffer) => {
              lines.push(String(line));
              // The first server never answers; the second does.
              if (n > 1) conn.write(`${n}:${line}\n`);
            },
            error: () => undefined,
          });
        }));
      up();
      const client = reconnectingClient({ connect: () => memory.connect(), backoff });
      const rpc = requester(client, lines, { maxInFlight: 1, maxQueued: 2, timeout: 0 });
      const seen: unknown[] = [];
      at(1, () => {
        for (const line of ['a', 'b', 'c', 'd']) {
          rpc.request(line).subscribe({ next: (r) => seen.push(r), error: (e) => seen.push(e) });
        }
        expect(seen).toEqual([new QueueOverflowError(2, Infinity, 2, 0, 'request queue', 'room in flight')]);
        expect(rpc.pending).toBe(3);
      });
      at(5, () => {
        expect(received).toEqual([['a']]);
        listening?.unsubscribe(); // the server goes away
      });
      at(6, () => up());
      at(300, () => {
        expect(received).toEqual([['a'], ['b', 'c']]);
        expect(seen.slice(1)).toEqual([expect.any(ConnectionLostError), '2:b', '2:c']);
        expect(rpc.pending).toBe(0);
        client.close();
      });
    });
  });
});
