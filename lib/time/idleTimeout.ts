// idleTimeout(): errors (or completes) when a stream stays silent for too long, timed on a scheduler.
import { Observable, asyncScheduler } from 'rxjs';
import type { MonoTypeOperatorFunction, SchedulerAction, SchedulerLike, Subscriber } from 'rxjs';
import { IdleTimeoutError, InvalidArgumentError } from '../errors';
import { OperatorSubscriber } from '../util/OperatorSubscriber';
import { checkInteger } from '../util/validate';

/**
 * Options of {@link idleTimeout}.
 *
 * @example
 * ```ts
 * import { idleTimeout, type Connection, type IdleTimeoutOptions } from 'rxnet';
 *
 * declare const conn: Connection;
 * const config: IdleTimeoutOptions = { onIdle: 'complete' }; // a quiet peer just ends the stream
 * conn.data$.pipe(idleTimeout(60_000, config)).subscribe({ complete: () => conn.end() });
 * ```
 */
export interface IdleTimeoutOptions {
  /**
   * What the output does after `ms` of silence: `'error'` (default) errors with
   * `IdleTimeoutError`, `'complete'` completes as if the stream had ended.
   */
  readonly onIdle?: 'error' | 'complete';
  /** Scheduler of the timer; `asyncScheduler` by default (virtual time inside `TestScheduler.run`). */
  readonly scheduler?: SchedulerLike;
}

/**
 * Mirrors the source, but errors with `IdleTimeoutError` (or completes, with
 * `onIdle: 'complete'`) when no value arrives for `ms` milliseconds; the clock starts at
 * subscription and restarts at every value.
 *
 * ```
 * idleTimeout(4)
 * source:  -a--b-------c-|
 * output:  -a--b----#          # = IdleTimeoutError { ms: 4 }, 4 frames after b
 *
 * idleTimeout(4, { onIdle: 'complete' })
 * source:  -a--b-------c-|
 * output:  -a--b----|
 * ```
 *
 * It measures the values of the stream it is applied to: on `connection.data$` that is chunks
 * read, after `decodeLines()` it is whole lines (a peer trickling a line byte by byte is then idle).
 * For the Netty-style read/write/all idle states of a connection, which also count flushed
 * writes, use {@link idleWatch} on `events$`.
 *
 * Limits: one timer per subscription, rescheduled only when it fires (a value costs a clock
 * read, no timer churn). End of stream: the source's completion or error is passed on at once
 * and stops the timer; so does unsubscribing. On idle the source is unsubscribed.
 *
 * @param ms Longest silence allowed, an integer >= 1.
 * @param config Options, or the scheduler alone.
 * @throws InvalidArgumentError at creation for a bad `ms` or `onIdle`.
 * @example
 * ```ts
 * import { idleTimeout, decodeLines, listen, sendTo, serveEach } from 'rxnet';
 *
 * // Echo lines; end (FIN) the connection of a client that sends no whole line for 30 s.
 * listen({ port: 8108 })
 *   .pipe(
 *     serveEach((conn) =>
 *       conn.data$.pipe(decodeLines(), idleTimeout(30_000, { onIdle: 'complete' }), sendTo(conn)),
 *     ),
 *   )
 *   .subscribe();
 * ```
 */
export function idleTimeout<T>(
  ms: number,
  config: IdleTimeoutOptions | SchedulerLike = {},
): MonoTypeOperatorFunction<T> {
  checkInteger('ms', ms, 1);
  const options: IdleTimeoutOptions = isScheduler(config) ? { scheduler: config } : config;
  const onIdle = options.onIdle ?? 'error';
  if (onIdle !== 'error' && onIdle !== 'complete') {
    throw new InvalidArgumentError('onIdle', `expected 'error' or 'complete', got ${String(onIdle)}`);
  }
  const scheduler = options.scheduler ?? asyncScheduler;

  return (source) =>
    new Observable<T>((subscriber) => {
      source.subscribe(new IdleTimeoutSubscriber(subscriber, ms, onIdle, scheduler));
    });
}

/** The source's subscriber: passes values on and keeps the time of the last one. */
class IdleTimeoutSubscriber<T> extends OperatorSubscriber<T> {
  private last: number;

  constructor(
    downstream: Subscriber<T>,
    private readonly ms: number,
    private readonly onIdle: 'error' | 'complete',
    private readonly scheduler: SchedulerLike,
  ) {
    super(downstream);
    this.last = scheduler.now();
    const self = this;
    // One action for the whole subscription: when it fires early (a value came meanwhile) it
    // reschedules itself for the time left, as Netty's IdleStateHandler does.
    this.add(
      scheduler.schedule(function (this: SchedulerAction<unknown>) {
        const left = self.last + self.ms - self.scheduler.now();
        if (left > 0) this.schedule(undefined, left);
        else self.idle();
      }, ms),
    );
  }

  next(value: T): void {
    if (this.closed) return;
    this.last = this.scheduler.now();
    this.downstream.next(value);
  }

  /** Silence for `ms`: ends like the source's own end (the source and the timer unsubscribed first). */
  private idle(): void {
    if (this.onIdle === 'complete') this.complete();
    else this.error(new IdleTimeoutError(this.ms));
  }
}

function isScheduler(value: unknown): value is SchedulerLike {
  return typeof value === 'object' && value !== null && typeof (value as SchedulerLike).schedule === 'function';
}

/** @deprecated The former name of {@link IdleTimeoutOptions}, kept so that code written for 0.1 compiles. */
export type IdleTimeoutConfig = IdleTimeoutOptions;
