// requester(): pipelining, FIFO and by-id matching, timeouts, cancellation, connection loss, limits, in virtual time.
import { Observable, Subject, asyncScheduler, mergeMap, of, take, timer } from 'rxjs';
import type { Subscription } from 'rxjs';
import { TestScheduler } from 'rxjs/testing';
import { requester } from '../../lib/client/requester';
import type { Requester, RequesterOptions } from '../../lib/client/requester';
import { decodeWith } from '../../lib/codec/Codec';
import type { Codec } from '../../lib/codec/Codec';
import {
  ConnectionLostError,
  FrameTooLongError,
  InvalidArgumentError,
  QueueOverflowError,
  RequestTimeoutError,
  WriteAfterEndError,
} from '../../lib/errors';
import { connectionPair, createTestScheduler } from '../../lib/testing';
import type { MemoryConnection } from '../../lib/testing';
import type { Connection } from '../../lib/types';

const marbles = () => createTestScheduler({ assertDeepEqual: (actual, expected) => expect(actual).toEqual(expected) });
const at = (frame: number, work: () => void) => asyncScheduler.schedule(work, frame);

/** Lines of UTF-8 text each way, at most 64 bytes each: the tiny protocol of these specs. */
const lines: Codec<string, string> = {
  decoder: () => {
    let held: Buffer = Buffer.alloc(0);
    return {
      push: (chunk) => {
        held = held.length === 0 ? chunk : Buffer.concat([held, chunk]);
      },
      read: () => {
        const end = held.indexOf(10);
        if (end < 0) {
          if (held.length > 64) throw new FrameTooLongError(64, held.length);
          return undefined;
        }
        if (end > 64) throw new FrameTooLongError(64, end);
        const line = held.subarray(0, end).toString('utf8');
        held = held.subarray(end + 1);
        return line;
      },
      end: () => undefined,
      clear: () => {
        held = Buffer.alloc(0);
      },
    };
  },
  encode: (line) => {
    if (line.includes('\n')) throw new Error('a line cannot hold a newline');
    return `${line}\n`;
  },
};

/** By-id messages: `id:body` on one line. */
interface Msg {
  readonly id: number;
  readonly body: string;
}
const msgs: Codec<Msg, Msg> = {
  decoder: () => {
    const framer = lines.decoder();
    return {
      push: (chunk) => framer.push(chunk),
      read: () => {
        const line = framer.read();
        if (line === undefined) return undefined;
        const colon = line.indexOf(':');
        return { id: Number(line.slice(0, colon)), body: line.slice(colon + 1) };
      },
      end: () => undefined,
      clear: () => framer.clear(),
    };
  },
  encode: (msg) => lines.encode(`${msg.id}:${msg.body}`),
};
const byId: RequesterOptions<Msg, Msg>['correlate'] = { requestId: (m) => m.id, replyId: (m) => m.id };

/** The peer's view: every line it received, and a way to answer. */
function peerOf(server: MemoryConnection): { received: string[] } {
  const received: string[] = [];
  server.data$.pipe(decodeWith(lines)).subscribe((line) => received.push(line));
  return { received };
}

/** Subscribes and records what the request emitted, at which frame. */
function record<T>(source: Observable<T>): { values: T[]; errors: unknown[]; done: boolean; sub: Subscription } {
  const out = { values: [] as T[], errors: [] as unknown[], done: false, sub: undefined as unknown as Subscription };
  out.sub = source.subscribe({
    next: (v) => out.values.push(v),
    error: (e) => out.errors.push(e),
    complete: () => (out.done = true),
  });
  return out;
}

