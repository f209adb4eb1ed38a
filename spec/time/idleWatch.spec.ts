// idleWatch(): read, write and all idle states from events$, first/repeat, resets, end of stream, on the test kit too.
import { Subject, asyncScheduler, mergeMap, of } from 'rxjs';
import { TestScheduler } from 'rxjs/testing';
import { InvalidArgumentError } from '../../lib/errors';
import { idleWatch } from '../../lib/time/idleWatch';
import type { IdleEvent, IdleState } from '../../lib/time/idleWatch';
import { connectionPair, createTestScheduler } from '../../lib/testing';
import type { ConnectionEvent } from '../../lib/types';

const marbles = () => createTestScheduler({ assertDeepEqual: (actual, expected) => expect(actual).toEqual(expected) });
const frozen = () => new TestScheduler(() => undefined);

/** Runs `work` at `frame` of the current TestScheduler.run (asyncScheduler is virtual there). */
const at = (frame: number, work: () => void) => asyncScheduler.schedule(work, frame);

const ev: Record<string, ConnectionEvent> = {
  d: { type: 'data', chunk: Buffer.from('x') },
  w: { type: 'written', bytes: 1 },
  z: { type: 'written', bytes: 0 },
  x: { type: 'drain' },
  t: { type: 'timeout' },
  e: { type: 'end' },
};
const idle = (state: IdleState, first: boolean, idleFor: number): IdleEvent => ({ state, first, idleFor });

