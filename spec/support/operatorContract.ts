// The checklist every rxnet operator passes (after RxJS's own operator specs): unsubscription, sync sources, errors.
import { Observable, Subject, mergeMap, of, take, throwError, type OperatorFunction } from 'rxjs';

/**
 * Registers the contract tests for an operator: `makeOp()` builds it, `input` is one value that
 * makes it emit at least one value.
 */
export function behavesAsOperator<I>(makeOp: () => OperatorFunction<I, unknown>, input: I): void {
  describe('operator contract', () => {
    it('unsubscribes from the source when the subscriber unsubscribes early', () => {
      const source = new Subject<I>();
      const subscription = source.pipe(makeOp()).subscribe();
      expect(source.observed).toBe(true);
      subscription.unsubscribe();
      expect(source.observed).toBe(false);
    });

    it('passes an unsubscription through mergeMap to the source', () => {
      const source = new Subject<I>();
      const subscription = of(0)
        .pipe(mergeMap(() => source.pipe(makeOp())))
        .subscribe();
      expect(source.observed).toBe(true);
      subscription.unsubscribe();
      expect(source.observed).toBe(false);
    });

    it('stops a synchronous source as soon as take(1) is satisfied', () => {
      let emitted = 0;
      const source = new Observable<I>((subscriber) => {
        for (let i = 0; i < 50 && !subscriber.closed; i++) {
          emitted++;
          subscriber.next(input);
        }
        subscriber.complete();
      });
      const values: unknown[] = [];
      source.pipe(makeOp(), take(1)).subscribe((v) => values.push(v));
      expect(values).toHaveLength(1);
      expect(emitted).toBe(1);
    });

    it('passes a source error on unchanged', () => {
      const failure = new Error('socket reset');
      let received: unknown;
      throwError(() => failure)
        .pipe(makeOp() as OperatorFunction<unknown, unknown>)
        .subscribe({ error: (e) => (received = e) });
      expect(received).toBe(failure);
    });

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
  });
}
