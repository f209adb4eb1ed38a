// idleWatch(): Netty's IdleStateHandler for a connection's events$: read, write and all idle states on a scheduler.
import { Observable, asyncScheduler } from 'rxjs';
import type { OperatorFunction, SchedulerAction, SchedulerLike, Subscriber } from 'rxjs';
import { InvalidArgumentError } from '../errors';
import type { ConnectionEvent } from '../types';
import { OperatorSubscriber } from '../util/OperatorSubscriber';
import { checkInteger } from '../util/validate';

/**
 * Which kind of silence an {@link IdleEvent} reports (the names of the {@link IdleWatchOptions} durations).
 *
 * @example
 * ```ts
 * import { filter } from 'rxjs';
 * import { idleWatch, type Connection, type IdleState } from 'rxnet';
 *
 * declare const conn: Connection;
 * const ends: IdleState = 'allIdle';
 * conn.events$.pipe(idleWatch({ readIdle: 10_000, allIdle: 60_000 }), filter((e) => e.state === ends)).subscribe(() => conn.end());
 * ```
 */
export type IdleState = 'readIdle' | 'writeIdle' | 'allIdle';

/**
 * An idle state reached by a connection, like Netty's `IdleStateEvent`.
 *
 * @example
 * ```ts
 * import { idleWatch, type Connection, type IdleEvent } from 'rxnet';
 *
 * declare const conn: Connection;
 * // Send a heartbeat on the first write silence of 15 s, and on each repeat after it.
 * conn.events$.pipe(idleWatch({ writeIdle: 15_000 })).subscribe((e: IdleEvent) => {
 *   if (e.state === 'writeIdle') conn.write(e.first ? 'PING\n' : 'PING again\n');
 * });
 * ```
 */
export interface IdleEvent {
  /** Which silence was reached: nothing read, nothing written, or neither. */
  readonly state: IdleState;
  /**
   * True for the first event since the last activity of that kind (or since the watch began);
   * false for the repeats that follow every period while the silence lasts.
   */
  readonly first: boolean;
  /** Milliseconds since that last activity (or since the watch began). */
  readonly idleFor: number;
}

/**
 * Options of {@link idleWatch}: each duration in ms, 0 (the default) turning that state off.
 *
 * @example
 * ```ts
 * import { idleWatch, type Connection, type IdleWatchOptions } from 'rxnet';
 *
 * declare const conn: Connection;
 * const config: IdleWatchOptions = { readIdle: 30_000, writeIdle: 10_000 }; // allIdle off
 * conn.events$.pipe(idleWatch(config)).subscribe((e) => console.log(e.state, e.idleFor));
 * ```
 */
export interface IdleWatchOptions {
  /** Report `readIdle` when no chunk was read for this long. */
  readonly readIdle?: number;
  /** Report `writeIdle` when no write was flushed for this long. */
  readonly writeIdle?: number;
  /** Report `allIdle` when nothing was read nor flushed for this long. */
  readonly allIdle?: number;
  /** Scheduler of the timers; `asyncScheduler` by default (virtual time inside `TestScheduler.run`). */
  readonly scheduler?: SchedulerLike;
}

/**
 * Watches a connection's `events$` and emits an {@link IdleEvent} when nothing was read
 * (`readIdle`), nothing was written (`writeIdle`) or neither (`allIdle`) for the configured
 * time, then again every period while the silence lasts, as Netty's `IdleStateHandler` does.
 *
 * ```
 * conn.events$.pipe(idleWatch({ readIdle: 3 }))
 * events$: -d-----------d--------|      d = { type: 'data' }
 * output:  ----R--R--R-----R--R--|      R = { state: 'readIdle', first, idleFor }
 *              ^first: true  ^first: true again after the read
 * ```
 *
 * Activity is a chunk read (the `data` event) or a non-empty write flushed to the kernel
 * (rxnet's `written` event), never a value further down a pipeline, so a slow decoder or a message
 * split over many chunks does not look idle, and a write stuck behind a full buffer does not
 * count as writing. The watch reads `events$` only: it does not subscribe to `data$`, so it
 * neither starts reading nor takes bytes from the pipeline that does.
 *
 * Timers start at subscription; each state has one action that reschedules itself for the
 * time left when activity came meanwhile, so a busy connection costs a clock read per event.
 * After the peer's FIN nothing more can be read, so `readIdle` goes on firing until the
 * connection closes (as in Netty): end the connection then, or watch `allIdle` instead.
 * End of stream: completes when `events$` completes (after `close`), errors with its error;
 * unsubscribing stops every timer. Inside `TestScheduler.run()` a watch on a connection that
 * never closes fires forever: end it (`take`, an unsubscription marble, or close the connection).
 *
 * @throws InvalidArgumentError at creation when a duration is not an integer >= 0, or all are 0.
 * @example
 * ```ts
 * import { merge, tap } from 'rxjs';
 * import { idleWatch, listen, sendTo, serveEach } from 'rxnet';
 *
 * listen({ port: 8108 })
 *   .pipe(
 *     serveEach((conn) =>
 *       merge(
 *         conn.data$.pipe(sendTo(conn)),
 *         // Ping a peer we have not written to for 10 s; hang up on one silent for 30 s.
 *         conn.events$.pipe(
 *           idleWatch({ writeIdle: 10_000, readIdle: 30_000 }),
 *           tap((e) => {
 *             if (conn.writeEnded) return;
 *             if (e.state === 'writeIdle') conn.write('PING\n');
 *             else conn.end('bye\n');
 *           }),
 *         ),
 *       ),
 *     ),
 *   )
 *   .subscribe();
 * ```
 */
