// LeanSubscription: Subscription's add/remove/unsubscribe contract, with the first finalizer kept in a field.
import { Subscription } from 'rxjs';
import { LeanSubscription } from '../../lib/internal/LeanSubscription';

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
    expect(ran.sort()).toEqual(['child', 'first', 'third']);
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
