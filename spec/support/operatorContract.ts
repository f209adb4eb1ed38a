// The checklist every rxnet operator passes (after RxJS's own operator specs): unsubscription, sync sources, errors.
import { Observable, Subject, Subscriber, config, mergeMap, of, take, takeUntil, throwError } from 'rxjs';
import type { Observer, OperatorFunction, Subscription } from 'rxjs';
import { RxnetError } from '../../lib/errors';

/** What the contract needs beyond the operator and one input; all optional. */
export interface ContractOptions<I> {
  /**
   * False for an operator whose output emits nothing for an input (a sink, a timer-driven watch):
   * the checks that count its values (take(1), state per subscription) are left out.
   */
  readonly emits?: boolean;
  /** The operator with a user callback (or a user-given object) that throws `thrown` at `input`. */
  readonly throwing?: (thrown: Error) => { readonly operator: OperatorFunction<I, unknown>; readonly input: I };
  /** Its own failure: the inputs that make it fail and the error it must fail with. */
  readonly failure?: () => ExpectedFailure<I>;
}

/** An operator's own failure, for the contract's error check. */
export interface ExpectedFailure<I> {
  readonly operator: OperatorFunction<I, unknown>;
  readonly inputs: readonly I[];
  /** Complete the source after the inputs (a truncated last frame fails at the end). */
  readonly end?: boolean;
  /** Runs after the inputs, say to flush a virtual clock. */
  readonly then?: () => void;
  readonly error: abstract new (...args: never[]) => RxnetError;
  readonly code: string;
  /** Fields the error must carry. */
  readonly data: Record<string, unknown>;
}

/**
 * A source that subscribes its observer as RxJS 8 does: a `Subscriber` as it is, anything else
 * wrapped in a new subscriber that does not share its `closed`. It records what it was given.
 */
export class StrictSource<T> extends Observable<T> {
  /** Every object an operator subscribed to this source with. */
  readonly subscribers: unknown[] = [];

  constructor(private readonly inner: Observable<T>) {
    super();
  }

  override subscribe(observerOrNext?: Partial<Observer<T>> | ((value: T) => void) | null): Subscription {
    this.subscribers.push(observerOrNext);
    if (observerOrNext instanceof Subscriber) return this.inner.subscribe(observerOrNext);
    const observer = typeof observerOrNext === 'function' ? { next: observerOrNext } : (observerOrNext ?? {});
    return this.inner.subscribe({
      next: (value) => observer.next?.(value),
      error: (error) => observer.error?.(error),
      complete: () => observer.complete?.(),
    });
  }
}

/** A synchronous source of up to 50 `input`s that stops when its subscriber is closed; counts what it emitted. */
function loop<I>(input: I, after: () => void = () => undefined): { source: StrictSource<I>; emitted: () => number } {
  let emitted = 0;
  const source = new StrictSource(
    new Observable<I>((subscriber) => {
      for (let i = 0; i < 50 && !subscriber.closed; i++) {
        emitted++;
        subscriber.next(input);
        after();
      }
      subscriber.complete();
    }),
  );
  return { source, emitted: () => emitted };
}

/**
 * Registers the contract tests for an operator: `makeOp()` builds it afresh, `input` is one
 * value it acts on (one that makes it emit, write, or run a handler).
 */
export function behavesAsOperator<I>(
  makeOp: () => OperatorFunction<I, unknown>,
  input: I,
  options: ContractOptions<I> = {},
): void {
  const { emits = true, throwing, failure } = options;

  describe('operator contract', () => {
    it('subscribes to its source with an RxJS Subscriber, which RxJS 8 uses as it is', () => {
      const source = new StrictSource(new Subject<I>());
      const subscription = source.pipe(makeOp()).subscribe();
      expect(source.subscribers).toHaveLength(1);
      expect(source.subscribers[0]).toBeInstanceOf(Subscriber);
      subscription.unsubscribe();
    });

    it('unsubscribes from the source when the subscriber unsubscribes early', () => {
      const subject = new Subject<I>();
      const subscription = new StrictSource(subject).pipe(makeOp()).subscribe();
      expect(subject.observed).toBe(true);
      subscription.unsubscribe();
      expect(subject.observed).toBe(false);
    });

    it('passes an unsubscription through mergeMap to the source', () => {
      const subject = new Subject<I>();
      const subscription = new StrictSource(of(0))
        .pipe(mergeMap(() => new StrictSource(subject).pipe(makeOp())))
        .subscribe();
      expect(subject.observed).toBe(true);
      subscription.unsubscribe();
      expect(subject.observed).toBe(false);
    });

    if (emits) {
      it('stops a synchronous source as soon as take(1) is satisfied', () => {
        const { source, emitted } = loop(input);
        const values: unknown[] = [];
        source.pipe(makeOp(), take(1)).subscribe((v) => values.push(v));
        expect(values).toHaveLength(1);
        expect(emitted()).toBe(1);
      });
    }

    it('stops a synchronous source as soon as downstream unsubscribes', () => {
      const stop = new Subject<void>();
      const { source, emitted } = loop(input, () => stop.next());
      source.pipe(makeOp(), takeUntil(stop)).subscribe();
      expect(emitted()).toBe(1);
    });

    it('passes a source error on unchanged', () => {
      const failure = new Error('socket reset');
      let received: unknown;
      new StrictSource(throwError(() => failure))
        .pipe(makeOp() as OperatorFunction<unknown, unknown>)
        .subscribe({ error: (e) => (received = e) });
      expect(received).toBe(failure);
    });

    if (emits) {
      it('keeps its state per subscription', () => {
        const op = makeOp();
        const first = new Subject<I>();
        const second = new Subject<I>();
        const a: unknown[] = [];
        const b: unknown[] = [];
        first.pipe(op).subscribe((v) => a.push(v));
        second.pipe(op).subscribe((v) => b.push(v));
        first.next(input);
        expect(b).toHaveLength(0);
        second.next(input);
        expect(b).toEqual(a);
      });
    }

    if (throwing) {
      it('turns a throw in a user callback into its error notification, at once, leaving the source', () => {
        const thrown = new Error('user code failed');
        const unhandled: unknown[] = [];
        const previous = config.onUnhandledError;
        config.onUnhandledError = (error) => unhandled.push(error);
        try {
          const { operator, input } = throwing(thrown);
          const subject = new Subject<I>();
          let received: unknown;
          new StrictSource(subject).pipe(operator).subscribe({ error: (e) => (received = e) });
          subject.next(input);
          expect(received).toBe(thrown);
          expect(subject.observed).toBe(false);
          expect(unhandled).toEqual([]);
        } finally {
          config.onUnhandledError = previous;
        }
      });
    }

    if (failure) {
      it('fails with its own error class, carrying name, code and data', () => {
        const expected = failure();
        const subject = new Subject<I>();
        let received: unknown;
        new StrictSource(subject).pipe(expected.operator).subscribe({ error: (e) => (received = e) });
        for (const value of expected.inputs) subject.next(value);
        if (expected.end) subject.complete();
        expected.then?.();
        expect(received).toBeInstanceOf(expected.error);
        expect(received).toBeInstanceOf(RxnetError);
        expect(received).toMatchObject({ name: expected.error.name, code: expected.code, ...expected.data });
        expect(subject.observed).toBe(false);
      });
    }
  });
}
