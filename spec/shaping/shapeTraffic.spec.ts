// shapeTraffic() in virtual time on the test kit: reads held and released by the budget, writes paced and cut,
// a budget shared by two connections, callbacks, end() and destroy(), timers, arguments, onThrottle.
import { asyncScheduler, map, mergeMap, of, take } from 'rxjs';
import type { SchedulerAction, SchedulerLike, Subscription } from 'rxjs';
import { sendTo } from '../../lib/core/sendTo';
import { ConnectionClosedError, InvalidArgumentError, WriteAfterEndError } from '../../lib/errors';
import { decodeLines } from '../../lib/framing/lines/decodeLines';
import { ShapedConnection, shapeTraffic } from '../../lib/shaping/shapeTraffic';
import { TrafficShaper, type Throttle } from '../../lib/shaping/TrafficShaper';
import { connectionPair, createTestScheduler } from '../../lib/testing';
import type { MemoryConnection } from '../../lib/testing';
import { asFrameCutSource, asFrameProgressSource } from '../../lib/util/FrameCut';

const marbles = () => createTestScheduler({ assertDeepEqual: (actual, expected) => expect(actual).toEqual(expected) });
/** Runs `work` at `frame` of the current TestScheduler.run (asyncScheduler is virtual there). */
const at = (frame: number, work: () => void) => asyncScheduler.schedule(work, frame);
const now = () => asyncScheduler.now();
const text = (letter: string, n: number) => letter.repeat(n);
/** Chunks as their first letter and length: 'a600'. */
const short = () => map((chunk: Buffer) => `${String.fromCharCode(chunk[0])}${chunk.length}`);

/** Records when `conn`'s reading is held and released, as 'hold 1', 'release 200'. */
function recordHolds(conn: MemoryConnection): string[] {
  const log: string[] = [];
  const holdReading = conn.holdReading.bind(conn);
  conn.holdReading = () => {
    log.push(`hold ${now()}`);
    const release = holdReading();
    return () => {
      log.push(`release ${now()}`);
      release();
    };
  };
  return log;
}

/** A scheduler over asyncScheduler that counts the actions scheduled and neither run nor cancelled yet. */
function trackedScheduler(): { scheduler: SchedulerLike; pending: () => number } {
  const live = new Set<Subscription>();
  const scheduler: SchedulerLike = {
    now: () => asyncScheduler.now(),
    schedule<T>(work: (this: SchedulerAction<T>, state: T) => void, delay?: number, state?: T): Subscription {
      const action: Subscription = asyncScheduler.schedule<T>(
        function (this: SchedulerAction<T>, s?: T) {
          live.delete(action);
          work.call(this, s as T);
        },
        delay,
        state,
      );
      live.add(action);
      action.add(() => live.delete(action));
      return action;
    },
  };
  return { scheduler, pending: () => live.size };
}

