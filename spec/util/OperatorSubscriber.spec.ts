// OperatorSubscriber: the base guards, and Subscription's add/remove/unsubscribe contract with the first finalizer kept in a field.
import { Observable, Subscriber, Subscription, UnsubscriptionError, take } from 'rxjs';
import type { Observer } from 'rxjs';
import { OperatorSubscriber } from '../../lib/util/OperatorSubscriber';
import { StrictSource } from '../support/operatorContract';

/** The smallest subclass: passes values on. */
class Relay<T> extends OperatorSubscriber<T> {
  next(value: T): void {
    if (!this.closed) this.downstream.next(value);
  }
}

/** The Subscriber RxJS makes for `observer`: an operator's downstream. */
function downstreamOf<T>(observer: Partial<Observer<T>> = {}): Subscriber<T> {
  let downstream: Subscriber<T> | undefined;
  new Observable<T>((subscriber) => {
    downstream = subscriber;
  }).subscribe(observer);
  return downstream as Subscriber<T>;
}

/** A Relay on a fresh downstream. */
function relay(): Relay<unknown> {
  return new Relay(downstreamOf());
}

/** RxJS's own array of finalizers (null until a finalizer goes there). */
const finalizerArray = (s: Subscription) => (s as unknown as { _finalizers: unknown[] | null })._finalizers;

describe('OperatorSubscriber', () => {
  describe('as a subscriber', () => {
    it('is an RxJS Subscriber, added to its downstream when made', () => {
      const downstream = downstreamOf<number>();
      const s = new Relay(downstream);
      expect(s).toBeInstanceOf(Subscriber);
      downstream.unsubscribe();
      expect(s.closed).toBe(true);
    });

    it('is not added to its downstream when not linked', () => {
      const downstream = downstreamOf<number>();
      const s = new (class extends Relay<number> {
        constructor() {
          super(downstream, false);
        }
      })();
      downstream.unsubscribe();
      expect(s.closed).toBe(false);
    });

    it('unsubscribes from the source, then tells downstream, on error and on complete; once', () => {
      for (const end of ['error', 'complete'] as const) {
        const log: string[] = [];
        const downstream = downstreamOf<number>({
          error: () => log.push('downstream error'),
          complete: () => log.push('downstream complete'),
        });
        const s = new Relay(downstream);
        s.add(() => log.push('source unsubscribed'));
        if (end === 'error') s.error(new Error('x'));
        else s.complete();
        s.error(new Error('late'));
        s.complete();
        expect(log).toEqual(['source unsubscribed', `downstream ${end}`]);
      }
    });

    it('is used as it is by a source that wraps other observers (RxJS 8): a synchronous source stops at take(1)', () => {
      let emitted = 0;
      const source = new StrictSource(
        new Observable<number>((subscriber) => {
          for (let i = 0; i < 10 && !subscriber.closed; i++) {
            emitted++;
            subscriber.next(i);
          }
        }),
      );
      const values: number[] = [];
      new Observable<number>((downstream) => {
        source.subscribe(new Relay(downstream));
      })
        .pipe(take(1))
        .subscribe((v) => values.push(v));
      expect(source.subscribers[0]).toBeInstanceOf(Relay);
      expect(values).toEqual([0]);
      expect(emitted).toBe(1);
    });
  });

  describe('its finalizers', () => {
    it('keeps a single finalizer out of the array and runs it on unsubscribe, once', () => {
      const s = relay();
      const ran: string[] = [];
      s.add(() => ran.push('one'));
      expect(finalizerArray(s)).toBeNull();
      s.unsubscribe();
      s.unsubscribe();
      expect(ran).toEqual(['one']);
      expect(s.closed).toBe(true);
    });

    it('runs every finalizer when there are several: functions and child subscriptions', () => {
      const s = relay();
      const ran: string[] = [];
      const child = new Subscription(() => ran.push('child'));
      s.add(() => ran.push('first'));
      s.add(child);
      s.add(() => ran.push('third'));
      s.unsubscribe();
      // In the order they were added, as RxJS runs them.
      expect(ran).toEqual(['first', 'child', 'third']);
      expect(child.closed).toBe(true);
    });

    it('ignores itself, nothing and closed children; runs what is added after it closed at once', () => {
      const s = relay();
      const closedChild = new Subscription();
      closedChild.unsubscribe();
      s.add(s);
      s.add(undefined);
      s.add(closedChild);
      const ran: string[] = [];
      s.add(() => ran.push('kept'));
      s.unsubscribe();
      expect(ran).toEqual(['kept']);
      s.add(() => ran.push('late'));
      expect(ran).toEqual(['kept', 'late']);
    });

    it('forgets a removed finalizer, whether it was kept in the field or in the array', () => {
      const s = relay();
      const ran: string[] = [];
      const first = () => ran.push('first');
      const second = () => ran.push('second');
      s.add(first);
      s.add(second);
      s.remove(first);
      s.remove(second);
      s.unsubscribe();
      expect(ran).toEqual([]);
    });

    it('reports a lone finalizer that throws as RxJS does: an UnsubscriptionError', () => {
      const s = relay();
      const boom = new Error('boom');
      s.add(() => {
        throw boom;
      });
      let thrown: unknown;
      try {
        s.unsubscribe();
      } catch (error) {
        thrown = error;
      }
      expect(thrown).toBeInstanceOf(UnsubscriptionError);
      expect((thrown as UnsubscriptionError).errors).toEqual([boom]);
    });

    it('lets a child that unsubscribed early drop out once finalizers are in the array', () => {
      const s = relay();
      const first = new Subscription();
      const second = new Subscription();
      s.add(first);
      s.add(second);
      second.unsubscribe();
      expect(finalizerArray(s)).toEqual([first]);
      s.unsubscribe();
      expect(first.closed).toBe(true);
    });

    it('runs its finalizer even when another finalizer throws, then reports the error', () => {
      const s = relay();
      const ran: string[] = [];
      s.add(() => ran.push('first'));
      s.add(() => {
        throw new Error('boom');
      });
      expect(() => s.unsubscribe()).toThrow('boom');
      expect(ran).toEqual(['first']);
    });
  });
});
