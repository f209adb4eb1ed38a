// sendTo() in virtual time on the test kit: waiting for drain, the queue, overflow policies, completion after flush, pauseSource.
import { asyncScheduler, filter, map, of } from 'rxjs';
import type { Observable } from 'rxjs';
import { sendStats, sendTo } from '../../lib/operators/sendTo';
import { asText, bytes, comparable, connectionPair, createTestScheduler } from '../../lib/testing';
import type { MemoryConnection } from '../../lib/testing';
import type { ConnectionEvent } from '../../lib/types';

const marbles = () => createTestScheduler({ assertDeepEqual: (actual, expected) => expect(actual).toEqual(expected) });
/** Runs `work` at `frame` of the current TestScheduler.run (asyncScheduler is virtual there). */
const at = (frame: number, work: () => void) => asyncScheduler.schedule(work, frame);
/** Makes `conn`'s writes wait (write() false, no drain) from frame `from` until frame `until`. */
const unwritable = (conn: MemoryConnection, from: number, until: number) => {
  at(from, () => conn.outbound.stall());
  at(until, () => conn.outbound.resume());
};
/** The chunks a connection reads, as text, seen on events$ (so nothing else is subscribed to data$). */
const reads = (conn: MemoryConnection): Observable<string> =>
  conn.events$.pipe(
    filter((e): e is Extract<ConnectionEvent, { type: 'data' }> => e.type === 'data'),
    map((e) => e.chunk.toString()),
  );
const values = bytes({ a: 'a', b: 'b', c: 'c', d: 'd', e: 'e' });

describe('sendTo on the test kit', () => {
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
      at(8, () => expect(stats).toEqual({ queued: 2, peakQueued: 2, written: 2, dropped: 0, waits: 1 }));
      at(10, () => expect(stats).toEqual({ queued: 0, peakQueued: 2, written: 4, dropped: 0, waits: 1 }));
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
      });
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

  it('errors with ConnectionClosedError when the connection closes before everything was flushed', () => {
    marbles().run(({ cold, expectObservable }) => {
      const [app] = connectionPair();
      unwritable(app, 0, 20);
      at(4, () => app.destroy());
      // a waits in the connection's buffer (dropped by destroy), b in the sink's queue.
      expectObservable(cold('-a-b-|', values).pipe(sendTo(app))).toBe('----#', undefined, {
        name: 'ConnectionClosedError',
        code: 'ERR_CONNECTION_CLOSED',
        connectionId: app.id,
        unwritten: 1,
      });
    });
  });

  it("errors with the socket's error when the peer resets", () => {
    marbles().run(({ cold, expectObservable }) => {
      const [app, peer] = connectionPair();
      unwritable(app, 0, 20);
      at(2, () => peer.reset());
      expectObservable(cold('-a---|', values).pipe(sendTo(app))).toBe('--#', undefined, {
        name: 'Error',
        code: 'ECONNRESET',
        errno: -104,
        syscall: 'read',
      });
    });
  });

  it('errors with WriteAfterEndError on a connection that was already ended', () => {
    marbles().run(({ cold, expectObservable }) => {
      const [app] = connectionPair();
      app.end();
      expectObservable(cold('-a|', values).pipe(sendTo(app))).toBe('-#', undefined, {
        name: 'WriteAfterEndError',
        code: 'ERR_WRITE_AFTER_END',
        connectionId: app.id,
      });
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
    app.end();
    of(Buffer.from('x'))
      .pipe(sendTo(app))
      .subscribe({ error: (e) => (error = e) });
    expect(comparable(error)).toEqual({
      name: 'WriteAfterEndError',
      code: 'ERR_WRITE_AFTER_END',
      connectionId: app.id,
    });
  });
});
