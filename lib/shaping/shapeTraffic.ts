// shapeTraffic(): a view of a connection that reads and writes no faster than its byte-rate limits.
import { Buffer } from 'buffer';
import { Observable } from 'rxjs';
import type { SchedulerAction, SchedulerLike, Subscriber, Subscription } from 'rxjs';
import { ConnectionClosedError, WriteAfterEndError } from '../errors';
import type { Chunk, Connection } from '../types';
import { ConnectionView } from '../core/ConnectionView';
import { EventHub } from '../util/EventHub';
import { toBuffer } from '../util/toBuffer';
import { ShapedReading, shapingFor } from './TrafficShaper';
import type { Budget, Throttle, TrafficLimits, TrafficShaper } from './TrafficShaper';
import { sizeOf } from '../core/SendQueue';

/**
 * Options of {@link shapeTraffic}: the connection's own limits, a shared budget, the clock, and
 * whom to tell when traffic is held back.
 *
 * @example
 * ```ts
 * import { TrafficShaper, shapeTraffic, type Connection, type ShapeTrafficOptions } from 'rxnet';
 *
 * declare const conn: Connection;
 * const shared = new TrafficShaper({ writeLimit: 5_000_000 });
 * const options: ShapeTrafficOptions = { writeLimit: 500_000, shared, onThrottle: (t) => console.debug(t) };
 * const shaped = shapeTraffic(conn, options);
 * ```
 */
export interface ShapeTrafficOptions extends TrafficLimits {
  /** A budget shared with other connections (a server's), spent from as well as the connection's own. */
  readonly shared?: TrafficShaper;
  /** The clock of the budget and of the waits: the shared budget's, else `asyncScheduler`; must be the shared one's when both are given. */
  readonly scheduler?: SchedulerLike;
  /**
   * Told each time reading is paused or a write is held for the budget. A throw destroys the
   * connection with that error.
   */
  readonly onThrottle?: (throttle: Throttle) => void;
}

/** A queued write: the caller's bytes (never copied), how far they were written, its callback. */
interface Queued {
  readonly bytes: Buffer;
  offset: number;
  readonly callback: ((error?: Error | null) => void) | undefined;
}

/**
 * A {@link Connection} whose reading and writing keep to byte-rate limits; everything else (id,
 * addresses, `events$`, `closed`, `socket`, options) is the wrapped connection's.
 *
 * ```
 * readLimit 1 MB/s:   inner.data$: -[64K]-[64K]------------[64K]------   reading held while in debt
 *                     data$:       -[64K]-[64K]------------[64K]------   (the same chunks: none kept)
 * writeLimit 1 MB/s:  write(300 kB) → false   inner.write: [100k]----[100k]----[100k]   (100 ms apart)
 *                     writable$:    T-F----------------------------T (drain once all is handed on)
 * ```
 *
 * Reads are paused, never buffered: each chunk spends its bytes, and a budget in debt holds the
 * connection's reading (`holdReading()`) until the debt is paid. Writes with budget to spare go
 * straight through; the rest wait in a queue of the caller's own Buffers (a write over the burst
 * is cut into burst-sized views), `write()` returns false and `writable$` is false until the queue
 * is empty, so `sendTo` and any writer that heeds `write()` are paced in bounded memory. A
 * callback runs once its last piece was written and that write's callback ran. `end()` ends the
 * connection after the queue; `destroy()` drops the queue, whose callbacks get a
 * `ConnectionClosedError`, as they do when the connection closes first. `bytesWritten` counts the
 * queue too. Several `data$` subscribers behave as the connection's do, and each chunk is spent once.
 *
 * @example
 * ```ts
 * import { listen, serveEach, shapeTraffic } from 'rxnet';
 *
 * // A download server: each client gets its file at 1 MB/s at most.
 * declare const file: Buffer;
 * listen({ port: 8107 })
 *   .pipe(serveEach((conn) => {
 *     const shaped = shapeTraffic(conn, { writeLimit: 1_000_000 });
 *     shaped.end(file); // cut into 100 kB pieces, one every 100 ms
 *     return shaped.events$;
 *   }))
 *   .subscribe();
 * ```
 */
export class ShapedConnection extends ConnectionView {
  readonly data$: Observable<Buffer>;
  private readonly writability: Observable<boolean>;
  private readonly scheduler: SchedulerLike;
  private readonly reading: ShapedReading | undefined;
  private readonly writeBudget: Budget | undefined;
  private readonly onThrottle: ((throttle: Throttle) => void) | undefined;

  // Writing: the queue, bytes in it, the piece reserved (-1: none), the wait, end() in waiting.
  private readonly queue: Queued[] = [];
  private queued = 0;
  private reserved = -1;
  private writeTimer: Subscription | undefined = undefined;
  private pumping = false;
  private ended = false;
  private ending = false;
  private endCallbacks: ((error?: Error | null) => void)[] | undefined = undefined;
  private watching: Subscription | undefined = undefined;
  private readonly queueChanges = new EventHub<void>();

