// endOnIdle(): the ready-made idle policy: say goodbye and end the connection on the first idle event.
import { Observable, asyncScheduler } from 'rxjs';
import type { MonoTypeOperatorFunction, SchedulerLike, Subscriber } from 'rxjs';
import type { Chunk, Connection } from '../types';
import type { IdleEvent } from './idleWatch';
import { OperatorSubscriber } from '../util/OperatorSubscriber';
import { checkInteger } from '../util/validate';

/** The default `closeTimeout` of {@link endOnIdle}, in ms. */
const DEFAULT_END_CLOSE_TIMEOUT = 10_000;

/**
 * Options of {@link endOnIdle}.
 *
 * @example
 * ```ts
 * import { endOnIdle, idleWatch, type Connection, type EndOnIdleOptions } from 'rxnet';
 *
 * declare const conn: Connection;
 * const config: EndOnIdleOptions = { goodbye: (e) => `idle for ${e.idleFor} ms, bye\n`, closeTimeout: 5000 };
 * conn.events$.pipe(idleWatch({ allIdle: 60_000 }), endOnIdle(conn, config)).subscribe();
 * ```
 */
export interface EndOnIdleOptions {
  /**
   * Written just before our FIN, as in `socket.end('idle time, disconnecting..')`; a function
   * gets the idle event and may return undefined for no message. Default: no message.
   */
  readonly goodbye?: Chunk | ((event: IdleEvent) => Chunk | undefined);
  /**
   * Destroy the connection if it has not closed this many ms after the goodbye (a peer that
   * never answers our FIN). Default 10 000; 0 waits for the peer as `socket.end()` does.
   */
  readonly closeTimeout?: number;
  /** Scheduler of the `closeTimeout` timer; `asyncScheduler` by default. */
  readonly scheduler?: SchedulerLike;
}

/**
 * Ends `connection` on the first idle event it receives: writes the goodbye, sends FIN, emits
 * that event and completes; the reactive form of the tutorials'
 * `socket.setTimeout(6000, () => socket.end('idle time, disconnecting..'))`.
 *
 * ```
 * conn.events$.pipe(idleWatch({ allIdle: 5 }), endOnIdle(conn, { goodbye: 'bye' }))
 * events$:  -d-------------                 d = a chunk read
 * idle:     ------A                         A = { state: 'allIdle', first: true, idleFor: 5 }
 * output:   ------A--|                      'bye' then FIN written at A; completes once flushed
 * ```
 *
 * The events before it decide what counts: pipe `idleWatch` (and `filter` by `state` if only
 * some states should end the connection) in front. The source is unsubscribed at the first
 * event. If the connection was already ended, nothing is written and it completes at once.
 *
 * End of stream: with a `closeTimeout` (10 s by default) the output completes when the
 * connection closes, destroying it first if the peer has not closed within that time; with
 * `closeTimeout: 0` it completes once the goodbye and FIN were flushed (or could not be, the
 * connection having failed: that failure belongs to its own streams, not to this policy). A
 * source that completes or errors before any idle event ends the output the same way. A
 * `sendTo` sink still writing to the connection stops quietly at its next value (counted as
 * `unsent`); a direct `conn.write()` after the goodbye throws `WriteAfterEndError`.
 *
 * @throws InvalidArgumentError at creation for a `closeTimeout` that is not an integer >= 0.
 * @example
 * ```ts
 * import { filter, merge } from 'rxjs';
 * import { endOnIdle, idleWatch, listen, sendTo, serveEach } from 'rxnet';
 *
 * // An echo server that hangs up on connections idle for 6 s, as the tutorials' server does.
 * listen({ port: 8108 })
 *   .pipe(
 *     serveEach((conn) =>
 *       merge(
 *         conn.data$.pipe(filter(() => !conn.writeEnded), sendTo(conn, { pauseSource: conn })),
 *         conn.events$.pipe(idleWatch({ allIdle: 6000 }), endOnIdle(conn, { goodbye: 'idle timeout..' })),
 *       ),
 *     ),
 *   )
 *   .subscribe();
 * ```
 */
export function endOnIdle(connection: Connection, config: EndOnIdleOptions = {}): MonoTypeOperatorFunction<IdleEvent> {
  const closeTimeout = checkInteger('closeTimeout', config.closeTimeout ?? DEFAULT_END_CLOSE_TIMEOUT, 0);
  const scheduler = config.scheduler ?? asyncScheduler;
  const goodbye = config.goodbye;

  return (source) =>
    new Observable<IdleEvent>((subscriber) => {
      source.subscribe(new EndOnIdleSubscriber(subscriber, connection, goodbye, closeTimeout, scheduler));
    });
}

/**
 * The source's subscriber. At the first event it leaves the source and ends the connection; from
 * then on only downstream is told (its own `closed` is then true).
 */
class EndOnIdleSubscriber extends OperatorSubscriber<IdleEvent> {
  constructor(
    downstream: Subscriber<IdleEvent>,
    private readonly connection: Connection,
    private readonly goodbye: EndOnIdleOptions['goodbye'],
    private readonly closeTimeout: number,
    private readonly scheduler: SchedulerLike,
  ) {
    super(downstream);
  }

  next(event: IdleEvent): void {
    if (this.closed) return;
    this.unsubscribe();
    const { downstream, connection } = this;
    const alreadyEnded = connection.writeEnded;
    let emitted = false;
    let flushed = alreadyEnded;
    if (!alreadyEnded) {
      try {
        const goodbye = typeof this.goodbye === 'function' ? this.goodbye(event) : this.goodbye;
        connection.end(goodbye, () => {
          flushed = true;
          if (emitted && this.closeTimeout === 0) downstream.complete();
        });
      } catch (error) {
        downstream.error(error);
        return;
      }
    }
    emitted = true;
    downstream.next(event);
    if (downstream.closed) return;
    if (this.closeTimeout === 0) {
      if (flushed) downstream.complete();
      return;
    }
    downstream.add(this.scheduler.schedule(() => connection.destroy(), this.closeTimeout));
    // events$ completes after close, and at once when already closed.
    downstream.add(
      connection.events$.subscribe({ error: () => downstream.complete(), complete: () => downstream.complete() }),
    );
  }
}

/** @deprecated The former name of {@link EndOnIdleOptions}, kept so that code written for 0.1 compiles. */
export type EndOnIdleConfig = EndOnIdleOptions;