describe('shapeTraffic', () => {
  describe('reading', () => {
    it('holds the connection while the read budget is in debt and releases it when the debt is paid', () => {
      marbles().run(({ expectObservable }) => {
        const [client, server] = connectionPair();
        const holds = recordHolds(server);
        // 1000 B/s is 1 B per virtual ms.
        const shaped = shapeTraffic(server, { readLimit: 1000, burst: 1000 });
        at(0, () => client.write(text('a', 600)));
        at(1, () => client.write(text('b', 600))); // 401 left, 199 in debt: held until 200
        at(2, () => client.write(text('c', 600))); // waits in the wire, not in the heap
        at(100, () => expect(server.inbound.unread).toBe(600));
        expectObservable(shaped.data$.pipe(short())).toBe('ab 198ms c', { a: 'a600', b: 'b600', c: 'c600' });
        at(1000, () => expect(holds).toEqual(['hold 1', 'release 200', 'hold 200', 'release 800']));
      });
    });

    it('passes every chunk at once while the budget suffices, scheduling nothing', () => {
      marbles().run(({ expectObservable }) => {
        const [client, server] = connectionPair();
        const holds = recordHolds(server);
        const { scheduler, pending } = trackedScheduler();
        const shaped = shapeTraffic(server, { readLimit: 1000, burst: 1000, scheduler });
        at(0, () => client.write(text('a', 500)));
        at(500, () => client.write(text('b', 500)));
        at(1000, () => client.write(text('c', 1000)));
        expectObservable(shaped.data$.pipe(short())).toBe('a 499ms b 499ms c', { a: 'a500', b: 'b500', c: 'c1000' });
        at(1001, () => {
          expect(holds).toEqual([]);
          expect(pending()).toBe(0);
        });
      });
    });

    it('counts each chunk once however many subscribe to data$', () => {
      marbles().run(({ expectObservable }) => {
        const [client, server] = connectionPair();
        const holds = recordHolds(server);
        const shaped = shapeTraffic(server, { readLimit: 1000, burst: 1000 });
        at(0, () => client.write(text('a', 900))); // counted twice, it would hold reading already
        at(1, () => client.write(text('c', 200))); // 101 - 200: held until 100
        at(2, () => client.write(text('d', 100)));
        const values = { a: 'a900', c: 'c200', d: 'd100' };
        expectObservable(shaped.data$.pipe(short())).toBe('ac 98ms d', values);
        expectObservable(shaped.data$.pipe(short())).toBe('ac 98ms d', values);
        at(201, () => expect(holds).toEqual(['hold 1', 'release 100', 'hold 100', 'release 200']));
      });
    });

    it('counts a chunk once when the subscriber that spent it leaves on it (take(1))', () => {
      marbles().run(({ expectObservable }) => {
        const [client, server] = connectionPair();
        const holds = recordHolds(server);
        const shaped = shapeTraffic(server, { readLimit: 1000, burst: 1000 });
        at(0, () => client.write(text('a', 600)));
        at(1, () => client.write(text('b', 600))); // 401 - 600: held until 200
        expectObservable(shaped.data$.pipe(take(1), short())).toBe('(a|)', { a: 'a600' });
        expectObservable(shaped.data$.pipe(short())).toBe('ab', { a: 'a600', b: 'b600' });
        at(300, () => expect(holds).toEqual(['hold 1', 'release 200']));
      });
    });

    it('unsubscribed through mergeMap and take(1), holds nothing; the debt it left holds the next subscriber', () => {
      marbles().run(({ expectObservable }) => {
        const [client, server] = connectionPair();
        const holds = recordHolds(server);
        const shaped = shapeTraffic(server, { readLimit: 1000, burst: 100 });
        at(0, () => client.write(text('a', 300)));
        at(0, () => client.write(text('b', 300)));
        const first = of(0).pipe(mergeMap(() => shaped.data$.pipe(take(1), short())));
        expectObservable(first, '--^').toBe('--(a|)', { a: 'a300' });
        // The debt the first left holds the next subscriber: 200 in debt at 2, paid at 202.
        expectObservable(shaped.data$.pipe(short()), '---^').toBe('--- 199ms b', { b: 'b300' });
        at(600, () =>
          expect(holds).toEqual(['hold 2', 'release 2', 'hold 3', 'release 202', 'hold 202', 'release 502']),
        );
      });
    });

    it('holds a new subscriber while the budget is still in debt from an earlier one', () => {
      marbles().run(({ expectObservable }) => {
        const [client, server] = connectionPair();
        const holds = recordHolds(server);
        const shaped = shapeTraffic(server, { readLimit: 1000, burst: 100 });
        at(0, () => client.write(text('a', 300))); // 200 in debt: 200 ms
        expectObservable(shaped.data$.pipe(short()), '^-!').toBe('a', { a: 'a300' });
        at(5, () => client.write(text('b', 10))); // waits in the wire: nobody reads
        expectObservable(shaped.data$.pipe(short()), '----------^').toBe('---------- 190ms b', { b: 'b10' });
        const holdsAfter = ['hold 0', 'release 2', 'hold 10', 'release 200', 'hold 200', 'release 210'];
        at(300, () => expect(holds).toEqual(holdsAfter));
      });
    });

    it('hands the framer behind the view to the connection: frameCut, framesOut and heldBytes', () => {
      marbles().run(() => {
        const [client, server] = connectionPair();
        const shaped = shapeTraffic(server, { readLimit: 1000 });
        const subscribe = jest.spyOn(server.data$, 'subscribe');
        const lines: string[] = [];
        shaped.data$.pipe(decodeLines()).subscribe((line) => lines.push(line.toString()));
        shaped.data$.subscribe();
        const [framed, plain] = subscribe.mock.calls.map(([reader]) => reader as object);
        at(1, () => client.write('one\ntwo\nthr'));
        at(2, () => {
          expect(lines).toEqual(['one', 'two']);
          expect(asFrameCutSource(framed)).toBeDefined();
          expect(asFrameProgressSource(framed)).toMatchObject({ framesOut: 2, heldBytes: 3 });
          expect(asFrameCutSource(plain)).toBeUndefined();
          expect(asFrameProgressSource(plain)).toBeUndefined();
        });
      });
    });

    it('is the connection’s own data$ when there is no read limit', () => {
      const [, server] = connectionPair();
      expect(shapeTraffic(server, { writeLimit: 1000 }).data$).toBe(server.data$);
    });

    it('cancels its wait and releases the hold when the last subscriber leaves', () => {
      marbles().run(({ expectObservable }) => {
        const [client, server] = connectionPair();
        const holds = recordHolds(server);
        const { scheduler, pending } = trackedScheduler();
        const shaped = shapeTraffic(server, { readLimit: 1000, burst: 100, scheduler });
        at(0, () => client.write(text('a', 1100))); // a second in debt
        expectObservable(shaped.data$.pipe(short()), '^ 49ms !').toBe('a', { a: 'a1100' });
        at(10, () => expect(pending()).toBe(1));
        at(60, () => {
          expect(pending()).toBe(0);
          expect(holds).toEqual(['hold 0', 'release 50']);
        });
      });
    });
  });

  describe('writing', () => {
    it('writes at once while the budget suffices and returns what the connection returns', () => {
      marbles().run(({ expectObservable }) => {
        const [client, server] = connectionPair();
        const { scheduler, pending } = trackedScheduler();
        const shaped = shapeTraffic(client, { writeLimit: 1000, burst: 100, scheduler });
        const write = jest.spyOn(client, 'write');
        at(1, () => {
          expect(shaped.write(text('a', 60))).toBe(true);
          expect(shaped.write(text('b', 40))).toBe(true);
          expect(write).toHaveBeenCalledTimes(2);
          expect(pending()).toBe(0);
        });
        expectObservable(server.data$.pipe(short())).toBe('-(ab)', { a: 'a60', b: 'b40' });
      });
    });

    it('cuts a write over the burst into views of the caller’s bytes released at the rate, writable$ false meanwhile', () => {
      marbles().run(({ expectObservable }) => {
        const [client, server] = connectionPair();
        const shaped = shapeTraffic(client, { writeLimit: 1000, burst: 100 });
        const write = jest.spyOn(client, 'write');
        const payload = Buffer.from(text('a', 350));
        const done: number[] = [];
        at(1, () => {
          expect(shaped.write(payload, () => done.push(now()))).toBe(false);
          expect(shaped.writable).toBe(false);
          expect(shaped.queuedBytes).toBe(250);
          expect(shaped.bytesWritten).toBe(350);
        });
        const pieces = { a: 'a100', b: 'a50' };
        expectObservable(server.data$.pipe(short())).toBe('-a 99ms a 99ms a 49ms b', pieces);
        expectObservable(shaped.writable$).toBe('tf 249ms t', { t: true, f: false });
        at(300, () => {
          expect(done).toEqual([251]);
          expect(shaped.writable).toBe(true);
          for (const [chunk] of write.mock.calls) expect((chunk as Buffer).buffer).toBe(payload.buffer);
        });
      });
    });

    it('paces sendTo(shaped, { pauseSource }) with one piece queued at most, holding the source meanwhile', () => {
      marbles().run(({ expectObservable }) => {
        const [client, server] = connectionPair();
        const shaped = shapeTraffic(server, { writeLimit: 1000, burst: 100 });
        let peak = 0;
        const echo = shaped.data$.pipe(
          map((chunk) => {
            peak = Math.max(peak, shaped.queuedBytes);
            return chunk;
          }),
          sendTo(shaped, { pauseSource: shaped }),
        );
        echo.subscribe();
        at(1, () => client.end(text('x', 400)));
        client.inbound.chunking = 100;
        expectObservable(client.data$.pipe(short())).toBe('-a 99ms a 99ms a 99ms (a|)', { a: 'x100' });
        at(400, () => expect(peak).toBe(0));
      });
    });

    it('converts strings to know their bytes, and cuts them too', () => {
      marbles().run(({ expectObservable }) => {
        const [client, server] = connectionPair();
        const shaped = shapeTraffic(client, { writeLimit: 1000, burst: 100 });
        at(0, () => shaped.end('é'.repeat(75))); // 150 bytes
        expectObservable(server.data$.pipe(map((chunk) => chunk.length))).toBe('a 49ms (b|)', { a: 100, b: 50 });
        expectObservable(server.data$.pipe(map(String))).toBe('a 49ms (b|)', {
          a: 'é'.repeat(50),
          b: 'é'.repeat(25),
        });
      });
    });

    it('runs callbacks in order once their last piece was written, and ends after the queue', () => {
      marbles().run(({ expectObservable }) => {
        const [client, server] = connectionPair();
        const shaped = shapeTraffic(client, { writeLimit: 1000, burst: 100 });
        const order: string[] = [];
        at(1, () => {
          shaped.write(text('a', 150), () => order.push(`a ${now()}`));
          shaped.write(text('b', 10), () => order.push(`b ${now()}`));
          shaped.end('bye', () => order.push(`end ${now()}`));
          shaped.end(undefined, () => order.push(`end again ${now()}`));
          expect(shaped.writeEnded).toBe(true);
          expect(() => shaped.write('late')).toThrow(WriteAfterEndError);
        });
        const values = { a: 'a100', b: 'a50', c: 'b10', d: 'b3' };
        expectObservable(server.data$.pipe(short())).toBe('-a 49ms b 9ms c 2ms (d|)', values);
        at(100, () => expect(order).toEqual(['a 51', 'b 61', 'end 64', 'end again 64']));
      });
    });

    it('destroy() drops the queue: its callbacks get ConnectionClosedError, and no timer is left', () => {
      marbles().run(({ expectObservable }) => {
        const [client, server] = connectionPair();
        const { scheduler, pending } = trackedScheduler();
        const shaped = shapeTraffic(client, { writeLimit: 1000, burst: 100, scheduler });
        const errors: unknown[] = [];
        at(1, () => {
          shaped.write(text('a', 300), (error) => errors.push(error));
          shaped.end('bye', (error) => errors.push(error));
        });
        at(50, () => {
          expect(pending()).toBe(1);
          shaped.destroy();
        });
        expectObservable(server.data$.pipe(short())).toBe('-a 48ms |', { a: 'a100' });
        at(60, () => {
          expect(pending()).toBe(0);
          expect(errors).toEqual([
            new ConnectionClosedError(client.id, 203),
            new ConnectionClosedError(client.id, 203),
          ]);
          expect(errors[0]).toBeInstanceOf(ConnectionClosedError);
        });
      });
    });

    it('drops the queue when the connection fails under it, and writable$ fails with it', () => {
      marbles().run(({ expectObservable }) => {
        const [client, server] = connectionPair();
        const { scheduler, pending } = trackedScheduler();
        const shaped = shapeTraffic(client, { writeLimit: 1000, burst: 100, scheduler });
        const errors: unknown[] = [];
        at(1, () => shaped.write(text('a', 300), (error) => errors.push(error)));
        at(50, () => server.reset());
        const reset = { name: 'Error', code: 'ECONNRESET', errno: -104, syscall: 'read' };
        expectObservable(shaped.writable$).toBe('tf 48ms #', { t: true, f: false }, reset);
        at(60, () => {
          expect(pending()).toBe(0);
          expect(errors).toEqual([new ConnectionClosedError(client.id, 200)]);
          expect(shaped.writeEnded).toBe(true);
        });
      });
    });

    it('spends nothing while the connection waits for drain: the budget refills meanwhile', () => {
      marbles().run(({ expectObservable }) => {
        const [client, server] = connectionPair();
        const shaped = shapeTraffic(client, { writeLimit: 1000, burst: 100 });
        at(0, () => client.outbound.stall());
        at(1, () => shaped.write(text('a', 200)));
        at(500, () => client.outbound.resume());
        // The first piece waits in the wire; the second is reserved once the wire drained, from a full budget.
        expectObservable(server.data$.pipe(short())).toBe('500ms (aa)', { a: 'a100' });
        expectObservable(shaped.writable$).toBe('tf 498ms t', { t: true, f: false });
      });
    });
  });

  describe('a shared budget', () => {
    it('makes connections take turns in the order they ran into debt', () => {
      marbles().run(({ expectObservable }) => {
        const shared = new TrafficShaper({ writeLimit: 1000, burst: 100 });
        const [a, aPeer] = connectionPair();
        const [b, bPeer] = connectionPair();
        const shapedA = shapeTraffic(a, { shared });
        const shapedB = shapeTraffic(b, { shared });
        at(1, () => {
          shapedA.write(text('a', 200));
          shapedB.write(text('b', 200));
        });
        expectObservable(aPeer.data$.pipe(short())).toBe('-a 99ms a', { a: 'a100' });
        expectObservable(bPeer.data$.pipe(short())).toBe('- 200ms b 99ms b', { b: 'b100' });
      });
    });

    it('holds the reading of every connection while it is in debt, on top of their own limits', () => {
      marbles().run(({ expectObservable }) => {
        const shared = new TrafficShaper({ readLimit: 1000, burst: 100 });
        const [aPeer, a] = connectionPair();
        const [bPeer, b] = connectionPair();
        const shapedA = shapeTraffic(a, { shared, readLimit: 100_000 });
        const shapedB = shapeTraffic(b, { shared });
        at(1, () => aPeer.write(text('a', 300))); // the shared budget is 200 in debt until 201
        at(2, () => bPeer.write(text('b', 50))); // read, then held: 249 in debt until 251
        at(3, () => bPeer.write(text('c', 50)));
        expectObservable(shapedA.data$.pipe(short())).toBe('-a', { a: 'a300' });
        expectObservable(shapedB.data$.pipe(short())).toBe('--b 248ms c', { b: 'b50', c: 'c50' });
      });
    });

    it('takes its scheduler from the shared budget', () => {
      const { scheduler } = trackedScheduler();
      const shared = new TrafficShaper({ writeLimit: 1000, scheduler });
      const [a] = connectionPair();
      expect(() => shapeTraffic(a, { shared, scheduler })).not.toThrow();
      expect(() => shapeTraffic(a, { shared, scheduler: asyncScheduler })).toThrow(
        expect.objectContaining({ name: 'InvalidArgumentError', argument: 'scheduler' }),
      );
    });
  });

  describe('onThrottle', () => {
    it('is told each pause of reading and each write held, with the bytes over budget and the delay', () => {
      marbles().run(() => {
        const [client, server] = connectionPair();
        const throttles: Throttle[] = [];
        const reader = shapeTraffic(server, { readLimit: 500, burst: 100, onThrottle: (t) => throttles.push(t) });
        const writer = shapeTraffic(client, { writeLimit: 1000, burst: 100, onThrottle: (t) => throttles.push(t) });
        reader.data$.subscribe();
        at(1, () => writer.write(text('a', 250)));
        at(400, () =>
          expect(throttles).toEqual([
            { direction: 'write', bytes: 150, delay: 100 }, // at 1: 100 written, 150 queued
            { direction: 'write', bytes: 50, delay: 50 }, // at 101
            { direction: 'read', bytes: 50, delay: 100 }, // at 101: 100 read at 500 B/s with 50 there
            { direction: 'read', bytes: 50, delay: 100 }, // at 201: the last 50, read after the wait
          ]),
        );
      });
    });

    it('destroys the connection with what it throws', () => {
      marbles().run(({ expectObservable }) => {
        const [client, server] = connectionPair();
        const shaped = shapeTraffic(server, {
          readLimit: 1000,
          burst: 100,
          onThrottle: () => {
            throw new RangeError('too fast');
          },
        });
        at(1, () => client.write(text('a', 200)));
        expectObservable(shaped.data$).toBe('-#', undefined, { name: 'RangeError', message: 'too fast' });
      });
    });
  });

  describe('everything else', () => {
    it('is the connection’s: identity, addresses, events, options and socket', () => {
      const [client, server] = connectionPair();
      const shaped = shapeTraffic(server, { readLimit: 1000, writeLimit: 1000 });
      expect(shaped).toBeInstanceOf(ShapedConnection);
      expect(shaped.inner).toBe(server);
      expect([shaped.id, shaped.localPort, shaped.remotePort]).toEqual([server.id, server.localPort, client.localPort]);
      expect([shaped.localAddress, shaped.remoteAddress, shaped.remoteFamily]).toEqual(['memory', 'memory', 'memory']);
      expect(shaped.events$).toBe(server.events$);
      expect([shaped.socket, shaped.tls, shaped.closeReason]).toEqual([undefined, undefined, undefined]);
      expect(shaped.setNoDelay(true).setKeepAlive(true, 500).setTimeout(1000)).toBe(shaped);
      expect([server.noDelay, server.keepAliveInitialDelay, server.timeout]).toEqual([true, 500, 1000]);
      const release = shaped.holdReading();
      shaped.pause();
      shaped.resume();
      release();
      shaped.cork();
      shaped.uncork();
      expect([shaped.bytesRead, shaped.bytesWritten]).toEqual([0, 0]);
      shaped.destroy();
      expect(shaped.closed).toBe(true);
      server.setTimeout(0);
    });
  });

  describe('arguments', () => {
    it('rejects bad ones when called, naming the option', () => {
      const [conn] = connectionPair();
      const shared = new TrafficShaper({ readLimit: 1000 });
      const bad: [string, () => unknown][] = [
        ['connection', () => shapeTraffic(undefined as unknown as MemoryConnection, {})],
        ['config', () => shapeTraffic(conn, null as unknown as object)],
        ['readLimit', () => shapeTraffic(conn, { readLimit: 0 })],
        ['readLimit', () => shapeTraffic(conn, { readLimit: -5 })],
        ['readLimit', () => shapeTraffic(conn, { readLimit: NaN })],
        ['writeLimit', () => shapeTraffic(conn, { writeLimit: Infinity })],
        ['writeLimit', () => shapeTraffic(conn, { writeLimit: '1000' as unknown as number })],
        ['burst', () => shapeTraffic(conn, { writeLimit: 1000, burst: 0 })],
        ['burst', () => shapeTraffic(conn, { readLimit: 1000, burst: 1.5 })],
        ['shared', () => shapeTraffic(conn, { shared: {} as TrafficShaper })],
        ['scheduler', () => shapeTraffic(conn, { scheduler: {} as SchedulerLike })],
        ['onThrottle', () => shapeTraffic(conn, { readLimit: 1, onThrottle: 'log' as unknown as () => void })],
        ['scheduler', () => shapeTraffic(conn, { shared, scheduler: trackedScheduler().scheduler })],
      ];
      for (const [argument, make] of bad) {
        expect(make).toThrow(expect.objectContaining({ name: 'InvalidArgumentError', argument }));
      }
      expect(() => shapeTraffic(conn, { readLimit: 0 })).toThrow(InvalidArgumentError);
      expect(() => shapeTraffic(conn, { readLimit: 0 })).toThrow(/readLimit.*finite number > 0, got 0/);
    });

    it('accepts no limit at all: the view is then the connection as it is', () => {
      const [conn] = connectionPair();
      const shaped = shapeTraffic(conn, {});
      expect(shaped.data$).toBe(conn.data$);
      expect(shaped.writable$).toBe(conn.writable$);
    });
  });
});
