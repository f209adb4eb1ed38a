// The base of rxnet's operator subscribers: an RxJS Subscriber, on the public API, that keeps one finalizer in a field.
import { Subscriber, Subscription, UnsubscriptionError } from 'rxjs';
import type { TeardownLogic } from 'rxjs';

/**
 * What every rxnet operator subscribes to its source with: a `Subscriber` (RxJS's public class),
 * which every RxJS version uses as it is. It is added to its downstream when made, so when
 * downstream unsubscribes (say `take(1)` is satisfied) while a synchronous source is still
 * looping, the source sees `closed` and stops.
 *
 * The guards all operators share live here: once closed, notifications are ignored; `error` and
 * `complete` unsubscribe from the source, then tell downstream. Subclasses write `next` and
 * override the others where they do more. A throw from user code is caught where it is called
 * (try/catch inline, nothing allocated) and becomes the error notification.
 *
 * Its first finalizer (its source's, in a pipeline) is kept in a field, not in RxJS's array:
 * 184 bytes saved per link, which counts with thousands of idle connections. A child kept in the
 * field is not told its parent, so a child that unsubscribes early stays referenced until this
 * one is unsubscribed.
 *
 * @internal
 */
export abstract class OperatorSubscriber<In, Out = In> extends Subscriber<In> {
  /** The first finalizer; SPILLED once a second one came (then all are in RxJS's array). */
  private firstFinalizer: Exclude<TeardownLogic, void> | typeof SPILLED | undefined = undefined;

  /**
   * @param downstream Where the notifications go.
   * @param linked Add this subscriber to `downstream`, so that unsubscribing downstream reaches the
   *   source; false where the owner unsubscribes it itself (serveEach's list of handlers).
   */
  constructor(downstream: Subscriber<Out>, linked = true) {
    // RxJS's Subscriber adds itself to a destination it is given.
    super(linked ? downstream : undefined);
    if (!linked) this.destination = downstream;
  }

  /** Where the notifications go: RxJS's own `destination` field, so that no second field holds it. */
  protected get downstream(): Subscriber<Out> {
    return this.destination as Subscriber<Out>;
  }

  abstract override next(value: In): void;

  override error(error: unknown): void {
    if (this.closed) return;
    this.unsubscribe();
    this.downstream.error(error);
  }

  override complete(): void {
    if (this.closed) return;
    this.unsubscribe();
    this.downstream.complete();
  }

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
      // A second finalizer: RxJS's array from now on, the first one first.
      this.firstFinalizer = SPILLED;
      super.add(first);
    }
    super.add(teardown);
  }

  override remove(teardown: Exclude<TeardownLogic, void>): void {
    if (teardown === this.firstFinalizer) this.firstFinalizer = undefined;
    else super.remove(teardown);
  }

  override unsubscribe(): void {
    if (this.closed) return;
    const first = this.firstFinalizer;
    const downstream = this.destination;
    // The array's finalizers, if any (never together with one in the field).
    super.unsubscribe();
    // RxJS drops its destination here; subclasses tell downstream after leaving the source.
    this.destination = downstream;
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

/** Marks an OperatorSubscriber whose finalizers are all in RxJS's array. */
const SPILLED = { unsubscribe(): void {} };