describe('idleWatch', () => {
  // Beside the contract (spec/util/operatorContract.spec.ts): its timers and per-subscription clocks.
  describe('unsubscription and state', () => {
    it('unsubscribes from events$ when the subscriber unsubscribes early', () => {
      const events = new Subject<ConnectionEvent>();
      const subscription = events.pipe(idleWatch({ readIdle: 5, scheduler: frozen() })).subscribe();
      expect(events.observed).toBe(true);
      subscription.unsubscribe();
      expect(events.observed).toBe(false);
    });

    it('passes an unsubscription through mergeMap to events$ and cancels its timers', () => {
      const scheduler = frozen();
      const events = new Subject<ConnectionEvent>();
      const subscription = of(0)
        .pipe(mergeMap(() => events.pipe(idleWatch({ readIdle: 5, writeIdle: 6, scheduler }))))
        .subscribe();
      expect(scheduler.actions).toHaveLength(2);
      subscription.unsubscribe();
      expect(events.observed).toBe(false);
      expect(scheduler.actions.every((action) => action.closed)).toBe(true);
    });

    it('keeps its clocks per subscription', () => {
      marbles().run(({ hot, expectObservable }) => {
        const events = hot<ConnectionEvent>('-------', ev);
        const watch = idleWatch({ readIdle: 3 });
        expectObservable(events.pipe(watch), '^---!').toBe('---a', { a: idle('readIdle', true, 3) });
        expectObservable(events.pipe(watch), '--^---!').toBe('-----a', { a: idle('readIdle', true, 3) });
      });
    });
  });

  it('reports readIdle after readIdle ms without a chunk, then again every period with first: false', () => {
    marbles().run(({ hot, expectObservable }) => {
      const events = hot<ConnectionEvent>('-----------', ev);
      expectObservable(events.pipe(idleWatch({ readIdle: 3 })), '^---------!').toBe('---a--b--c', {
        a: idle('readIdle', true, 3),
        b: idle('readIdle', false, 6),
        c: idle('readIdle', false, 9),
      });
    });
  });

  it('restarts the clock on each data event and reports first: true again after it', () => {
    marbles().run(({ hot, expectObservable }) => {
      const events = hot<ConnectionEvent>('--d------d--------', ev);
      const sub = '                        ^---------------!';
      const expected = '                   -----a--b---c--d';
      expectObservable(events.pipe(idleWatch({ readIdle: 3 })), sub).toBe(expected, {
        a: idle('readIdle', true, 3),
        b: idle('readIdle', false, 6),
        c: idle('readIdle', true, 3),
        d: idle('readIdle', false, 6),
      });
    });
  });

  it('counts a flushed write for writeIdle but not for readIdle', () => {
    marbles().run(({ hot, expectObservable }) => {
      const events = hot<ConnectionEvent>('--w-----', ev);
      expectObservable(events.pipe(idleWatch({ readIdle: 4, writeIdle: 4 })), '^------!').toBe('----r-w', {
        r: idle('readIdle', true, 4),
        w: idle('writeIdle', true, 4),
      });
    });
  });

  it('counts both reads and flushed writes for allIdle', () => {
    marbles().run(({ hot, expectObservable }) => {
      const events = hot<ConnectionEvent>('-d-w-d-w--------', ev);
      expectObservable(events.pipe(idleWatch({ allIdle: 3 })), '^-------------!').toBe('----------a--b', {
        a: idle('allIdle', true, 3),
        b: idle('allIdle', false, 6),
      });
    });
  });

  it('runs the three states side by side, each on its own duration', () => {
    marbles().run(({ hot, expectObservable }) => {
      const events = hot<ConnectionEvent>('--------', ev);
      expectObservable(events.pipe(idleWatch({ readIdle: 2, writeIdle: 3, allIdle: 5 })), '^-----!').toBe('--rwsa', {
        r: idle('readIdle', true, 2),
        w: idle('writeIdle', true, 3),
        s: idle('readIdle', false, 4),
        a: idle('allIdle', true, 5),
      });
    });
  });

  it('is not reset by other events nor by an empty write', () => {
    marbles().run(({ hot, expectObservable }) => {
      const events = hot<ConnectionEvent>('-(xtze)-', ev);
      expectObservable(events.pipe(idleWatch({ readIdle: 3, writeIdle: 3 })), '^---!').toBe('---(rw)', {
        r: idle('readIdle', true, 3),
        w: idle('writeIdle', true, 3),
      });
    });
  });

  it('completes when events$ completes (after close), stopping its timers', () => {
    marbles().run(({ hot, expectObservable }) => {
      expectObservable(hot<ConnectionEvent>('-d--|', ev).pipe(idleWatch({ readIdle: 10 }))).toBe('----|');
    });
  });

  it('passes an error of events$ on', () => {
    marbles().run(({ hot, expectObservable }) => {
      const failure = new Error('boom');
      expectObservable(hot<ConnectionEvent>('-d--#', ev, failure).pipe(idleWatch({ readIdle: 10 }))).toBe(
        '----#',
        undefined,
        failure,
      );
    });
  });

  it('stops its timers when unsubscribed', () => {
    marbles().run(({ hot, expectObservable, expectSubscriptions }) => {
      const events = hot<ConnectionEvent>('-------', ev);
      expectObservable(events.pipe(idleWatch({ readIdle: 2, allIdle: 3 })), '^--!').toBe('--r', {
        r: idle('readIdle', true, 2),
      });
      expectSubscriptions(events.subscriptions).toBe('^--!');
    });
  });

  it.each([
    [{}],
    [{ readIdle: 0, writeIdle: 0, allIdle: 0 }],
    [{ readIdle: -1 }],
    [{ writeIdle: 1.5 }],
    [{ allIdle: NaN }],
  ])('rejects %p when created', (config) => {
    expect(() => idleWatch(config)).toThrow(InvalidArgumentError);
  });

  describe('on a connection of the test kit', () => {
    it('resets on each chunk read', () => {
      marbles().run(({ expectObservable }) => {
        const [client, server] = connectionPair();
        server.data$.subscribe();
        at(1, () => client.write('a'));
        at(3, () => client.write('b'));
        expectObservable(server.events$.pipe(idleWatch({ readIdle: 3 })), '^-------!').toBe('------r', {
          r: idle('readIdle', true, 3),
        });
      });
    });

    it('does not read data$ itself: bytes wait, the connection stays read-idle, and a later reader gets them all', () => {
      marbles().run(({ expectObservable }) => {
        const [client, server] = connectionPair();
        at(1, () => client.write('hello'));
        expectObservable(server.events$.pipe(idleWatch({ readIdle: 3 })), '^---!').toBe('---r', {
          r: idle('readIdle', true, 3),
        });
        expectObservable(server.data$, '-----^!').toBe('-----h', { h: 'hello' });
        at(4, () => expect(server.bytesRead).toBe(0));
      });
    });

    it('counts a write when it is flushed, not while it is stuck behind a stalled wire', () => {
      marbles().run(({ expectObservable }) => {
        const [client, server] = connectionPair();
        client.data$.subscribe();
        at(1, () => server.write('one'));
        at(5, () => server.outbound.stall());
        at(6, () => server.write('stuck'));
        at(8, () => server.outbound.resume());
        expectObservable(server.events$.pipe(idleWatch({ writeIdle: 3 })), '^-----------!').toBe('----a--b---c', {
          a: idle('writeIdle', true, 3),
          b: idle('writeIdle', false, 6),
          c: idle('writeIdle', true, 3),
        });
      });
    });

    it('completes when the connection closes', () => {
      marbles().run(({ expectObservable }) => {
        const [client, server] = connectionPair();
        server.data$.subscribe();
        client.data$.subscribe();
        at(2, () => client.end());
        at(3, () => server.end());
        expectObservable(server.events$.pipe(idleWatch({ allIdle: 10 }))).toBe('---|');
      });
    });
  });

  it('keeps no timer when events$ has already completed', () => {
    const scheduler = frozen();
    const events = new Subject<ConnectionEvent>();
    events.complete();
    let completed = false;
    events.pipe(idleWatch({ readIdle: 1, scheduler })).subscribe({ complete: () => (completed = true) });
    expect(completed).toBe(true);
    expect(scheduler.actions).toHaveLength(0);
  });
});