  /**
   * Shapes `inner`; {@link shapeTraffic} does the same.
   * @throws InvalidArgumentError for a missing connection or a bad option.
   */
  constructor(inner: Connection, options: ShapeTrafficOptions) {
    super(inner);
    const { scheduler, read, write, onThrottle } = shapingFor(inner, options);
    this.scheduler = scheduler;
    this.writeBudget = write;
    this.onThrottle = onThrottle;
    // With no budget a direction is the connection's own, untouched.
    const report = (direction: 'read' | 'write', bytes: number, delay: number) => this.report(direction, bytes, delay);
    this.reading = read === undefined ? undefined : new ShapedReading(inner, read, scheduler, report);
    this.data$ = this.reading === undefined ? inner.data$ : this.reading.data$;
    this.writability = this.writeBudget === undefined ? inner.writable$ : new Observable((s) => this.watchWritable(s));
  }

  /** Whether writes go out now: false while the queue holds anything (the budget is spent) or the connection is not writable. */
  override get writable$(): Observable<boolean> {
    return this.writability;
  }

  /** Destroys the connection at once; what waited in the write queue is dropped (see the class). */
  override destroy(error?: Error): void {
    this.ended = true;
    this.dropQueue();
    this.reading?.stop();
    this.inner.destroy(error);
  }

  /** Bytes written to this view and not yet handed to the connection. */
  get queuedBytes(): number {
    return this.queued;
  }

  // Writing: paced through the queue when there is a write budget.
  override get writable(): boolean {
    if (this.writeBudget === undefined) return this.inner.writable;
    return !this.ended && this.queue.length === 0 && this.inner.writable;
  }
  override get writeEnded(): boolean {
    return this.ended || this.inner.writeEnded;
  }
  override get bytesWritten(): number {
    return this.inner.bytesWritten + this.queued;
  }

  override write(chunk: Chunk, callback?: (error?: Error | null) => void): boolean {
    const budget = this.writeBudget;
    if (budget === undefined) return this.inner.write(chunk, callback);
    if (this.ended) throw new WriteAfterEndError(this.id);
    if (this.queue.length === 0 && budget.take(this.scheduler.now(), sizeOf(chunk))) {
      return this.inner.write(chunk, callback);
    }
    if (this.inner.writeEnded) throw new WriteAfterEndError(this.id);
    this.enqueue(chunk, callback);
    return false;
  }

  override end(chunk?: Chunk, callback?: (error?: Error | null) => void): void {
    const budget = this.writeBudget;
    if (budget === undefined) return this.inner.end(chunk, callback);
    if (this.ended) {
      if (!this.ending) this.inner.end(undefined, callback);
      else if (callback !== undefined) (this.endCallbacks ??= []).push(callback);
      return;
    }
    this.ended = true;
    const empty = this.queue.length === 0;
    if (this.inner.writeEnded || (empty && (chunk === undefined || budget.take(this.scheduler.now(), sizeOf(chunk))))) {
      this.inner.end(chunk, callback);
      return;
    }
    this.ending = true;
    if (callback !== undefined) this.endCallbacks = [callback];
    if (chunk !== undefined) this.enqueue(chunk, undefined);
  }

  private enqueue(chunk: Chunk, callback: ((error?: Error | null) => void) | undefined): void {
    const bytes = toBuffer(chunk);
    this.queue.push({ bytes, offset: 0, callback });
    this.queued += bytes.length;
    if (this.queue.length === 1) this.queueChanges.next();
    this.watchInner();
    this.pump();
  }

  /** @internal The wait for the reserved piece is over. */
  writeDue(): void {
    this.writeTimer = undefined;
    this.pump();
  }

  /**
   * Writes the queue as the budget allows: each piece is reserved (spent) first, then written once
   * the debt is paid, so connections sharing a budget are served in the order they reserved.
   */
  private pump(): void {
    if (this.pumping || this.writeTimer !== undefined) return;
    this.pumping = true;
    const queue = this.queue;
    try {
      while (queue.length > 0) {
        if (this.inner.writeEnded) {
          // Ended or destroyed under the view: nothing more can be written.
          this.dropQueue();
          return;
        }
        if (this.reserved < 0) {
          // A piece is reserved only while the connection takes writes: its drain pumps again.
          if (!this.inner.writable) return;
          const head = queue[0];
          const piece = Math.min(head.bytes.length - head.offset, this.writeBudget!.piece);
          const now = this.scheduler.now();
          const wait = this.writeBudget!.spend(now, piece);
          this.reserved = piece;
          if (wait > 0) {
            this.writeTimer = this.scheduler.schedule(releaseWrite, wait, this);
            this.report('write', this.queued, wait);
            return;
          }
        }
        this.writeReserved(queue[0]);
      }
    } catch (error) {
      this.destroy(error instanceof Error ? error : new Error(String(error)));
      return;
    } finally {
      this.pumping = false;
    }
    this.flushed();
  }

  /** Hands the reserved piece of `head` to the connection, with the callback when it is the last. */
  private writeReserved(head: Queued): void {
    const start = head.offset;
    const end = start + this.reserved;
    this.reserved = -1;
    this.queued -= end - start;
    if (end >= head.bytes.length) {
      this.queue.shift();
      this.inner.write(start === 0 ? head.bytes : head.bytes.subarray(start), head.callback);
    } else {
      head.offset = end;
      this.inner.write(head.bytes.subarray(start, end));
    }
  }

