// LeanSubscription: Subscription's add/remove/unsubscribe contract, with the first finalizer kept in a field.
import { Subscription, UnsubscriptionError } from 'rxjs';
import { LeanSubscription } from '../../lib/util/LeanSubscription';

/** RxJS's own array of finalizers (null until a finalizer goes there). */
const finalizerArray = (s: Subscription) => (s as unknown as { _finalizers: unknown[] | null })._finalizers;

describe('LeanSubscription', () => {
  it('keeps a single finalizer out of the array and runs it on unsubscribe, once', () => {
    const s = new LeanSubscription();
    const ran: string[] = [];
    s.add(() => ran.push('one'));
    expect(finalizerArray(s)).toBeNull();
    s.unsubscribe();
    s.unsubscribe();
    expect(ran).toEqual(['one']);
    expect(s.closed).toBe(true);
  });

  it('runs every finalizer when there are several: functions and child subscriptions', () => {
    const s = new LeanSubscription();
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
    const s = new LeanSubscription();
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
    const s = new LeanSubscription();
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
    const s = new LeanSubscription();
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
    const s = new LeanSubscription();
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
    const s = new LeanSubscription();
    const ran: string[] = [];
    s.add(() => ran.push('first'));
    s.add(() => {
      throw new Error('boom');
    });
    expect(() => s.unsubscribe()).toThrow('boom');
    expect(ran).toEqual(['first']);
  });
});
