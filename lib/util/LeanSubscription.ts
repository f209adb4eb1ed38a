// A Subscription that keeps its first finalizer in a field: no array for the common case of one.
import { Subscription, UnsubscriptionError } from 'rxjs';
import type { TeardownLogic } from 'rxjs';

/**
 * RxJS's `Subscription#add` puts every finalizer in an array, and V8 gives an array grown by
 * `push` room for 17 entries (184 bytes). Each link of a pipeline holds exactly one finalizer
 * (its upstream's), so a server with 10,000 idle connections would spend megabytes on arrays of
 * one. This base class keeps the first finalizer in a field and moves to the array, in order,
 * when a second one comes. A child kept in the field is not told its parent, so a child that
 * unsubscribes early stays referenced until this one is unsubscribed (an upstream link, which is
 * what the field holds, ends with its downstream anyway).
 */
export class LeanSubscription extends Subscription {
  /**
   * The first finalizer; SPILLED once a second one came (from then on every finalizer is in
   * RxJS's array): one field for both, as thousands of these may be alive.
   */
  private firstFinalizer: Exclude<TeardownLogic, void> | typeof SPILLED | undefined = undefined;

  override add(teardown: TeardownLogic): void {
    if (!teardown || teardown === this) return;
    // Closed: RxJS runs it at once.
    if (this.closed) return super.add(teardown);
    const first = this.firstFinalizer;
    if (first === undefined) {
      if (teardown instanceof Subscription && teardown.closed) return;
      this.firstFinalizer = teardown;
      return;
    }
    if (first !== SPILLED) {
      // A second finalizer: RxJS's array from now on, the first one first (the order they were
      // added in, and a child that unsubscribes early removes itself as RxJS arranges).
      this.firstFinalizer = SPILLED;
      super.add(first);
    }
    super.add(teardown);
  }

  override remove(teardown: Exclude<TeardownLogic, void>): void {
    // Once spilled, the field stays SPILLED: later finalizers keep going to the array, in order.
    if (teardown === this.firstFinalizer) this.firstFinalizer = undefined;
    else super.remove(teardown);
  }

  override unsubscribe(): void {
    if (this.closed) return;
    const first = this.firstFinalizer;
    // The array's finalizers, if any (never together with a first finalizer in the field).
    super.unsubscribe();
    if (first === undefined || first === SPILLED) return;
    this.firstFinalizer = undefined;
    try {
      if (typeof first === 'function') first();
      else first.unsubscribe();
    } catch (error) {
      // As RxJS reports a finalizer's error.
      throw error instanceof UnsubscriptionError ? error : new UnsubscriptionError([error]);
    }
  }
}

/** Marks a LeanSubscription whose finalizers are all in RxJS's array. */
const SPILLED = { unsubscribe(): void {} };
