// connectionMetrics(): a connection's bytes, frames, writability and queue figures, in virtual time on the test kit.
import { asyncScheduler, distinctUntilChanged, map, of } from 'rxjs';
import { connectionMetrics } from '../../lib/observe/connectionMetrics';
import type { ConnectionSnapshot } from '../../lib/observe/connectionMetrics';
import { decodeLines } from '../../lib/framing/lines/decodeLines';
import { sendTo } from '../../lib/core/sendTo';
import { bytes, connectionPair, createTestScheduler } from '../../lib/testing';
import { behavesAsOperator } from '../support/operatorContract';

const marbles = () => createTestScheduler({ assertDeepEqual: (actual, expected) => expect(actual).toEqual(expected) });
/** Runs `work` at `frame` of the current TestScheduler.run (asyncScheduler is virtual there). */
const at = (frame: number, work: () => void) => asyncScheduler.schedule(work, frame);

describe('connectionMetrics', () => {
  behavesAsOperator(() => connectionMetrics(connectionPair()[1]).countFramesIn<Buffer>(), Buffer.from('x'));

  it("counts bytes read and written from the connection's own counters, and frames where they are counted", () => {
    marbles().run(({ cold, flush }) => {
      const [client, server] = connectionPair();
      const m = connectionMetrics(server);
      cold('-a-b|', bytes({ a: 'one\ntw', b: 'o\nthree\n' }))
        .pipe(sendTo(client, { end: false }))
        .subscribe();
      server.data$
        .pipe(
          decodeLines(),
          m.countFramesIn(),
          map((line) => `${line.length}\n`),
          m.countFramesOut(),
          sendTo(server, { stats: m.send }),
        )
        .subscribe();
      flush();
      expect(m.snapshot()).toEqual<ConnectionSnapshot>({
        id: server.id,
        open: true,
        bytesRead: 14,
        bytesWritten: 6,
        framesIn: 3,
        framesOut: 3,
        notWritable: 0,
        written: 3,
        queued: 0,
        peakQueued: 0,
        dropped: 0,
      });
    });
  });

  it('tells how often the socket buffer was full and what the sink queued and dropped', () => {
    marbles().run(({ cold, flush }) => {
      const [, server] = connectionPair();
      const m = connectionMetrics(server);
      at(1, () => server.outbound.stall());
      at(8, () => server.outbound.resume());
      cold('-abcde|', bytes({ a: 'a', b: 'b', c: 'c', d: 'd', e: 'e' }))
        .pipe(sendTo(server, { highWaterMark: 2, overflow: 'drop-oldest', stats: m.send, end: false }))
        .subscribe();
      at(6, () => expect(m.snapshot()).toMatchObject({ notWritable: 1, queued: 2, peakQueued: 2, dropped: 2 }));
      flush();
      expect(m.snapshot()).toMatchObject({ notWritable: 1, written: 3, queued: 0, peakQueued: 2, dropped: 2 });
    });
  });

  it('emits a snapshot at once, then as chunks are read and written, and a final one at close, then completes', () => {
    marbles().run(({ cold, expectObservable }) => {
      const [client, server] = connectionPair();
      const m = connectionMetrics(server);
      server.data$.pipe(sendTo(server)).subscribe();
      cold('--a--b|', bytes({ a: 'hi', b: 'there' }))
        .pipe(sendTo(client))
        .subscribe();
      const figures = m.metrics$.pipe(map((s) => `${s.bytesRead}/${s.bytesWritten}${s.open ? '' : ' closed'}`));
      // At 2 'hi' is read and echoed at once, at 5 'there'; at 6 both FINs went through: closed.
      expectObservable(figures.pipe(distinctUntilChanged())).toBe('a-b--c(d|)', {
        a: '0/0',
        b: '2/2',
        c: '7/7',
        d: '7/7 closed',
      });
    });
  });

  it('keeps the final figures once the connection has closed, and completes metrics$ at once after', () => {
    marbles().run(({ flush }) => {
      const [client, server] = connectionPair();
      const m = connectionMetrics(server);
      server.data$.pipe(sendTo(server)).subscribe();
      of(Buffer.from('bye')).pipe(sendTo(client)).subscribe();
      flush();
      expect(server.closed).toBe(true);
      const final = m.snapshot();
      expect(final).toMatchObject({ open: false, bytesRead: 3, bytesWritten: 3 });
      let seen: ConnectionSnapshot[] = [];
      let completed = false;
      m.metrics$.subscribe({ next: (s) => seen.push(s), complete: () => (completed = true) });
      expect(seen).toEqual([final]);
      expect(completed).toBe(true);
      seen = [];
      expect(connectionMetrics(server).snapshot()).toMatchObject({ open: false, bytesRead: 3 });
    });
  });
});