describe('requester', () => {
  describe('FIFO', () => {
    it('pipelines 10,000 requests with maxInFlight 64: replies in order, never more than 64 unanswered at the peer', () => {
      let unanswered = 0;
      let peak = 0;
      const replies: string[] = [];
      marbles().run(() => {
        const [client, server] = connectionPair();
        // An echo peer that answers each request 1 ms after it arrived.
        server.data$.pipe(decodeWith(lines)).subscribe((line) => {
          unanswered++;
          peak = Math.max(peak, unanswered);
          at(1, () => {
            unanswered--;
            server.write(`re ${line}\n`);
          });
        });
        const rpc = requester(client, lines, { maxInFlight: 64, timeout: 0 });
        for (let i = 0; i < 10_000; i++) rpc.request(`q${i}`).subscribe((reply) => replies.push(reply));
        expect(rpc.pending).toBe(10_000);
        expect(rpc.inFlight).toBe(64);
      });
      expect(peak).toBe(64);
      expect(replies.length).toBe(10_000);
      expect(replies.every((reply, i) => reply === `re q${i}`)).toBe(true);
    });

    it('emits the reply and completes; requests are written as they come, without waiting for earlier replies', () => {
      marbles().run(({ cold, expectObservable }) => {
        const [client, server] = connectionPair();
        const peer = peerOf(server);
        const rpc = requester(client, lines);
        at(5, () => server.write('A\nB\n'));
        at(7, () => server.write('C\n'));
        expectObservable(rpc.request('a')).toBe('-----(A|)', { A: 'A' });
        expectObservable(cold('-x|').pipe(mergeMap(() => rpc.request('b')))).toBe('-----(B|)', { B: 'B' });
        expectObservable(cold('--x|').pipe(mergeMap(() => rpc.request('c')))).toBe('-------(C|)', { C: 'C' });
        at(3, () => expect(peer.received).toEqual(['a', 'b', 'c']));
        at(8, () => expect(rpc.pending).toBe(0));
      });
    });

    it('discards the late reply of a timed-out request: its place consumes exactly one reply', () => {
      marbles().run(({ cold, expectObservable }) => {
        const [client, server] = connectionPair();
        const peer = peerOf(server);
        const rpc = requester(client, lines, { timeout: 10 });
        at(20, () => server.write('late reply to a\n'));
        at(21, () => server.write('reply to b\n'));
        expectObservable(rpc.request('a')).toBe('----------#', undefined, new RequestTimeoutError(10));
        const b = cold('---------------x|').pipe(mergeMap(() => rpc.request('b')));
        expectObservable(b).toBe('---------------------(B|)', { B: 'reply to b' });
        at(16, () => {
          expect(peer.received).toEqual(['a', 'b']);
          expect({ pending: rpc.pending, inFlight: rpc.inFlight }).toEqual({ pending: 1, inFlight: 2 });
        });
      });
    });

    it('a request with a timeout of its own keeps it, the others take the requester timeout', () => {
      marbles().run(({ expectObservable }) => {
        const [client, server] = connectionPair();
        const rpc = requester(client, lines, { timeout: 10 });
        at(30, () => server.write('A\nB\nC\n'));
        expectObservable(rpc.request('a')).toBe('----------#', undefined, new RequestTimeoutError(10));
        expectObservable(rpc.request('b', { timeout: 40 })).toBe('------------------------------(B|)', { B: 'B' });
        expectObservable(rpc.request('c', { timeout: 0 })).toBe('------------------------------(C|)', { C: 'C' });
        expectObservable(rpc.request('d', { timeout: 20 })).toBe(
          '--------------------#',
          undefined,
          new RequestTimeoutError(20),
        );
      });
    });

    it('a request unsubscribed before its reply keeps its place; its reply is discarded', () => {
      marbles().run(({ cold, expectObservable }) => {
        const [client, server] = connectionPair();
        const rpc = requester(client, lines);
        at(5, () => server.write('A\n'));
        at(6, () => server.write('B\n'));
        expectObservable(rpc.request('a'), '^--!').toBe('---');
        expectObservable(cold('-x|').pipe(mergeMap(() => rpc.request('b')))).toBe('------(B|)', { B: 'B' });
        at(4, () => expect({ pending: rpc.pending, inFlight: rpc.inFlight }).toEqual({ pending: 1, inFlight: 2 }));
        at(7, () => expect({ pending: rpc.pending, inFlight: rpc.inFlight }).toEqual({ pending: 0, inFlight: 0 }));
      });
    });

    it('reports a reply to no request through onUnmatched', () => {
      const unmatched: string[] = [];
      marbles().run(() => {
        const [client, server] = connectionPair();
        requester(client, lines, { onUnmatched: (reply) => unmatched.push(reply) });
        at(1, () => server.write('hello?\n'));
      });
      expect(unmatched).toEqual(['hello?']);
    });
  });

  describe('by id', () => {
    it('gives replies out of order to the right callers, and discards the late reply to a timed-out id', () => {
      const unmatched: Msg[] = [];
      marbles().run(({ cold, expectObservable }) => {
        const [client, server] = connectionPair();
        const peer = peerOf(server);
        const rpc = requester(client, msgs, {
          correlate: byId,
          timeout: 10,
          onUnmatched: (m) => unmatched.push(m),
        });
        at(3, () => server.write('3:three\n1:one\n'));
        at(4, () => server.write('2:two\n'));
        at(20, () => server.write('4:late four\n5:five\n'));
        expectObservable(rpc.request({ id: 1, body: 'a' })).toBe('---(r|)', { r: { id: 1, body: 'one' } });
        expectObservable(rpc.request({ id: 2, body: 'b' })).toBe('----(r|)', { r: { id: 2, body: 'two' } });
        expectObservable(rpc.request({ id: 3, body: 'c' })).toBe('---(r|)', { r: { id: 3, body: 'three' } });
        expectObservable(rpc.request({ id: 4, body: 'd' })).toBe('----------#', undefined, new RequestTimeoutError(10));
        const five = cold('---------------x|').pipe(mergeMap(() => rpc.request({ id: 5, body: 'e' })));
        expectObservable(five).toBe('--------------------(r|)', { r: { id: 5, body: 'five' } });
        at(1, () => expect(peer.received).toEqual(['1:a', '2:b', '3:c', '4:d']));
        at(11, () => expect({ pending: rpc.pending, inFlight: rpc.inFlight }).toEqual({ pending: 0, inFlight: 0 }));
      });
      expect(unmatched).toEqual([{ id: 4, body: 'late four' }]);
    });

    it('errors a request whose id is already in flight with InvalidArgumentError, the first one unharmed', () => {
      marbles().run(({ expectObservable }) => {
        const [client, server] = connectionPair();
        const rpc = requester(client, msgs, { correlate: byId });
        at(2, () => server.write('7:seven\n'));
        expectObservable(rpc.request({ id: 7, body: 'a' })).toBe('--(r|)', { r: { id: 7, body: 'seven' } });
        expectObservable(rpc.request({ id: 7, body: 'b' })).toBe(
          '#',
          undefined,
          new InvalidArgumentError('requestId', '7 is already in flight'),
        );
      });
    });

    it('frees the place of a cancelled request at once', () => {
      marbles().run(({ expectObservable }) => {
        const [client, server] = connectionPair();
        const peer = peerOf(server);
        const rpc = requester(client, msgs, { correlate: byId, maxInFlight: 1 });
        expectObservable(rpc.request({ id: 1, body: 'a' }), '^-!').toBe('--');
        expectObservable(rpc.request({ id: 2, body: 'b' }), '^---!').toBe('----');
        at(1, () => expect(peer.received).toEqual(['1:a']));
        at(3, () => expect(peer.received).toEqual(['1:a', '2:b']));
      });
    });
  });

  describe('the connection lost', () => {
    const lost = (conn: MemoryConnection, pending: number) => new ConnectionLostError(conn.id, pending);

    it.each([
      ['the peer resets it', (_c: MemoryConnection, s: MemoryConnection) => s.reset(), 'ECONNRESET'],
      ['the peer ends it (data$ completes)', (_c: MemoryConnection, s: MemoryConnection) => s.end(), undefined],
      ['it is destroyed here', (c: MemoryConnection) => c.destroy(), undefined],
      ['it fails here', (c: MemoryConnection) => c.fail(new Error('boom')), 'boom'],
    ])(
      'when %s, errors every pending request, written and queued, with ConnectionLostError; later requests at once',
      (_name, end, cause) => {
        const results: ReturnType<typeof record<string>>[] = [];
        let rpc: Requester<string, string> | undefined;
        let pendingSeen: number[] = [];
        marbles().run(() => {
          const [client, server] = connectionPair();
          peerOf(server);
          rpc = requester(client, lines, { maxInFlight: 2 });
          const r = rpc;
          for (const q of ['a', 'b', 'c', 'd', 'e']) results.push(record(r.request(q)));
          at(5, () => end(client, server));
          at(6, () => {
            pendingSeen = [r.pending, r.inFlight];
            results.push(record(r.request('late')));
          });
        });
        expect(pendingSeen).toEqual([0, 0]);
        expect(rpc!.closed).toBe(true);
        for (const [i, result] of results.entries()) {
          expect(result.values).toEqual([]);
          expect(result.errors).toHaveLength(1);
          const error = result.errors[0] as ConnectionLostError;
          expect(error).toBeInstanceOf(ConnectionLostError);
          expect(error.pending).toBe(i < 5 ? 5 : 0);
          if (cause === undefined) expect(error.cause).toBeUndefined();
          else expect(String((error.cause as Error).message)).toContain(cause);
        }
      },
    );

    it('close() errors every pending request with ConnectionLostError, stops reading and leaves the connection open', () => {
      marbles().run(({ expectObservable }) => {
        const [client, server] = connectionPair();
        const peer = peerOf(server);
        const rpc = requester(client, lines, { maxInFlight: 1 });
        expectObservable(rpc.request('a')).toBe('--#', undefined, lost(client, 2));
        expectObservable(rpc.request('b')).toBe('--#', undefined, lost(client, 2));
        at(2, () => rpc.close());
        at(3, () => {
          expect({ pending: rpc.pending, closed: rpc.closed, open: !client.closed }).toEqual({
            pending: 0,
            closed: true,
            open: true,
          });
          expect(peer.received).toEqual(['a']);
        });
        expectObservable(timer(4).pipe(mergeMap(() => rpc.request('c')))).toBe('----#', undefined, lost(client, 0));
      });
    });

    it('a decode error fails every pending request with that error and destroys the connection', () => {
      marbles().run(({ expectObservable }) => {
        const [client, server] = connectionPair();
        const rpc = requester(client, lines);
        at(2, () => server.write(`${'x'.repeat(70)}\n`));
        const tooLong = new FrameTooLongError(64, 70);
        expectObservable(rpc.request('a')).toBe('--#', undefined, tooLong);
        expectObservable(rpc.request('b')).toBe('--#', undefined, tooLong);
        at(3, () =>
          expect({ closed: client.closed, reason: client.closeReason }).toEqual({ closed: true, reason: tooLong }),
        );
      });
    });

    it('a throw of replyId fails every pending request with it and destroys the connection, as a decode error', () => {
      marbles().run(({ expectObservable }) => {
        const [client, server] = connectionPair();
        const bad = new Error('no id');
        const rpc = requester(client, msgs, {
          correlate: {
            requestId: (m) => m.id,
            replyId: () => {
              throw bad;
            },
          },
        });
        at(2, () => server.write('1:one\n'));
        expectObservable(rpc.request({ id: 1, body: 'a' })).toBe('--#', undefined, bad);
        expectObservable(rpc.request({ id: 2, body: 'b' })).toBe('--#', undefined, bad);
        at(3, () => expect({ closed: client.closed, pending: rpc.pending }).toEqual({ closed: true, pending: 0 }));
      });
    });

    it('a requester made on a closed connection errors requests at once', () => {
      marbles().run(({ expectObservable }) => {
        const [client] = connectionPair();
        client.destroy();
        const rpc = requester(client, lines);
        expect(rpc.closed).toBe(true);
        expectObservable(rpc.request('a')).toBe('#', undefined, lost(client, 0));
      });
    });
  });

  describe('as an Observable', () => {
    it('is cold: nothing is written until subscribed, and each subscription is a request of its own', () => {
      marbles().run(({ expectObservable }) => {
        const [client, server] = connectionPair();
        const peer = peerOf(server);
        const rpc = requester(client, lines);
        const ping = rpc.request('ping');
        at(1, () => expect(peer.received).toEqual([]));
        at(2, () => ping.subscribe());
        at(3, () => expect(rpc.pending).toBe(2));
        at(4, () => server.write('1\n2\n'));
        expectObservable(timer(2).pipe(mergeMap(() => ping))).toBe('----(b|)', { b: '2' });
      });
    });

    it('cancels requests unsubscribed through mergeMap and take, the places of those written kept (FIFO)', () => {
      marbles().run(({ cold, expectObservable }) => {
        const [client, server] = connectionPair();
        const peer = peerOf(server);
        const rpc = requester(client, lines, { maxInFlight: 2 });
        at(5, () => server.write('A\nB\n'));
        at(6, () => server.write('D\n'));
        const all = cold('(abc|)').pipe(mergeMap((q) => rpc.request(q)));
        expectObservable(all, '^-!').toBe('--');
        const d = timer(3).pipe(
          mergeMap(() => rpc.request('d')),
          take(1),
        );
        expectObservable(d).toBe('------(D|)', { D: 'D' });
        at(4, () => {
          expect({ pending: rpc.pending, inFlight: rpc.inFlight }).toEqual({ pending: 1, inFlight: 2 });
          expect(peer.received).toEqual(['a', 'b']);
        });
        at(7, () => expect({ pending: rpc.pending, inFlight: rpc.inFlight }).toEqual({ pending: 0, inFlight: 0 }));
      });
    });
  });

  describe('timers', () => {
    it('leaves no timer behind when a request is unsubscribed early, queued or written', () => {
      const scheduler = new TestScheduler((a, e) => expect(a).toEqual(e));
      scheduler.run(() => {
        const [client, server] = connectionPair({ scheduler });
        peerOf(server);
        const rpc = requester(client, lines, { maxInFlight: 1, timeout: 1000, scheduler });
        const before = scheduler.actions.length;
        const written = rpc.request('a').subscribe();
        const queued = rpc.request('b').subscribe();
        expect(scheduler.actions.length).toBeGreaterThan(before);
        queued.unsubscribe();
        written.unsubscribe();
        expect(scheduler.actions.filter((a) => (a as unknown as { delay: number }).delay === 1000)).toEqual([]);
        expect(rpc.pending).toBe(0);
      });
    });

    it('stops the timer of a request answered in time', () => {
      marbles().run(({ expectObservable }) => {
        const [client, server] = connectionPair();
        const rpc = requester(client, lines, { timeout: 5 });
        at(4, () => server.write('A\n'));
        expectObservable(rpc.request('a')).toBe('----(A|)', { A: 'A' });
      });
    });

    it('times out a request that waited in the queue, which is then never written', () => {
      marbles().run(({ expectObservable }) => {
        const [client, server] = connectionPair();
        const peer = peerOf(server);
        const rpc = requester(client, lines, { timeout: 5, maxInFlight: 1 });
        expectObservable(rpc.request('a')).toBe('-----#', undefined, new RequestTimeoutError(5));
        expectObservable(rpc.request('b')).toBe('-----#', undefined, new RequestTimeoutError(5));
        at(9, () =>
          expect({ received: peer.received, inFlight: rpc.inFlight }).toEqual({ received: ['a'], inFlight: 1 }),
        );
      });
    });
  });

  describe('writing', () => {
    it('waits for drain while write() returns false, then writes what queued', () => {
      marbles().run(({ expectObservable }) => {
        const [client, server] = connectionPair();
        const peer = peerOf(server);
        const rpc = requester(client, lines);
        client.outbound.stall();
        at(5, () => client.outbound.resume());
        at(7, () => server.write('A\nB\nC\n'));
        expectObservable(rpc.request('a')).toBe('-------(A|)', { A: 'A' });
        expectObservable(rpc.request('b')).toBe('-------(B|)', { B: 'B' });
        expectObservable(rpc.request('c')).toBe('-------(C|)', { C: 'C' });
        at(1, () => expect({ written: client.bytesWritten, pending: rpc.pending }).toEqual({ written: 2, pending: 3 }));
        at(6, () =>
          expect({ received: peer.received, written: client.bytesWritten }).toEqual({
            received: ['a', 'b', 'c'],
            written: 6,
          }),
        );
      });
    });

    it('errors a request beyond maxQueued with QueueOverflowError, the others unharmed', () => {
      marbles().run(({ expectObservable }) => {
        const [client, server] = connectionPair();
        const rpc = requester(client, lines, { maxInFlight: 1, maxQueued: 1 });
        at(1, () => server.write('A\nB\n'));
        expectObservable(rpc.request('a')).toBe('-(A|)', { A: 'A' });
        expectObservable(rpc.request('b')).toBe('-(B|)', { B: 'B' });
        expectObservable(rpc.request('c')).toBe(
          '#',
          undefined,
          new QueueOverflowError(1, Infinity, 1, 0, 'request queue', 'room in flight'),
        );
      });
    });

    it('errors a request the codec cannot encode, alone, writing nothing', () => {
      marbles().run(({ expectObservable }) => {
        const [client, server] = connectionPair();
        const peer = peerOf(server);
        const rpc = requester(client, lines);
        at(1, () => server.write('A\n'));
        expectObservable(rpc.request('bad\nline')).toBe('#', undefined, new Error('a line cannot hold a newline'));
        expectObservable(rpc.request('a')).toBe('-(A|)', { A: 'A' });
        at(2, () => expect(peer.received).toEqual(['a']));
      });
    });

    it('errors a request written after the connection was ended elsewhere with WriteAfterEndError', () => {
      marbles().run(({ expectObservable }) => {
        const [client] = connectionPair();
        const rpc = requester(client, lines);
        client.end();
        expectObservable(rpc.request('a')).toBe('#', undefined, new WriteAfterEndError(client.id));
        expect(rpc.pending).toBe(0);
      });
    });
  });

  it.each(['fifo', 'id'] as const)(
    'matches 100,000 replies to their requests in O(1) each (%s): well under 2 s, where a quadratic shift takes far longer',
    (mode) => {
      // A bare connection, so the time measured is the requester's: requests written, then all replies in 100 chunks.
      const data$ = new Subject<Buffer>();
      const writes: string[] = [];
      const conn = {
        id: 1,
        data$,
        writable$: of(true),
        writable: true,
        writeEnded: false,
        closeReason: undefined,
        write: (chunk: string) => writes.push(chunk) > 0,
        cork: () => {},
        uncork: () => {},
        destroy: () => {},
      } as unknown as Connection;
      const options = { timeout: 0, maxInFlight: Infinity, maxQueued: Infinity };
      let replies = 0;
      if (mode === 'fifo') {
        const rpc = requester(conn, lines, options);
        for (let i = 0; i < 100_000; i++) rpc.request(`${i}`).subscribe(() => replies++);
      } else {
        const rpc = requester(conn, msgs, { ...options, correlate: byId });
        for (let i = 0; i < 100_000; i++) rpc.request({ id: i, body: '' }).subscribe(() => replies++);
      }
      // Timed: the replies, each matched to its request (the writes are timed by the 10,000 above).
      const started = Date.now();
      for (let i = 0; i < writes.length; i += 1000) data$.next(Buffer.from(writes.slice(i, i + 1000).join('')));
      expect(replies).toBe(100_000);
      expect(Date.now() - started).toBeLessThan(2000);
    },
  );

  describe('argument checks', () => {
    const [conn] = connectionPair();
    it.each([
      ['conn', () => requester(null as never, lines)],
      ['codec', () => requester(conn, {} as never)],
      ['options', () => requester(conn, lines, null as never)],
      ['correlate', () => requester(conn, lines, { correlate: 'lifo' as never })],
      ['correlate', () => requester(conn, lines, { correlate: { requestId: () => 1 } as never })],
      ['timeout', () => requester(conn, lines, { timeout: -1 })],
      ['timeout', () => requester(conn, lines, { timeout: 1.5 })],
      ['maxInFlight', () => requester(conn, lines, { maxInFlight: 0 })],
      ['maxQueued', () => requester(conn, lines, { maxQueued: -1 })],
      ['scheduler', () => requester(conn, lines, { scheduler: {} as never })],
      ['onUnmatched', () => requester(conn, lines, { onUnmatched: 'log' as never })],
      ['timeout', () => requester(conn, lines).request('x', { timeout: -5 })],
    ])('throws InvalidArgumentError for a bad %s', (argument, make) => {
      expect(make).toThrow(InvalidArgumentError);
      expect(make).toThrow(expect.objectContaining({ argument, code: 'ERR_INVALID_ARGUMENT' }));
    });
  });
});
