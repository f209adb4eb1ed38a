// limitRate(): burst, spacing at the rate, order, drop, error, the queue's limit and end, pauseSource's hold, teardown.
import { Observable, Subject, VirtualTimeScheduler, mergeMap, of, take } from 'rxjs';
import type { SchedulerLike } from 'rxjs';
import { TestScheduler } from 'rxjs/testing';
import { InvalidArgumentError, QueueOverflowError, RateLimitError } from '../../lib/errors';
import { limitRate } from '../../lib/shaping/limitRate';
import type { LimitRateConfig, LimitRateEvent } from '../../lib/shaping/limitRate';
import { comparable, createTestScheduler } from '../../lib/testing';

const marbles = () => createTestScheduler({ assertDeepEqual: (actual, expected) => expect(actual).toEqual(expected) });

/** A scheduler whose actions run only when the test flushes it. */
const manual = () => new TestScheduler(() => undefined);

/** A pauseSource that logs each hold and release with the scheduler's time, and counts the holds in force. */
function holdable(scheduler: SchedulerLike) {
  const log: string[] = [];
  let holds = 0;
  return {
    log,
    held: () => holds,
    holdReading(): () => void {
      holds++;
      log.push(`${scheduler.now()} hold`);
      let released = false;
      return () => {
        if (released) return;
        released = true;
        holds--;
        log.push(`${scheduler.now()} release`);
      };
    },
  };
}

