// backoff(): exponential, capped, jittered retry delays, driven in virtual time.
import { TestScheduler } from 'rxjs/testing';
import { Observable, retry } from 'rxjs';
import { backoff } from '../../lib/util/backoff';
import { InvalidArgumentError } from '../../lib/errors';

function newScheduler(): TestScheduler {
  return new TestScheduler((actual, expected) => expect(actual).toEqual(expected));
}

describe('backoff', () => {
  it('doubles the delay from initialDelay and caps it at maxDelay when jitter is 0', () => {
    newScheduler().run(({ expectObservable }) => {
      // Fails 4 times, succeeds on the 5th subscription.
      let attempts = 0;
      const source = new Observable<string>((subscriber) => {
        attempts++;
        if (attempts < 5) subscriber.error(new Error(`refused ${attempts}`));
        else {
          subscriber.next('connected');
          subscriber.complete();
        }
      });
      const policy = backoff({ initialDelay: 10, maxDelay: 25, factor: 2, jitter: 0 });
      // delays: 10, 20, 25 (capped), 25 -> connected at 80
      expectObservable(source.pipe(retry({ delay: policy }))).toBe('80ms (c|)', { c: 'connected' });
    });
  });

  it('draws each delay from [d * (1 - jitter), d]', () => {
    newScheduler().run(({ expectObservable }) => {
      const policy = backoff({ initialDelay: 100, maxDelay: 1000, jitter: 0.5, random: () => 1 - Number.EPSILON });
      const low = backoff({ initialDelay: 100, maxDelay: 1000, jitter: 0.5, random: () => 0 });
      expectObservable(policy(new Error('x'), 1)).toBe('50ms (a|)', { a: 0 });
      expectObservable(low(new Error('x'), 3)).toBe('400ms (a|)', { a: 0 });
    });
  });

  it('gives up with the last error after maxRetries', () => {
    newScheduler().run(({ expectObservable }) => {
      const source = new Observable<string>((subscriber) => subscriber.error(new Error('refused')));
      const policy = backoff({ initialDelay: 10, maxDelay: 10, jitter: 0, maxRetries: 2 });
      expectObservable(source.pipe(retry({ delay: policy }))).toBe('20ms #', undefined, new Error('refused'));
    });
  });

  it('rejects bad arguments when created, with InvalidArgumentError', () => {
    expect(() => backoff({ initialDelay: -1 })).toThrow(InvalidArgumentError);
    expect(() => backoff({ initialDelay: 100, maxDelay: 10 })).toThrow(InvalidArgumentError);
    expect(() => backoff({ jitter: 2 })).toThrow(expect.objectContaining({ code: 'ERR_INVALID_ARGUMENT' }));
    expect(() => backoff({ factor: 0.5 })).toThrow(InvalidArgumentError);
  });
});
