// SendSubscriber, the sink sendTo() subscribes, in virtual time on the test kit: writing, waiting for drain, the
// queue and its overflow policies, completion after flush, holding pauseSource, failures of the connection or the
// source, unsubscription. The arguments and limits sendTo() resolves: sendTo.spec.ts.
import { asyncScheduler, filter, map, of } from 'rxjs';
import { QueueOverflowError } from '../../lib/errors';
import type { Observable } from 'rxjs';
import { sendStats, sendTo } from '../../lib/core/sendTo';
import { asText, bytes, comparable, connectionPair, createTestScheduler } from '../../lib/testing';
import type { MemoryConnection } from '../../lib/testing';
import type { ConnectionEvent } from '../../lib/types';
import { unwritable } from '../support/memory';

const marbles = () => createTestScheduler({ assertDeepEqual: (actual, expected) => expect(actual).toEqual(expected) });
/** Runs `work` at `frame` of the current TestScheduler.run (asyncScheduler is virtual there). */
const at = (frame: number, work: () => void) => asyncScheduler.schedule(work, frame);
/** The chunks a connection reads, as text, seen on events$ (so nothing else is subscribed to data$). */
const reads = (conn: MemoryConnection): Observable<string> =>
  conn.events$.pipe(
    filter((e): e is Extract<ConnectionEvent, { type: 'data' }> => e.type === 'data'),
    map((e) => e.chunk.toString()),
  );
const values = bytes({ a: 'a', b: 'b', c: 'c', d: 'd', e: 'e' });

