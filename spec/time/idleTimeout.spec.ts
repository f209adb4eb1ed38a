// idleTimeout(): silence after subscription or after a value, reset, completion, errors, unsubscription, in virtual time.
// The operator contract runs over it in spec/util/operatorContract.spec.ts.
import { NEVER, Subject, asyncScheduler, mergeMap, of, take } from 'rxjs';
import { TestScheduler } from 'rxjs/testing';
import { IdleTimeoutError, InvalidArgumentError } from '../../lib/errors';
import { idleTimeout } from '../../lib/time/idleTimeout';
import { comparable, createTestScheduler } from '../../lib/testing';

const marbles = () => createTestScheduler({ assertDeepEqual: (actual, expected) => expect(actual).toEqual(expected) });

describe('idleTimeout', () => {
  it('errors with IdleTimeoutError when nothing arrives for ms after the last value', () => {
    marbles().run(({ cold, expectObservable, expectSubscriptions }) => {
      const source = cold('-a--b-------c-|');
      const sub = '        ^-------!      ';
      const expected = '   -a--b---#      ';
      expectObservable(source.pipe(idleTimeout(4))).toBe(expected, undefined, new IdleTimeoutError(4));
      expectSubscriptions(source.subscriptions).toBe(sub);
    });
  });

  it('starts the clock at subscription, before any value', () => {
    marbles().run(({ expectObservable }) => {
      expectObservable(NEVER.pipe(idleTimeout(3))).toBe('---#', undefined, new IdleTimeoutError(3));
    });
  });

  it('restarts the clock at every value, so a steady stream never times out', () => {
    marbles().run(({ cold, expectObservable }) => {
      const source = cold('--a--b--c--d--|');
      expectObservable(source.pipe(idleTimeout(3))).toBe('--a--b--c--d--|');
    });
  });

  it("completes instead with onIdle 'complete', unsubscribing the source", () => {
    marbles().run(({ hot, expectObservable, expectSubscriptions }) => {
      const source = hot('-a--b-------c-|');
      expectObservable(source.pipe(idleTimeout(4, { onIdle: 'complete' }))).toBe('-a--b---|');
      expectSubscriptions(source.subscriptions).toBe('^-------!');
    });
  });

  it('passes completion on at once and fires no timer afterwards', () => {
    marbles().run(({ cold, expectObservable }) => {
      expectObservable(cold('-a|').pipe(idleTimeout(5))).toBe('-a|');
    });
  });

  it('passes a source error on at once', () => {
    marbles().run(({ cold, expectObservable }) => {
      const failure = Object.assign(new Error('read ECONNRESET'), { code: 'ECONNRESET' });
      expectObservable(cold('-a-#', undefined, failure).pipe(idleTimeout(5))).toBe('-a-#', undefined, failure);
    });
  });

  it('stops its timer when unsubscribed early', () => {
    marbles().run(({ hot, expectObservable, expectSubscriptions }) => {
      const source = hot('-a---------');
      expectObservable(source.pipe(idleTimeout(3)), '^-!').toBe('-a-');
      expectSubscriptions(source.subscriptions).toBe('^-!');
    });
  });

  it('times out an inner stream of mergeMap without touching its siblings', () => {
    marbles().run(({ cold, expectObservable }) => {
      const slow = cold('-----a|');
      const fast = cold('-a|');
      const result = of(slow, fast).pipe(mergeMap((s) => s.pipe(idleTimeout(3, { onIdle: 'complete' }))));
      expectObservable(result).toBe('-a-|');
    });
  });

  it('accepts the scheduler alone as second argument', () => {
    const scheduler = marbles();
    scheduler.run(({ expectObservable }) => {
      expectObservable(NEVER.pipe(idleTimeout(2, scheduler))).toBe('--#', undefined, new IdleTimeoutError(2));
    });
  });

  it('takes its scheduler in the options', () => {
    marbles().run(({ hot, expectObservable }) => {
      const source = hot('-a--');
      expectObservable(source.pipe(idleTimeout(2, { scheduler: asyncScheduler }))).toBe(
        '-a-#',
        undefined,
        new IdleTimeoutError(2),
      );
    });
  });

  it('carries the duration in the error: name, code and ms', () => {
    let error: unknown;
    const scheduler = new TestScheduler(() => undefined);
    new Subject<number>().pipe(idleTimeout(7, scheduler)).subscribe({ error: (e) => (error = e) });
    scheduler.flush();
    expect(error).toBeInstanceOf(IdleTimeoutError);
    expect(comparable(error)).toEqual({ name: 'IdleTimeoutError', code: 'ERR_IDLE_TIMEOUT', ms: 7 });
  });

  it('stops a synchronous source with take(1) before its timer matters', () => {
    const values: number[] = [];
    of(1, 2, 3)
      .pipe(idleTimeout(1), take(1))
      .subscribe((v) => values.push(v));
    expect(values).toEqual([1]);
  });

  it.each([0, -1, 1.5, NaN, Infinity])('rejects ms = %p when created', (ms) => {
    expect(() => idleTimeout(ms)).toThrow(InvalidArgumentError);
  });

  it('rejects an unknown onIdle when created', () => {
    expect(() => idleTimeout(5, { onIdle: 'ignore' as never })).toThrow(InvalidArgumentError);
  });
});
