// A Subscription that keeps its first finalizer in a field: no array for the common case of one.
import { Subscription } from 'rxjs';
import type { TeardownLogic } from 'rxjs';

/**
 * RxJS's `Subscription#add` puts every finalizer in an array, and V8 gives an array grown by
 * `push` room for 17 entries (184 bytes). Each link of a pipeline holds exactly one finalizer
 * (its upstream's), so a server with 10,000 idle connections would spend megabytes on arrays of
 * one. This base class keeps the first finalizer in a field and falls back to the array only for
 * a second one. A child kept in the field is not told its parent (it cannot remove itself early);
 * it is unsubscribed when this one is, which is all an upstream link needs.
 */
export class LeanSubscription extends Subscription {
  private firstFinalizer: Exclude<TeardownLogic, void> | undefined = undefined;

  override add(teardown: TeardownLogic): void {
    if (this.firstFinalizer === undefined && teardown && teardown !== this && !this.closed) {
      if (teardown instanceof Subscription && teardown.closed) return;
      this.firstFinalizer = teardown;
    } else super.add(teardown);
  }

  override remove(teardown: Exclude<TeardownLogic, void>): void {
    if (teardown === this.firstFinalizer) this.firstFinalizer = undefined;
    else super.remove(teardown);
  }

  override unsubscribe(): void {
    if (this.closed) return;
    const first = this.firstFinalizer;
    this.firstFinalizer = undefined;
    try {
      super.unsubscribe();
    } finally {
      if (typeof first === 'function') first();
      else first?.unsubscribe();
    }
  }
}