describe('SendSubscriber: a sendTo() sink on the test kit', () => {
  it('writes each value as it comes and completes once the FIN went through', () => {
    marbles().run(({ cold, expectObservable }) => {
      const [app, peer] = connectionPair();
      expectObservable(cold('-a-b-|', values).pipe(sendTo(app))).toBe('-----|');
      expectObservable(peer.data$).toBe('-a-b-|', values);
    });
  });

  it('waits for drain while the destination is unwritable, queueing what comes meanwhile', () => {
    marbles().run(({ cold, expectObservable }) => {
      const [app, peer] = connectionPair();
      const stats = sendStats();
      unwritable(app, 2, 9);
      const source = cold('-a-b-c-d------|', values);
      expectObservable(source.pipe(sendTo(app, { stats }))).toBe('--------------|');
      expectObservable(peer.data$).toBe('-a-------(bcd)|', values);
      const figures = { written: 2, dropped: 0, unsent: 0, waits: 1 };
      at(8, () => expect(stats).toEqual({ ...figures, queued: 2, peakQueued: 2, queuedBytes: 2, peakQueuedBytes: 2 }));
      at(10, () =>
        expect(stats).toEqual({ ...figures, written: 4, queued: 0, peakQueued: 2, queuedBytes: 0, peakQueuedBytes: 2 }),
      );
    });
  });

  it('completes only after the queue was drained and flushed, not when the source completes', () => {
    marbles().run(({ cold, expectObservable }) => {
      const [app, peer] = connectionPair();
      unwritable(app, 0, 7);
      expectObservable(cold('-a-b|', values).pipe(sendTo(app))).toBe('-------|');
      expectObservable(peer.data$).toBe('-------(ab|)', values);
    });
  });

  it("errors with QueueOverflowError past highWaterMark with overflow 'error'", () => {
    marbles().run(({ cold, expectObservable }) => {
      const [app] = connectionPair();
      unwritable(app, 0, 20);
      expectObservable(cold('-abcd', values).pipe(sendTo(app, { highWaterMark: 2 }))).toBe('----#', undefined, {
        name: 'QueueOverflowError',
        code: 'ERR_QUEUE_OVERFLOW',
        highWaterMark: 2,
        highWaterMarkBytes: 1024 * 1024,
        queued: 2,
        queuedBytes: 2,
        queue: 'sink queue',
        waitingFor: 'drain',
      });
    });
  });

  it("errors with QueueOverflowError past highWaterMarkBytes with overflow 'error'", () => {
    marbles().run(({ cold, expectObservable }) => {
      const [app] = connectionPair();
      unwritable(app, 0, 20);
      const big = bytes({ a: 'aaaa', b: 'bbbb', c: 'cccc', d: 'd' });
      // a is written (and waits in the connection); b and c fill the 8 bytes; d would make 9.
      expectObservable(cold('-abcd', big).pipe(sendTo(app, { highWaterMarkBytes: 8 }))).toBe('----#', undefined, {
        name: 'QueueOverflowError',
        code: 'ERR_QUEUE_OVERFLOW',
        highWaterMark: 1024,
        highWaterMarkBytes: 8,
        queued: 2,
        queuedBytes: 8,
        queue: 'sink queue',
        waitingFor: 'drain',
      });
    });
  });

  it('lets one value larger than highWaterMarkBytes wait alone', () => {
    marbles().run(({ cold, expectObservable }) => {
      const [app, peer] = connectionPair();
      unwritable(app, 0, 5);
      const big = bytes({ a: 'aaaa', b: 'bbbbbbbbbbbb' });
      expectObservable(cold('-ab|', big).pipe(sendTo(app, { highWaterMarkBytes: 8 }))).toBe('-----|');
      expectObservable(peer.data$.pipe(asText())).toBe('-----(ab|)', { a: 'aaaa', b: 'bbbbbbbbbbbb' });
    });
  });

  it("drops the oldest values until the new one fits highWaterMarkBytes with 'drop-oldest'", () => {
    marbles().run(({ cold, expectObservable }) => {
      const [app, peer] = connectionPair();
      const stats = sendStats();
      unwritable(app, 0, 6);
      const big = bytes({ a: 'a', b: 'bb', c: 'cc', d: 'dddd' });
      const sink = sendTo(app, { highWaterMarkBytes: 6, overflow: 'drop-oldest', stats });
      // a is written; b, c wait (4 bytes); d (4) needs b dropped: c, d wait (6 bytes).
      expectObservable(cold('-abcd|', big).pipe(sink)).toBe('------|');
      expectObservable(peer.data$.pipe(asText())).toBe('------(acd|)', { a: 'a', c: 'cc', d: 'dddd' });
      at(7, () => expect([stats.dropped, stats.peakQueuedBytes]).toEqual([1, 6]));
    });
  });

  it("drops the newest value past highWaterMark with overflow 'drop-newest'", () => {
    marbles().run(({ cold, expectObservable }) => {
      const [app, peer] = connectionPair();
      const stats = sendStats();
      unwritable(app, 0, 6);
      const sink = sendTo(app, { highWaterMark: 2, overflow: 'drop-newest', stats });
      expectObservable(cold('-abcd|', values).pipe(sink)).toBe('------|');
      expectObservable(peer.data$).toBe('------(abc|)', values);
      at(7, () => expect(stats.dropped).toBe(1));
    });
  });

  it("drops the oldest queued value past highWaterMark with overflow 'drop-oldest'", () => {
    marbles().run(({ cold, expectObservable }) => {
      const [app, peer] = connectionPair();
      unwritable(app, 0, 6);
      const sink = sendTo(app, { highWaterMark: 2, overflow: 'drop-oldest' });
      expectObservable(cold('-abcd|', values).pipe(sink)).toBe('------|');
      expectObservable(peer.data$).toBe('------(acd|)', values);
    });
  });

  it('holds the source connection with pauseSource while waiting, and releases it on drain', () => {
    marbles().run(({ expectObservable }) => {
      // client ── src ══ proxy ══ dst ── server
      const [client, src] = connectionPair();
      const [dst, server] = connectionPair();
      const stats = sendStats();
      src.data$.pipe(sendTo(dst, { pauseSource: src, stats })).subscribe();
      for (const [frame, text] of [
        [1, 'a'],
        [3, 'b'],
        [5, 'c'],
        [7, 'd'],
      ] as const)
        at(frame, () => client.write(text));
      unwritable(dst, 2, 8);
      // c and d stay with the client's side while the proxy does not read: the sink queues nothing.
      expectObservable(reads(src), '^--------!').toBe('-a-b----(cd)', values);
      expectObservable(server.data$.pipe(asText()), '^--------!').toBe('-a------(bcd)', values);
      at(7, () => expect(src.inbound.buffered + src.inbound.unread).toBe(2));
      at(9, () => expect(stats.peakQueued).toBe(0));
    });
  });

  it('completes, counting what it held as unsent, when the connection is destroyed before everything was flushed', () => {
    marbles().run(({ cold, expectObservable }) => {
      const [app] = connectionPair();
      const stats = sendStats();
      unwritable(app, 0, 20);
      at(4, () => app.destroy());
      // a waits in the connection's buffer (dropped by destroy), b in the sink's queue.
      expectObservable(cold('-a-b-|', values).pipe(sendTo(app, { stats }))).toBe('----|');
      at(5, () => expect([stats.written, stats.unsent, stats.queued]).toEqual([1, 1, 0]));
    });
  });

  it('completes quietly when the peer resets, the reset kept as closeReason', () => {
    marbles().run(({ cold, expectObservable }) => {
      const [app, peer] = connectionPair();
      const stats = sendStats();
      unwritable(app, 0, 20);
      at(2, () => peer.reset());
      expectObservable(cold('-a-b-|', values).pipe(sendTo(app, { stats }))).toBe('--|');
      at(3, () => expect(comparable(app.closeReason)).toMatchObject({ code: 'ECONNRESET', syscall: 'read' }));
      // a was in the connection's buffer when it went; b never came.
      at(3, () => expect([stats.written, stats.unsent]).toEqual([1, 0]));
    });
  });

  it('completes quietly when its source fails with the reset of the connection it writes to (an echo)', () => {
    marbles().run(({ expectObservable }) => {
      const [client, server] = connectionPair();
      const stats = sendStats();
      at(1, () => client.write('a'));
      at(2, () => client.reset());
      expectObservable(server.data$.pipe(sendTo(server, { pauseSource: server, stats }))).toBe('--|');
      at(3, () => expect([stats.written, server.closed]).toEqual([1, true]));
    });
  });

  it("ends its own connection as usual when its source fails with another connection's reset (a proxy)", () => {
    marbles().run(({ expectObservable }) => {
      const [client, src] = connectionPair();
      const [dst, server] = connectionPair();
      at(1, () => client.write('a'));
      at(2, () => client.reset());
      expectObservable(src.data$.pipe(sendTo(dst, { pauseSource: src }))).toBe('--|');
      expectObservable(server.data$).toBe('-a|', values);
    });
  });

  it('errors with the error the application destroyed the connection with', () => {
    marbles().run(({ cold, expectObservable }) => {
      const [app] = connectionPair();
      unwritable(app, 0, 20);
      const reason = Object.assign(new Error('banned'), { code: 'E_BANNED' });
      at(2, () => app.destroy(reason));
      expectObservable(cold('-a-b-|', values).pipe(sendTo(app))).toBe('--#', undefined, reason);
    });
  });

  it("passes on an ECONNRESET of its source that is not its connection's (a database driver's, say)", () => {
    marbles().run(({ cold, expectObservable }) => {
      const [app] = connectionPair();
      const elsewhere = Object.assign(new Error('read ECONNRESET'), { code: 'ECONNRESET', syscall: 'read' });
      expectObservable(cold('-a-#', values, elsewhere).pipe(sendTo(app))).toBe('---#', undefined, elsewhere);
    });
  });

  it('passes on errors of its source that are not a peer failure', () => {
    marbles().run(({ cold, expectObservable }) => {
      const [app] = connectionPair();
      const failure = Object.assign(new Error('too long'), { code: 'ERR_FRAME_TOO_LONG' });
      expectObservable(cold('-a-#', values, failure).pipe(sendTo(app))).toBe('---#', undefined, failure);
    });
  });

  it('stops quietly at its next value when the connection was ended elsewhere (an idle goodbye)', () => {
    marbles().run(({ cold, expectObservable }) => {
      const [app, peer] = connectionPair();
      const stats = sendStats();
      at(2, () => app.end('bye'));
      expectObservable(cold('-a-b-c|', values).pipe(sendTo(app, { stats }))).toBe('---|');
      expectObservable(peer.data$.pipe(asText())).toBe('-a(b|)', { a: 'a', b: 'bye' });
      at(4, () => expect([stats.written, stats.unsent]).toEqual([1, 1]));
    });
  });

  it('leaves the connection open with end: false, completing once its writes were flushed', () => {
    marbles().run(({ cold, expectObservable }) => {
      const [app, peer] = connectionPair();
      unwritable(app, 2, 5);
      expectObservable(cold('-a-b|', values).pipe(sendTo(app, { end: false }))).toBe('-----|');
      expectObservable(peer.data$, '^------!').toBe('-a---b', values);
      at(6, () => expect(app.writeEnded).toBe(false));
    });
  });

  it('releases its hold on the source and leaves the connection open when unsubscribed', () => {
    marbles().run(({ cold, expectObservable }) => {
      const [app, peer] = connectionPair();
      const [client, src] = connectionPair();
      unwritable(app, 0, 20);
      expectObservable(cold('-a---', values).pipe(sendTo(app, { pauseSource: src })), '^--!').toBe('---');
      at(2, () => client.write('x'));
      // Held at frame 1 (the write returned false), released at 3: src reads the waiting chunk.
      expectObservable(src.data$, '^----!').toBe('---x', { x: 'x' });
      at(4, () => expect([app.writeEnded, peer.closed]).toEqual([false, false]));
    });
  });

  it('carries the data of its errors', () => {
    const [app] = connectionPair();
    let error: unknown;
    app.outbound.stall();
    of(Buffer.from('x'), Buffer.from('y'), Buffer.from('z'))
      .pipe(sendTo(app, { highWaterMark: 1 }))
      .subscribe({ error: (e) => (error = e) });
    expect(error).toBeInstanceOf(QueueOverflowError);
    expect(comparable(error)).toEqual({
      name: 'QueueOverflowError',
      code: 'ERR_QUEUE_OVERFLOW',
      highWaterMark: 1,
      highWaterMarkBytes: 1024 * 1024,
      queued: 1,
      queuedBytes: 1,
      queue: 'sink queue',
      waitingFor: 'drain',
    });
  });
});