export function idleWatch(config: IdleWatchOptions): OperatorFunction<ConnectionEvent, IdleEvent> {
  const readIdle = checkInteger('readIdle', config.readIdle ?? 0, 0);
  const writeIdle = checkInteger('writeIdle', config.writeIdle ?? 0, 0);
  const allIdle = checkInteger('allIdle', config.allIdle ?? 0, 0);
  if (readIdle === 0 && writeIdle === 0 && allIdle === 0) {
    throw new InvalidArgumentError('config', 'give at least one of readIdle, writeIdle, allIdle above 0');
  }
  const scheduler = config.scheduler ?? asyncScheduler;

  return (events$) =>
    new Observable<IdleEvent>((subscriber) => {
      events$.subscribe(new IdleWatchSubscriber(subscriber, scheduler, readIdle, writeIdle, allIdle));
    });
}

/** The time and first-flag of one idle state. */
class IdleTimer {
  first = true;

  constructor(
    readonly state: IdleState,
    readonly ms: number,
  ) {}
}

/** Subscribes to `events$`: notes the time of reads and flushed writes; its timers emit the idle events. */
class IdleWatchSubscriber extends OperatorSubscriber<ConnectionEvent, IdleEvent> {
  private lastRead: number;
  private lastWrite: number;
  private readonly read: IdleTimer | undefined;
  private readonly write: IdleTimer | undefined;
  private readonly all: IdleTimer | undefined;

  constructor(
    downstream: Subscriber<IdleEvent>,
    private readonly scheduler: SchedulerLike,
    readIdle: number,
    writeIdle: number,
    allIdle: number,
  ) {
    super(downstream);
    this.lastRead = this.lastWrite = scheduler.now();
    this.read = readIdle > 0 ? this.start(new IdleTimer('readIdle', readIdle)) : undefined;
    this.write = writeIdle > 0 ? this.start(new IdleTimer('writeIdle', writeIdle)) : undefined;
    this.all = allIdle > 0 ? this.start(new IdleTimer('allIdle', allIdle)) : undefined;
  }

  next(event: ConnectionEvent): void {
    if (event.type === 'data') {
      this.lastRead = this.scheduler.now();
      if (this.read) this.read.first = true;
      if (this.all) this.all.first = true;
    } else if (event.type === 'written' && event.bytes > 0) {
      this.lastWrite = this.scheduler.now();
      if (this.write) this.write.first = true;
      if (this.all) this.all.first = true;
    }
  }

  private lastActivity(timer: IdleTimer): number {
    if (timer === this.read) return this.lastRead;
    if (timer === this.write) return this.lastWrite;
    return Math.max(this.lastRead, this.lastWrite);
  }

  private start(timer: IdleTimer): IdleTimer {
    const self = this;
    this.add(
      this.scheduler.schedule(function (this: SchedulerAction<unknown>) {
        const now = self.scheduler.now();
        const last = self.lastActivity(timer);
        const left = last + timer.ms - now;
        if (left > 0) {
          this.schedule(undefined, left);
          return;
        }
        this.schedule(undefined, timer.ms);
        const first = timer.first;
        timer.first = false;
        self.downstream.next({ state: timer.state, first, idleFor: now - last });
      }, timer.ms),
    );
    return timer;
  }
}

/** @deprecated The former name of {@link IdleWatchOptions}, kept so that code written for 0.1 compiles. */
export type IdleWatchConfig = IdleWatchOptions;
