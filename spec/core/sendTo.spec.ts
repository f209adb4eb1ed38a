// sendTo() in virtual time on the test kit: the arguments it checks when called, and the limits it chooses
// (none by default with pauseSource, what was given otherwise). What the sink does once subscribed (writing, waiting
// for drain, the queue, overflow, completion after flush, failures): SendSubscriber.spec.ts.
import { asyncScheduler, from, map, mergeMap } from 'rxjs';
import { sendStats, sendTo } from '../../lib/core/sendTo';
import { bytes, connectionPair, createTestScheduler } from '../../lib/testing';
import type { MemoryConnection } from '../../lib/testing';
import { unwritable } from '../support/memory';

const marbles = () => createTestScheduler({ assertDeepEqual: (actual, expected) => expect(actual).toEqual(expected) });
/** Runs `work` at `frame` of the current TestScheduler.run (asyncScheduler is virtual there). */
const at = (frame: number, work: () => void) => asyncScheduler.schedule(work, frame);
const values = bytes({ a: 'a', b: 'b', c: 'c', d: 'd', e: 'e' });

describe('sendTo on the test kit', () => {
  it('accepts Infinity for highWaterMark and highWaterMarkBytes, as decodeLines() does for maxLength', () => {
    marbles().run(({ cold, expectObservable }) => {
      const [app, peer] = connectionPair();
      const stats = sendStats();
      unwritable(app, 0, 3);
      const many = cold('-(abcde|)', values);
      expectObservable(many.pipe(sendTo(app, { highWaterMark: Infinity, highWaterMarkBytes: Infinity, stats }))).toBe(
        '---|',
      );
      expectObservable(peer.data$).toBe('---(abcde|)', values);
      at(2, () => expect(stats.peakQueued).toBe(4));
    });
  });

  it('rejects bad arguments when it is created', () => {
    const [app] = connectionPair();
    const bad: [string, () => unknown][] = [
      ['connection', () => sendTo(undefined as unknown as MemoryConnection)],
      ['connection', () => sendTo({} as unknown as MemoryConnection)],
      ['highWaterMark', () => sendTo(app, { highWaterMark: 0 })],
      ['highWaterMark', () => sendTo(app, { highWaterMark: 1.5 })],
      ['highWaterMarkBytes', () => sendTo(app, { highWaterMarkBytes: 0 })],
      ['highWaterMarkBytes', () => sendTo(app, { highWaterMarkBytes: -Infinity })],
      ['overflow', () => sendTo(app, { overflow: 'drop' as 'error' })],
      ['end', () => sendTo(app, { end: 'yes' as unknown as boolean })],
      ['pauseSource', () => sendTo(app, { pauseSource: {} as MemoryConnection })],
      ['options', () => sendTo(app, null as unknown as object)],
    ];
    for (const [argument, make] of bad) {
      expect(make).toThrow(expect.objectContaining({ name: 'InvalidArgumentError', argument }));
    }
  });

  it('with pauseSource, still applies the limits it was given', () => {
    marbles().run(({ expectObservable }) => {
      const [client, server] = connectionPair();
      unwritable(server, 0, 3);
      at(1, () => client.write('xxxx'));
      const replies = server.data$.pipe(
        mergeMap((chunk) => from(chunk)),
        map(() => 'y'),
      );
      expectObservable(replies.pipe(sendTo(server, { pauseSource: server, highWaterMark: 2 }))).toBe('-#', undefined, {
        name: 'QueueOverflowError',
        code: 'ERR_QUEUE_OVERFLOW',
        highWaterMark: 2,
        highWaterMarkBytes: Infinity,
        queued: 2,
        queuedBytes: 2,
        queue: 'sink queue',
        waitingFor: 'drain',
      });
    });
  });

  it('with pauseSource, queues every value decoded from what was already read, past the default limits', () => {
    marbles().run(({ expectObservable }) => {
      // A pipelining peer: 2,000 requests in one chunk, each answered while the socket is full.
      const [client, server] = connectionPair();
      const stats = sendStats();
      unwritable(server, 0, 3);
      at(1, () => client.write('x'.repeat(2000)));
      const replies = server.data$.pipe(
        mergeMap((chunk) => from(chunk)),
        map(() => 'y'),
      );
      expectObservable(replies.pipe(sendTo(server, { pauseSource: server, stats }))).toBe('');
      let answered = 0;
      client.data$.subscribe((chunk) => (answered += chunk.length));
      at(4, () => expect(answered).toBe(2000));
      // The first reply went to the connection's buffer, the 1,999 others wait in the sink.
      at(2, () => expect([stats.peakQueued, stats.dropped, server.inbound.unread]).toEqual([1999, 0, 0]));
    });
  });
});
