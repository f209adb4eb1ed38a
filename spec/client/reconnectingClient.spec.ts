// reconnectingClient(): states, backoff between attempts, the handshake on each connection, the bounded outbox, close(); in virtual time.
import { Subscription, asyncScheduler, of } from 'rxjs';
import { TestScheduler } from 'rxjs/testing';
import { reconnectingClient, type ClientState } from '../../lib/client/reconnectingClient';
import { InvalidArgumentError, QueueOverflowError } from '../../lib/errors';
import { memoryServer, type MemoryServer } from '../../lib/testing';
import type { Connection } from '../../lib/types';
import { virtual } from '../support/memory';

/** A memory server whose accepted connections' text is recorded, one string per connection. */
function recordingServer(): {
  server: MemoryServer;
  received: string[];
  accepted: Connection[];
  listen(): Subscription;
} {
  const server = memoryServer();
  const received: string[] = [];
  const accepted: Connection[] = [];
  return {
    server,
    received,
    accepted,
    listen: () =>
      server.listen().subscribe((conn) => {
        const index = received.push('') - 1;
        accepted.push(conn);
        conn.data$.subscribe({ next: (chunk) => (received[index] += chunk.toString()), error: () => undefined });
      }),
  };
}

const noJitter = { initialDelay: 100, maxDelay: 1000, jitter: 0 };

describe('reconnectingClient', () => {
  it('connects, writes through, and tells its states', () => {
    virtual((at) => {
      const { server, received, listen } = recordingServer();
      listen();
      const states: [number, ClientState][] = [];
      const client = reconnectingClient({ connect: () => server.connect(), backoff: noJitter });
      client.state$.subscribe((s) => states.push([asyncScheduler.now(), s]));
      at(10, () => expect(client.write('hello\n')).toBe(true));
      at(20, () => client.close());
      at(30, () => {
        expect(received).toEqual(['hello\n']);
        expect(states).toEqual([
          [0, 'connected'],
          [20, 'closed'],
        ]);
      });
    });
  });

  it('keeps writes made while the server is down, backs off, and writes them in order once connected', () => {
    virtual((at) => {
      const { server, received, listen } = recordingServer();
      const states: [number, ClientState][] = [];
      const client = reconnectingClient({ connect: () => server.connect(), backoff: noJitter });
      client.state$.subscribe((s) => states.push([asyncScheduler.now(), s]));
      expect(client.write('one\n')).toBe(false);
      expect(client.write('two\n')).toBe(false);
      expect(client.queued).toBe(2);
      at(250, () => listen()); // refused at 0, 100 (+100), 300 (+200): connected at 300
      at(400, () => {
        expect(received).toEqual(['one\ntwo\n']);
        expect(client.queued).toBe(0);
        // Subscribed after the first attempt had already failed (synchronously): backing-off first.
        expect(states.map(([t, s]) => `${t}:${s}`)).toEqual([
          '0:backing-off',
          '100:connecting',
          '100:backing-off',
          '300:connecting',
          '300:connected',
        ]);
        client.close();
      });
    });
  });

  it('reconnects after the server closes the connection, running the handshake before the outbox each time', () => {
    virtual((at) => {
      const { server, received, accepted, listen } = recordingServer();
      listen();
      let handshakes = 0;
      const client = reconnectingClient({
        connect: () => server.connect(),
        backoff: noJitter,
        handshake: (conn) => {
          handshakes++;
          return of(conn.write(`AUTH ${handshakes}\n`));
        },
      });
      const connections: Connection[] = [];
      // Reading each connection, as a client does: that is how a FIN from the server is seen.
      client.connection$.subscribe((c) => {
        connections.push(c);
        c.data$.subscribe({ error: () => undefined });
      });
      at(10, () => accepted[0].destroy()); // the server drops us
      at(20, () => expect(client.state).toBe('backing-off'));
      at(50, () => expect(client.write('while away\n')).toBe(false));
      at(200, () => {
        expect(handshakes).toBe(2);
        expect(connections).toHaveLength(2);
        expect(client.state).toBe('connected');
        expect(received).toEqual(['AUTH 1\n', 'AUTH 2\nwhile away\n']);
        client.close();
      });
    });
  });

  it('counts a failed handshake as a failed attempt: the connection is destroyed and the client tries again', () => {
    virtual((at) => {
      const { server, accepted, listen } = recordingServer();
      listen();
      let attempts = 0;
      const client = reconnectingClient({
        connect: () => server.connect(),
        backoff: noJitter,
        handshake: () => {
          attempts++;
          if (attempts === 1) throw new Error('auth refused');
          return of(true);
        },
      });
      at(150, () => {
        expect(attempts).toBe(2);
        expect(accepted).toHaveLength(2);
        expect(client.state).toBe('connected');
        client.close();
      });
    });
  });

  it('bounds the outbox: error, drop-oldest, drop-newest', () => {
    virtual(() => {
      const server = memoryServer(); // never listens
      const strict = reconnectingClient({
        connect: () => server.connect(),
        backoff: noJitter,
        outbox: { highWaterMark: 2 },
      });
      strict.write('a');
      strict.write('b');
      expect(() => strict.write('c')).toThrow(QueueOverflowError);
      expect(() => strict.write('c')).toThrow('outbox overflow: more than 2 value(s) waiting for a connection');
      const oldest = reconnectingClient({
        connect: () => server.connect(),
        backoff: noJitter,
        outbox: { highWaterMark: 2, overflow: 'drop-oldest' },
      });
      ['a', 'b', 'c'].forEach((x) => oldest.write(x));
      expect(oldest.queued).toBe(2);
      const newest = reconnectingClient({
        connect: () => server.connect(),
        backoff: noJitter,
        outbox: { highWaterMarkBytes: 4, overflow: 'drop-newest' },
      });
      expect(newest.write('abc')).toBe(false);
      expect(newest.write('de')).toBe(false);
      expect(newest.queued).toBe(1);
      [strict, oldest, newest].forEach((c) => c.close());
    });
  });

  it('gives up after backoff.maxRetries failed attempts in a row: closed, state$ errors with the last failure', () => {
    virtual((at) => {
      const server = memoryServer();
      const client = reconnectingClient({ connect: () => server.connect(), backoff: { ...noJitter, maxRetries: 2 } });
      let failure: unknown;
      client.state$.subscribe({ error: (e) => (failure = e) });
      at(1000, () => {
        expect(client.state).toBe('closed');
        expect(failure).toMatchObject({ code: 'ECONNREFUSED' });
      });
    });
  });

  it('close() ends the connection, completes its Observables and leaves no timer', () => {
    const scheduler = new TestScheduler(() => undefined);
    scheduler.run(({ flush }) => {
      const server = memoryServer();
      const client = reconnectingClient({ connect: () => server.connect(), backoff: noJitter });
      let completed = 0;
      client.state$.subscribe({ complete: () => completed++ });
      client.connection$.subscribe({ complete: () => completed++ });
      client.close();
      expect(completed).toBe(2);
      expect(() => client.write('late')).toThrow(InvalidArgumentError);
      flush();
      expect(scheduler.actions).toHaveLength(0);
    });
  });

  it('throws InvalidArgumentError for bad options', () => {
    expect(() => reconnectingClient({} as never)).toThrow(InvalidArgumentError);
    expect(() => reconnectingClient({ connect: { port: 0 } })).toThrow(InvalidArgumentError);
    expect(() =>
      reconnectingClient({ connect: () => undefined as never, outbox: { overflow: 'lose' as 'error' } }),
    ).toThrow(InvalidArgumentError);
  });
});