  /** The queue is empty: end if asked to, and tell writability's watchers. */
  private flushed(): void {
    if (this.ending) {
      this.ending = false;
      const callbacks = this.endCallbacks;
      this.endCallbacks = undefined;
      this.inner.end(undefined, callbacks === undefined ? undefined : (error) => callAll(callbacks, error));
    }
    this.queueChanges.next();
  }

  /** Watches the connection's writability from the first queued write: drain pumps, close drops the queue. */
  private watchInner(): void {
    if (this.watching !== undefined) return;
    let replay = true;
    this.watching = this.inner.writable$.subscribe({
      next: (writable) => {
        if (writable && !replay) this.pump();
      },
      error: () => this.dropQueue(),
      complete: () => this.dropQueue(),
    });
    replay = false;
  }

  /** Drops what waits; its callbacks (and end()'s) get a ConnectionClosedError, later, as Node calls them. */
  private dropQueue(): void {
    this.ended = true;
    this.writeTimer?.unsubscribe();
    this.writeTimer = undefined;
    this.watching?.unsubscribe();
    const callbacks: ((error?: Error | null) => void)[] = [];
    for (const queued of this.queue) if (queued.callback !== undefined) callbacks.push(queued.callback);
    if (this.endCallbacks !== undefined) callbacks.push(...this.endCallbacks);
    const error = new ConnectionClosedError(this.id, this.queued);
    // Emptied in place: a pump further up the stack sees it.
    this.queue.length = 0;
    this.queued = 0;
    this.reserved = -1;
    this.ending = false;
    this.endCallbacks = undefined;
    if (callbacks.length > 0) this.scheduler.schedule(() => callAll(callbacks, error));
  }

  /** The view's writability: the connection's, and false while anything waits in the queue. */
  private watchWritable(subscriber: Subscriber<boolean>): Subscription {
    let innerWritable = false;
    let shown: boolean | undefined;
    const show = () => {
      const writable = innerWritable && this.queue.length === 0;
      if (writable !== shown) subscriber.next((shown = writable));
    };
    const changes = this.queueChanges.observable.subscribe(show);
    const watching = this.inner.writable$.subscribe({
      next: (writable) => {
        innerWritable = writable;
        show();
      },
      error: (error) => subscriber.error(error),
      complete: () => subscriber.complete(),
    });
    watching.add(changes);
    return watching;
  }

  /** Tells onThrottle; its throw destroys the connection (there is no stream to give it to). */
  private report(direction: 'read' | 'write', bytes: number, delay: number): void {
    const onThrottle = this.onThrottle;
    if (onThrottle === undefined) return;
    try {
      onThrottle({ direction, bytes, delay });
    } catch (error) {
      this.destroy(error instanceof Error ? error : new Error(String(error)));
    }
  }
}

/**
 * Shapes a connection's traffic: the view it returns reads at most `readLimit` and writes at most
 * `writeLimit` bytes a second on average (with `burst` on top after a quiet spell), spending also
 * from a `shared` budget when given. See {@link ShapedConnection} for what the view does.
 *
 * ```
 * upload at 3 MB/s, readLimit 1 MB/s:  data$: -[64K][64K]--hold 64ms--[64K]--hold 64ms--…  1 MB/s
 * reply of 10 MB, writeLimit 1 MB/s:   peer reads 100 kB every 100 ms, all of it in ~10 s
 * ```
 *
 * Nothing is scheduled while the budget suffices: a chunk or a write costs a subtraction. Waits
 * run on the scheduler, so they are virtual inside `TestScheduler.run()`, and end with the last
 * `data$` subscriber, the queue, or the connection. At end of stream, reading ends as the
 * connection's; `end()` flushes the queue at the pace of the budget before the FIN.
 *
 * @throws InvalidArgumentError for a missing connection, a limit that is not a finite number > 0,
 * a `burst` that is not an integer ≥ 1, or a scheduler other than the shared budget's.
 * @example
 * ```ts
 * import { count, tap } from 'rxjs';
 * import { listen, serveEach, shapeTraffic } from 'rxnet';
 *
 * // An upload sink that takes at most 1 MB/s from each client: TCP holds the client back.
 * listen({ port: 8107 })
 *   .pipe(serveEach((conn) => shapeTraffic(conn, { readLimit: 1_000_000 }).data$.pipe(
 *     count(),
 *     tap(() => conn.end('stored\n')),
 *   )))
 *   .subscribe();
 * ```
 */
export function shapeTraffic(connection: Connection, options: ShapeTrafficOptions): ShapedConnection {
  return new ShapedConnection(connection, options);
}

function releaseWrite(this: SchedulerAction<ShapedConnection>, shaped?: ShapedConnection): void {
  shaped!.writeDue();
}

function callAll(callbacks: ((error?: Error | null) => void)[], error: Error | null | undefined): void {
  for (const callback of callbacks) callback(error);
}