describe('limitRate', () => {
  it('passes a burst at once, synchronously, while the bucket has tokens', () => {
    const subject = new Subject<string>();
    const values: string[] = [];
    subject.pipe(limitRate({ burst: 3, rate: 1, scheduler: manual() })).subscribe((v) => values.push(v));
    subject.next('a');
    subject.next('b');
    subject.next('c');
    expect(values).toEqual(['a', 'b', 'c']);
    subject.next('d');
    expect(values).toEqual(['a', 'b', 'c']);
  });

  it('delays what exceeds the burst, spaced at the rate (the diagram of the docs)', () => {
    marbles().run(({ cold, expectObservable, expectSubscriptions }) => {
      const source = cold(' -abcd----------e-|');
      const expected = '    -ab--c---d-----e-|';
      expectObservable(source.pipe(limitRate({ burst: 2, rate: 250 }))).toBe(expected);
      expectSubscriptions(source.subscriptions).toBe('^----------------!');
    });
  });

  it('spaces a long queue one token apart, with fractional rates', () => {
    marbles().run(({ cold, expectObservable }) => {
      const source = cold('(abcd)|');
      // 2.5 tokens a second: one every 400 ms.
      const expected = 'a 399ms b 399ms c 399ms (d|)';
      expectObservable(source.pipe(limitRate({ burst: 1, rate: 2.5 }))).toBe(expected);
    });
  });

  it('keeps a value arriving as a token comes behind those already waiting', () => {
    marbles().run(({ hot, expectObservable }) => {
      // c comes at 5, when b's token does: b goes first, c waits for the next token.
      const source = hot('-ab--c---d------');
      const expected = '  -a---b---c---d--';
      expectObservable(source.pipe(limitRate({ burst: 1, rate: 250 }))).toBe(expected);
    });
  });

  it('keeps order and timing through a long queue, whose drained head is dropped as it goes', () => {
    const scheduler = new VirtualTimeScheduler();
    const seen: string[] = [];
    const values = new Array(3000).fill(0).map((_, i) => i);
    of(...values)
      .pipe(limitRate({ burst: 1, rate: 1000, highWaterMark: Infinity, scheduler }))
      .subscribe((v) => seen.push(`${v}@${scheduler.now()}`));
    scheduler.flush();
    expect(seen).toEqual(values.map((v) => `${v}@${v}`));
  });

  it('tells onLimit of each delayed value and when it is expected out', () => {
    const events: LimitRateEvent<string>[] = [];
    marbles().run(({ cold, expectObservable }) => {
      const source = cold('-abcd----------e-|');
      const onLimit = (event: LimitRateEvent<string>) => events.push(event);
      expectObservable(source.pipe(limitRate({ burst: 2, rate: 250, onLimit }))).toBe('-ab--c---d-----e-|');
    });
    expect(events).toEqual([
      { action: 'delayed', value: 'c', delay: 2 },
      { action: 'delayed', value: 'd', delay: 5 },
    ]);
  });

  it("drops what exceeds the burst with overflow 'drop', telling onLimit when a value would pass again", () => {
    const events: LimitRateEvent<string>[] = [];
    marbles().run(({ cold, expectObservable }) => {
      const source = cold('-abcd----------e-|');
      const onLimit = (event: LimitRateEvent<string>) => events.push(event);
      const config: LimitRateConfig<string> = { burst: 2, rate: 250, overflow: 'drop', onLimit };
      expectObservable(source.pipe(limitRate(config))).toBe('-ab------------e-|');
    });
    expect(events).toEqual([
      { action: 'dropped', value: 'c', delay: 2 },
      { action: 'dropped', value: 'd', delay: 1 },
    ]);
  });

  it("errors with RateLimitError with overflow 'error', unsubscribing the source", () => {
    marbles().run(({ hot, expectObservable, expectSubscriptions }) => {
      const source = hot('-abcd--');
      const error = new RateLimitError(2, 250);
      expectObservable(source.pipe(limitRate({ burst: 2, rate: 250, overflow: 'error' }))).toBe(
        '-ab#',
        undefined,
        error,
      );
      expectSubscriptions(source.subscriptions).toBe('^--!');
    });
  });

  it('carries the limits in RateLimitError: name, code, burst and rate', () => {
    let error: unknown;
    const subject = new Subject<number>();
    subject.pipe(limitRate({ burst: 1, rate: 0.5, overflow: 'error', scheduler: manual() })).subscribe({
      error: (e) => (error = e),
    });
    subject.next(1);
    subject.next(2);
    expect(error).toBeInstanceOf(RateLimitError);
    expect(comparable(error)).toEqual({ name: 'RateLimitError', code: 'ERR_RATE_LIMIT', burst: 1, rate: 0.5 });
    expect(subject.observed).toBe(false);
  });

  it('errors with QueueOverflowError when a value would make more than highWaterMark wait', () => {
    marbles().run(({ hot, expectObservable, expectSubscriptions }) => {
      const source = hot('-abcd--');
      const error = new QueueOverflowError(2, Infinity, 2, 0, 'rate limit queue', 'tokens');
      expectObservable(source.pipe(limitRate({ burst: 1, rate: 250, highWaterMark: 2 }))).toBe(
        '-a--#',
        undefined,
        error,
      );
      expectSubscriptions(source.subscriptions).toBe('^---!');
    });
    let error: unknown;
    const subject = new Subject<number>();
    subject.pipe(limitRate({ burst: 1, rate: 1, highWaterMark: 1, scheduler: manual() })).subscribe({
      error: (e) => (error = e),
    });
    [1, 2, 3].forEach((v) => subject.next(v));
    expect(error).toBeInstanceOf(QueueOverflowError);
    expect(comparable(error)).toMatchObject({ name: 'QueueOverflowError', code: 'ERR_QUEUE_OVERFLOW', queued: 1 });
    expect((error as Error).message).toBe('rate limit queue overflow: more than 1 value(s) waiting for tokens');
  });

  it('limits the queue to 1024 values by default, and not at all with pauseSource', () => {
    const scheduler = manual();
    const overflow = (config: Partial<LimitRateConfig>) => {
      let error: unknown;
      const values = new Array(2000).fill(0).map((_, i) => i);
      of(...values)
        .pipe(limitRate({ burst: 1, rate: 1, scheduler, ...config }))
        .subscribe({ error: (e) => (error = e) });
      return error;
    };
    expect(overflow({})).toMatchObject({ highWaterMark: 1024, queued: 1024 });
    expect(overflow({ pauseSource: holdable(scheduler) })).toBeUndefined();
    expect(overflow({ pauseSource: holdable(scheduler), highWaterMark: 10 })).toMatchObject({
      highWaterMark: 10,
    });
  });

  it('completes only once the queue is empty, leaving the source when it completes', () => {
    marbles().run(({ cold, expectObservable, expectSubscriptions }) => {
      const source = cold('-abc|');
      expectObservable(source.pipe(limitRate({ burst: 1, rate: 250 }))).toBe('-a---b---(c|)');
      expectSubscriptions(source.subscriptions).toBe('^---!');
    });
  });

  it('completes at once when nothing waits', () => {
    marbles().run(({ cold, expectObservable }) => {
      expectObservable(cold('-a-b|').pipe(limitRate({ burst: 2, rate: 1 }))).toBe('-a-b|');
    });
  });

  it('passes a source error on at once, dropping the queue and releasing the hold', () => {
    const scheduler = marbles();
    let pauseSource = holdable(scheduler);
    scheduler.run(({ cold, expectObservable }) => {
      pauseSource = holdable(scheduler);
      const failure = Object.assign(new Error('read ECONNRESET'), { code: 'ECONNRESET' });
      const source = cold('-abc#', undefined, failure);
      expectObservable(source.pipe(limitRate({ burst: 1, rate: 250, pauseSource }))).toBe('-a--#', undefined, failure);
    });
    expect(pauseSource.log).toEqual(['2 hold', '4 release']);
  });

  it('holds pauseSource from the first value queued until the queue is empty, once per wait', () => {
    const scheduler = marbles();
    let pauseSource = holdable(scheduler);
    scheduler.run(({ cold, expectObservable }) => {
      pauseSource = holdable(scheduler);
      const source = cold('-abcd----------efg|');
      const expected = '   -ab--c---d-----e-f---(g|)';
      expectObservable(source.pipe(limitRate({ burst: 2, rate: 250, pauseSource }))).toBe(expected);
    });
    // Two waits: c and d; then f and g (f came after e with three quarters of a token).
    expect(pauseSource.log).toEqual(['3 hold', '9 release', '16 hold', '21 release']);
    expect(pauseSource.held()).toBe(0);
  });

  it('never holds pauseSource while values pass at once', () => {
    const scheduler = manual();
    const pauseSource = holdable(scheduler);
    of(1, 2, 3)
      .pipe(limitRate({ burst: 3, rate: 1, pauseSource, scheduler }))
      .subscribe();
    expect(pauseSource.log).toEqual([]);
  });

  it('cancels its timer and releases the hold when unsubscribed early', () => {
    const scheduler = marbles();
    let pauseSource = holdable(scheduler);
    scheduler.run(({ hot, expectObservable, expectSubscriptions }) => {
      pauseSource = holdable(scheduler);
      const source = hot('-abc-------');
      expectObservable(source.pipe(limitRate({ burst: 2, rate: 250, pauseSource })), '^---!').toBe('-ab--');
      expectSubscriptions(source.subscriptions).toBe('^---!');
    });
    expect(pauseSource.log).toEqual(['3 hold', '4 release']);
  });

  it('leaves no scheduled action behind once unsubscribed', () => {
    const scheduler = manual();
    const pauseSource = holdable(scheduler);
    const subject = new Subject<number>();
    const values: number[] = [];
    const subscription = subject
      .pipe(limitRate({ burst: 1, rate: 1, pauseSource, scheduler }))
      .subscribe((v) => values.push(v));
    [1, 2, 3].forEach((v) => subject.next(v));
    // One action for the whole queue, not one per value.
    expect(scheduler.actions).toHaveLength(1);
    expect(pauseSource.held()).toBe(1);
    subscription.unsubscribe();
    expect(scheduler.actions).toHaveLength(0);
    expect(pauseSource.held()).toBe(0);
    expect(subject.observed).toBe(false);
    scheduler.flush();
    expect(values).toEqual([1]);
  });

  it('passes an unsubscription through mergeMap to the source, the timer and the hold', () => {
    const scheduler = manual();
    const pauseSource = holdable(scheduler);
    const inner = new Subject<number>();
    const subscription = of(inner)
      .pipe(mergeMap((source) => source.pipe(limitRate({ burst: 1, rate: 1, pauseSource, scheduler }))))
      .subscribe();
    inner.next(1);
    inner.next(2);
    expect(scheduler.actions).toHaveLength(1);
    subscription.unsubscribe();
    expect(inner.observed).toBe(false);
    expect(scheduler.actions).toHaveLength(0);
    expect(pauseSource.held()).toBe(0);
  });

  it('keeps its timer when an inner stream of mergeMap completes, and its siblings apart', () => {
    marbles().run(({ cold, expectObservable }) => {
      const slow = cold('(abc|)');
      const fast = cold('-x|');
      const result = of(slow, fast).pipe(mergeMap((s) => s.pipe(limitRate({ burst: 1, rate: 500 }))));
      expectObservable(result).toBe('axb-(c|)');
    });
  });

  it('stops a synchronous source with take(n) once the burst has passed n values', () => {
    let emitted = 0;
    const source = new Observable<number>((subscriber) => {
      for (let i = 0; i < 100 && !subscriber.closed; i++) {
        emitted++;
        subscriber.next(i);
      }
      subscriber.complete();
    });
    const values: number[] = [];
    source.pipe(limitRate({ burst: 3, rate: 1, scheduler: manual() }), take(3)).subscribe((v) => values.push(v));
    expect(values).toEqual([0, 1, 2]);
    expect(emitted).toBe(3);
  });

  it('stops draining its queue when take(n) is satisfied by a delayed value', () => {
    const scheduler = manual();
    const pauseSource = holdable(scheduler);
    const values: number[] = [];
    let completed = false;
    of(1, 2, 3, 4, 5)
      .pipe(limitRate({ burst: 2, rate: 1000, pauseSource, scheduler }), take(3))
      .subscribe({ next: (v) => values.push(v), complete: () => (completed = true) });
    expect(values).toEqual([1, 2]);
    scheduler.flush();
    expect(values).toEqual([1, 2, 3]);
    expect(completed).toBe(true);
    expect(scheduler.actions).toHaveLength(0);
    expect(pauseSource.held()).toBe(0);
  });

  it('turns a throw in onLimit into its error notification, at once, leaving the source', () => {
    const thrown = new Error('metrics failed');
    for (const overflow of ['delay', 'drop'] as const) {
      const scheduler = manual();
      const pauseSource = holdable(scheduler);
      const subject = new Subject<number>();
      let received: unknown;
      const onLimit = () => {
        throw thrown;
      };
      subject
        .pipe(limitRate({ burst: 1, rate: 1, overflow, onLimit, pauseSource, scheduler }))
        .subscribe({ error: (e) => (received = e) });
      subject.next(1);
      subject.next(2);
      expect(received).toBe(thrown);
      expect(subject.observed).toBe(false);
      expect(scheduler.actions).toHaveLength(0);
      expect(pauseSource.held()).toBe(0);
    }
  });

  it('runs on asyncScheduler by default, in real time', async () => {
    const started = Date.now();
    const values: number[] = [];
    await new Promise<void>((resolve, reject) =>
      of(1, 2, 3)
        .pipe(limitRate({ burst: 1, rate: 100 }))
        .subscribe({ next: (v) => values.push(v), error: reject, complete: resolve }),
    );
    expect(values).toEqual([1, 2, 3]);
    expect(Date.now() - started).toBeGreaterThanOrEqual(15);
  });

  describe('checks its arguments when created', () => {
    const valid = { burst: 1, rate: 1 };
    it.each<[string, unknown]>([
      ['config', null],
      ['config', 5],
      ['burst', { ...valid, burst: 0 }],
      ['burst', { ...valid, burst: 1.5 }],
      ['burst', { ...valid, burst: undefined }],
      ['rate', { ...valid, rate: 0 }],
      ['rate', { ...valid, rate: -1 }],
      ['rate', { ...valid, rate: NaN }],
      ['rate', { ...valid, rate: Infinity }],
      ['overflow', { ...valid, overflow: 'queue' }],
      ['highWaterMark', { ...valid, highWaterMark: 0 }],
      ['highWaterMark', { ...valid, highWaterMark: 2.5 }],
      ['pauseSource', { ...valid, pauseSource: {} }],
      ['pauseSource', { ...valid, pauseSource: null }],
      ['onLimit', { ...valid, onLimit: 'log' }],
      ['scheduler', { ...valid, scheduler: {} }],
    ])('rejects a bad %s: %p', (argument, config) => {
      let error: unknown;
      try {
        limitRate(config as LimitRateConfig);
      } catch (e) {
        error = e;
      }
      expect(error).toBeInstanceOf(InvalidArgumentError);
      expect(error).toMatchObject({ code: 'ERR_INVALID_ARGUMENT', argument });
    });

    it('accepts Infinity as highWaterMark', () => {
      expect(() => limitRate({ ...valid, highWaterMark: Infinity })).not.toThrow();
    });
  });
});
