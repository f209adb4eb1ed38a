// MemoryConnection through connectionPair(): bytes across, reading rules, half-close, errors, resets and socket options,
// in virtual time. What its wire does (latency, stalls, buffers, cork, broken pipes): MemoryWire.spec.ts; chunking
// policies: chunking.spec.ts; the pair's options: connectionPair.spec.ts.
import { asyncScheduler } from 'rxjs';
import { ConnectionClosedError, WriteAfterEndError } from '../../lib/errors';
import { asText, bytes, connectionPair, createTestScheduler } from '../../lib/testing';
import type { ConnectionEvent } from '../../lib/types';
import { asEventText } from '../support/memory';

const marbles = () => createTestScheduler({ assertDeepEqual: (actual, expected) => expect(actual).toEqual(expected) });
/** Runs `work` at `frame` of the current TestScheduler.run (asyncScheduler is virtual there). */
const at = (frame: number, work: () => void) => asyncScheduler.schedule(work, frame);
const types = (events: ConnectionEvent[]) => events.map((e) => e.type);

describe('connectionPair', () => {
  describe('bytes across', () => {
    it('delivers each write to the other side as one chunk, in order, in the same frame', () => {
      marbles().run(({ cold, expectObservable }) => {
        const [client, server] = connectionPair();
        cold('-a-b-|', bytes({ a: 'hel', b: 'lo' })).subscribe({
          next: (chunk) => client.write(chunk),
          complete: () => client.end(),
        });
        expectObservable(server.data$).toBe('-a-b-|', { a: 'hel', b: 'lo' });
      });
    });

    it('carries both directions independently', () => {
      marbles().run(({ expectObservable }) => {
        const [client, server] = connectionPair();
        at(1, () => client.write('ping'));
        at(2, () => server.write('pong'));
        expectObservable(server.data$.pipe(asText()), '^---!').toBe('-a', { a: 'ping' });
        expectObservable(client.data$.pipe(asText()), '^---!').toBe('--b', { b: 'pong' });
      });
    });
  });

  describe('reading', () => {
    it('reads nothing before data$ is subscribed and loses no byte', () => {
      marbles().run(({ expectObservable }) => {
        const [client, server] = connectionPair();
        at(1, () => client.write('early'));
        at(2, () => client.end('late'));
        at(3, () => expect(server.bytesRead).toBe(0));
        expectObservable(server.data$, '----^').toBe('----(ab|)', { a: 'early', b: 'late' });
      });
    });

    it('replays the end of data$ to a subscriber that comes after it', () => {
      marbles().run(({ expectObservable }) => {
        const [client, server] = connectionPair();
        server.data$.subscribe();
        at(1, () => client.end('x'));
        expectObservable(server.data$, '---^').toBe('---|');
      });
    });

    it('stops reading while paused: bytes wait and arrive on resume', () => {
      marbles().run(({ expectObservable }) => {
        const [client, server] = connectionPair();
        at(1, () => server.pause());
        at(2, () => client.write('held'));
        at(5, () => server.resume());
        expectObservable(server.data$, '^------!').toBe('-----h', { h: 'held' });
      });
    });

    it('counts bytesRead and bytesWritten', () => {
      marbles().run(() => {
        const [client, server] = connectionPair();
        server.data$.subscribe();
        at(1, () => client.write('four'));
        at(1, () => client.write(Uint8Array.from([1, 2])));
        at(2, () => {
          expect(client.bytesWritten).toBe(6);
          expect(server.bytesRead).toBe(6);
        });
      });
    });
  });

  describe('half-close and close', () => {
    it('keeps the peer writable after our FIN, and closes both sides once both have ended', () => {
      marbles().run(({ expectObservable }) => {
        const [client, server] = connectionPair();
        client.data$.subscribe();
        server.data$.subscribe((chunk) => server.end(`Sending: ${chunk}`));
        at(1, () => client.end('More Axes'));
        expectObservable(client.events$.pipe(asEventText()), '^').toBe('-(wfdec|)', {
          w: 'written',
          f: 'finish',
          d: 'data Sending: More Axes',
          e: 'end',
          c: 'close false',
        });
        expectObservable(server.writable$).toBe('t|', { t: true });
      });
    });

    it('ends a side by itself on the peer FIN with allowHalfOpen: false', () => {
      marbles().run(({ expectObservable }) => {
        const [client, server] = connectionPair({ allowHalfOpen: false });
        server.data$.subscribe();
        at(2, () => client.end());
        expectObservable(server.events$.pipe(asEventText())).toBe('--(efc|)', {
          e: 'end',
          f: 'finish',
          c: 'close false',
        });
      });
    });

    it('throws WriteAfterEndError on a write after end()', () => {
      const [client] = connectionPair();
      client.end();
      expect(client.writeEnded).toBe(true);
      expect(() => client.write('x')).toThrow(WriteAfterEndError);
    });

    it('calls the end callback once our FIN went through, also for a second end()', () => {
      marbles().run(() => {
        const [client] = connectionPair();
        const calls: string[] = [];
        client.end('bye', (e) => calls.push(`first ${e ?? 'ok'}`));
        client.end(undefined, (e) => calls.push(`second ${e ?? 'ok'}`));
        expect(calls).toEqual([]);
        at(1, () => expect(calls).toEqual(['first ok', 'second ok']));
      });
    });

    it('fails the end callback with ConnectionClosedError when the side is destroyed before its FIN went through', () => {
      marbles().run(() => {
        const [client] = connectionPair();
        client.outbound.stall();
        let error: unknown;
        client.end('never', (e) => (error = e));
        client.destroy();
        at(1, () => expect(error).toBeInstanceOf(ConnectionClosedError));
      });
    });
  });

  describe('errors and resets', () => {
    it('lets the peer of a destroyed side read what had arrived, then the end', () => {
      marbles().run(({ expectObservable }) => {
        const [client, server] = connectionPair();
        at(1, () => {
          client.write('last words');
          // Flushed in this frame's later action: destroy in the next frame.
        });
        at(2, () => client.destroy());
        expectObservable(server.data$.pipe(asText()), '---^').toBe('---(a|)', { a: 'last words' });
        expectObservable(client.events$.pipe(asEventText())).toBe('-w(c|)', { w: 'written', c: 'close false' });
      });
    });

    it('fails a side with an injected error: data$ errors, then error and close events; writable$ errors', () => {
      marbles().run(({ expectObservable }) => {
        const [, server] = connectionPair();
        const failure = Object.assign(new Error('read ETIMEDOUT'), { code: 'ETIMEDOUT' });
        at(2, () => server.fail(failure));
        expectObservable(server.data$).toBe('--#', undefined, failure);
        expectObservable(server.events$.pipe(asEventText())).toBe('--(ec|)', { e: 'error ETIMEDOUT', c: 'close true' });
        expectObservable(server.writable$).toBe('t-#', { t: true }, failure);
      });
    });

    it('resets: the peer gets ECONNRESET and drops what it had not read, the resetting side closes cleanly', () => {
      marbles().run(({ expectObservable }) => {
        const [client, server] = connectionPair();
        at(1, () => client.write('unread'));
        at(3, () => client.reset());
        expectObservable(server.data$, '------^').toBe('------#', undefined, {
          name: 'Error',
          code: 'ECONNRESET',
          errno: -104,
          syscall: 'read',
        });
        expectObservable(client.events$.pipe(asEventText())).toBe('-w-(c|)', { w: 'written', c: 'close false' });
        expectObservable(client.data$).toBe('---|');
      });
    });
  });

  describe('socket options', () => {
    it("fires 'timeout' after setTimeout ms of inactivity, once per silence", () => {
      marbles().run(({ expectObservable }) => {
        const [client, server] = connectionPair();
        server.data$.subscribe();
        server.setTimeout(3);
        at(5, () => client.write('wake'));
        const timeouts = server.events$.pipe(asEventText());
        expectObservable(timeouts, '^-----------!').toBe('---t-d--t', { t: 'timeout', d: 'data wake' });
      });
    });

    it('records noDelay and keep-alive for assertions', () => {
      const [client] = connectionPair();
      client.setNoDelay(true).setKeepAlive(true, 10000);
      expect([client.noDelay, client.keepAlive, client.keepAliveInitialDelay]).toEqual([true, true, 10000]);
      expect(client.socket).toBeUndefined();
    });
  });

  it('keeps events$ silent for an unobserved side and collects them for an observed one', () => {
    marbles().run(() => {
      const [client, server] = connectionPair();
      const seen: ConnectionEvent[] = [];
      server.events$.subscribe((e) => seen.push(e));
      server.data$.subscribe();
      at(1, () => client.end('x'));
      at(2, () => expect(types(seen)).toEqual(['data', 'end']));
    });
  });
});
