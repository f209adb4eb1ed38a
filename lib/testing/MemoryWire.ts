// MemoryWire: one direction of an in-memory connection: the writer's buffer, latency, the reader's buffer, chunking.
import { Buffer } from 'buffer';
import type { SchedulerLike, Subscription } from 'rxjs';
import { InvalidArgumentError } from '../errors';
import { checkChunking, cutChunks } from './chunking';
import type { Chunking } from './chunking';
import { brokenPipeError, streamDestroyedError } from './netErrors';
import { checkInteger } from '../util/validate';

/**
 * Options of one direction of an in-memory connection; they stay changeable on the {@link MemoryWire}.
 *
 * @example
 * ```ts
 * import { connectionPair, type MemoryWireOptions } from 'rxnet/testing';
 *
 * // A slow, congested link: 5 virtual ms, writes return false past 1 KiB, a 4 KiB receive buffer.
 * const slow: MemoryWireOptions = { latency: 5, highWaterMark: 1024, receiveBuffer: 4096 };
 * const [client, server] = connectionPair(slow);
 * ```
 */
export interface MemoryWireOptions {
  /** Virtual ms between a `write()` and the bytes' arrival at the peer (default 0: the same frame). */
  readonly latency?: number;
  /** How arrived bytes are cut into chunks (default `'writes'`). */
  readonly chunking?: Chunking;
  /** Bytes buffered on the writer's side at which `write()` returns false (default 16384, Node's). */
  readonly highWaterMark?: number;
  /**
   * Bytes the reader's side takes in while its `data$` is not read (its kernel buffer; default
   * 65536). When full, bytes stay on the writer's side and its `write()` soon returns false.
   * A chunk always fits into an empty buffer.
   */
  readonly receiveBuffer?: number;
}

/** What a wire tells its writing end. @internal */
export interface WireWriter {
  /** A write of `bytes` reached the peer's side (Node: handed to the kernel). */
  flushed(bytes: number): void;
  /** Everything buffered after a `write()` that returned false has left. */
  drained(): void;
  /** Our FIN reached the peer's side. */
  finished(): void;
  /** Bytes reached a peer that is gone (EPIPE). */
  broken(error: Error): void;
}

/** What a wire tells its reading end. @internal */
export interface WireReader {
  /** Whether the reader takes chunks now (its data$ is read and nothing holds it). */
  readonly reading: boolean;
  chunk(chunk: Buffer): void;
  fin(): void;
}

interface Outgoing {
  /** null: the FIN. */
  readonly chunk: Buffer | null;
  readonly at: number;
  readonly callback: ((error?: Error | null) => void) | undefined;
}

interface Arrived {
  /** null: the FIN. */
  readonly chunk: Buffer | null;
  /** Already cut by the chunking policy. */
  readonly cut: boolean;
}

/**
 * One direction of an in-memory connection, from the side that writes to the side that reads.
 *
 * ```
 * write() ──► writer's buffer ──(latency, unless stalled)──► reader's buffer ──(while read)──► data$
 *             highWaterMark: write() false                   receiveBuffer: full holds bytes back
 *             'written' + callback when a write moves on;  'drain' when the writer's buffer is empty again
 * ```
 *
 * Everything happens in actions on the connection pair's scheduler, never inside `write()`
 * itself, so a reply cannot re-enter the writer's code; under `TestScheduler.run()` a latency of
 * 0 means "later in the same frame". A test changes `latency`, `chunking`, `highWaterMark` and
 * `receiveBuffer` at any time (they apply to what moves next), and stalls the wire to make the
 * writer wait: {@link stall} and {@link resume}.
 *
 * @example
 * ```ts
 * import { connectionPair, type MemoryWire } from 'rxnet/testing';
 *
 * const [client, server] = connectionPair();
 * const toServer: MemoryWire = client.outbound;
 * toServer.stall(); // client.write() now returns false; the server reads nothing
 * client.write('held');
 * toServer.chunking = 1; // once resumed, the server reads it byte by byte
 * toServer.resume();
 * server.data$.subscribe((chunk) => console.log(chunk.toString())); // h, e, l, d
 * ```
 */
export class MemoryWire {
  private latencyMs: number;
  private chunkingPolicy: Chunking;
  private hwm: number;
  private receiveCapacity: number;

  private outgoing: Outgoing[] = [];
  private outgoingBytes = 0;
  private arrived: Arrived[] = [];
  private arrivedBytes = 0;
  private lastAt = -Infinity;
  private needDrain = false;
  private isStalled = false;
  private corks = 0;
  private finQueued = false;
  private writerGone = false;
  private readerGone = false;

  private writer: WireWriter | undefined;
  private reader: WireReader | undefined;
  private action: Subscription | undefined;
  private actionDue = Infinity;
  private pumping = false;
  private again = false;

  /** Wires come with their connections (`connectionPair()`, then `conn.outbound`); not meant to be made directly. */
  constructor(
    private readonly scheduler: SchedulerLike,
    options: MemoryWireOptions = {},
  ) {
    this.latencyMs = checkLatency(options.latency ?? 0);
    this.chunkingPolicy = checkChunking(options.chunking ?? 'writes');
    this.hwm = checkInteger('highWaterMark', options.highWaterMark ?? 16384, 0);
    this.receiveCapacity = checkInteger('receiveBuffer', options.receiveBuffer ?? 65536, 0);
  }

  /** @internal Joins the two ends. */
  attach(writer: WireWriter, reader: WireReader): void {
    this.writer = writer;
    this.reader = reader;
  }

  /** Virtual ms between a `write()` and the arrival of its bytes on the reader's side (default 0). */
  get latency(): number {
    return this.latencyMs;
  }
  /**
   * Applies to later writes; a write never overtakes an earlier one.
   * @throws InvalidArgumentError unless `ms` is a finite number ≥ 0.
   */
  set latency(ms: number) {
    this.latencyMs = checkLatency(ms);
  }
  /** How arrived bytes are cut into the reader's chunks (default `'writes'`). */
  get chunking(): Chunking {
    return this.chunkingPolicy;
  }
  /**
   * Applies to the bytes not yet emitted, those already arrived included.
   * @throws InvalidArgumentError for a number that is not an integer ≥ 1.
   */
  set chunking(policy: Chunking) {
    this.chunkingPolicy = checkChunking(policy);
    this.request(0);
  }
  /** Bytes held on the writer's side at which `write()` starts returning false (default 16384). */
  get highWaterMark(): number {
    return this.hwm;
  }
  /**
   * Applies from the next `write()`; 0 makes every write return false.
   * @throws InvalidArgumentError unless `bytes` is an integer ≥ 0.
   */
  set highWaterMark(bytes: number) {
    this.hwm = checkInteger('highWaterMark', bytes, 0);
  }
  /** Bytes the reader's side takes in while its `data$` is not read (default 65536); a chunk always fits into an empty buffer. */
  get receiveBuffer(): number {
    return this.receiveCapacity;
  }
  /**
   * Applies at once: held bytes move on (in a scheduled action) if the new size makes room.
   * @throws InvalidArgumentError unless `bytes` is an integer ≥ 0.
   */
  set receiveBuffer(bytes: number) {
    this.receiveCapacity = checkInteger('receiveBuffer', bytes, 0);
    this.request(0);
  }

  /** Bytes written and not yet moved to the reader's side (Node's `writableLength`). */
  get buffered(): number {
    return this.outgoingBytes;
  }
  /** Bytes on the reader's side that its `data$` has not emitted yet. */
  get unread(): number {
    return this.arrivedBytes;
  }
  /** True between {@link stall} and {@link resume}. */
  get stalled(): boolean {
    return this.isStalled;
  }

  /**
   * From now on nothing moves to the reader, and every `write()` returns false (the network is
   * congested): a well-behaved writer waits for `'drain'`, which comes after {@link resume} once
   * what was written meanwhile has moved on.
   */
  stall(): void {
    this.isStalled = true;
  }

  /** Undoes {@link stall}: held bytes move on (in a scheduled action), then `'drain'` follows. */
  resume(): void {
    if (!this.isStalled) return;
    this.isStalled = false;
    this.request(0);
  }

  /** @internal Queues a chunk; returns what `write()` returns. */
  write(chunk: Buffer, callback: ((error?: Error | null) => void) | undefined): boolean {
    const now = this.scheduler.now();
    const at = Math.max(now + this.latencyMs, this.lastAt);
    this.lastAt = at;
    this.outgoing.push({ chunk, at, callback });
    this.outgoingBytes += chunk.length;
    const ok = !this.isStalled && this.outgoingBytes < this.hwm;
    if (!ok) this.needDrain = true;
    this.request(at - now);
    return ok;
  }

  /** @internal Queues our FIN after everything written. */
  end(): void {
    if (this.finQueued) return;
    this.finQueued = true;
    const now = this.scheduler.now();
    const at = Math.max(now + this.latencyMs, this.lastAt);
    this.lastAt = at;
    this.outgoing.push({ chunk: null, at, callback: undefined });
    this.request(at - now);
  }

  /** @internal */
  cork(): void {
    this.corks++;
  }

  /** @internal */
  uncork(): void {
    if (this.corks === 0) return;
    this.corks--;
    if (this.corks === 0) this.request(0);
  }

  /** @internal The reader started or stopped reading. */
  readerChanged(): void {
    if (this.reader?.reading && this.arrived.length > 0) this.request(0);
    else if (this.reader?.reading && this.outgoing.length > 0) this.request(0);
  }

  /**
   * @internal The writer is destroyed: what it had not flushed is dropped (callbacks get
   * ERR_STREAM_DESTROYED); with `fin` the reader still reads what had arrived, then its end.
   */
  abortWriter(fin: boolean): void {
    if (this.writerGone) return;
    this.writerGone = true;
    const dropped = this.outgoing;
    this.outgoing = [];
    this.outgoingBytes = 0;
    this.needDrain = false;
    const callbacks = dropped.filter((o) => o.callback !== undefined);
    if (callbacks.length > 0) {
      // Node calls them on the next tick.
      this.scheduler.schedule(() => {
        for (const o of callbacks) o.callback!(streamDestroyedError());
      });
    }
    const finArrived = this.finQueued && !dropped.some((o) => o.chunk === null);
    if (fin && !finArrived && !this.readerGone) {
      this.arrived.push({ chunk: null, cut: true });
      this.request(0);
    }
    this.finQueued = true;
    this.settle();
  }

  /** @internal The reader is gone: what it had not read is dropped; bytes still coming break the writer (EPIPE). */
  abortReader(): void {
    if (this.readerGone) return;
    this.readerGone = true;
    this.arrived = [];
    this.arrivedBytes = 0;
    if (this.outgoing.length > 0) this.request(0);
    this.settle();
  }

  /** Asks for a pump in `delay` ms (at once when already pumping). */
  private request(delay: number): void {
    if (this.writerGone && this.readerGone) return;
    if (this.pumping && delay <= 0) {
      this.again = true;
      return;
    }
    const due = this.scheduler.now() + Math.max(0, delay);
    if (this.action !== undefined && this.actionDue <= due) return;
    this.action?.unsubscribe();
    this.actionDue = due;
    this.action = this.scheduler.schedule(
      () => {
        this.action = undefined;
        this.actionDue = Infinity;
        this.pump();
      },
      Math.max(0, delay),
    );
  }

  private pump(): void {
    if (this.pumping) {
      this.again = true;
      return;
    }
    this.pumping = true;
    try {
      do {
        this.again = false;
        this.move();
        this.deliver();
      } while (this.again);
    } finally {
      this.pumping = false;
    }
    // The next write still on its way.
    if (this.outgoing.length > 0 && !this.isStalled && this.corks === 0) {
      const wait = this.outgoing[0].at - this.scheduler.now();
      if (wait > 0) this.request(wait);
    }
  }

  /** Moves due writes from the writer's buffer to the reader's, as room allows. */
  private move(): void {
    const now = this.scheduler.now();
    while (this.outgoing.length > 0 && !this.isStalled && this.corks === 0) {
      const head = this.outgoing[0];
      if (head.at > now) break;
      const chunk = head.chunk;
      if (chunk === null) {
        this.outgoing.shift();
        if (!this.readerGone) this.arrived.push({ chunk: null, cut: true });
        this.again = true;
        this.writer!.finished();
        continue;
      }
      if (
        !this.readerGone &&
        chunk.length > 0 &&
        this.arrivedBytes > 0 &&
        this.arrivedBytes + chunk.length > this.receiveCapacity
      ) {
        break;
      }
      this.outgoing.shift();
      this.outgoingBytes -= chunk.length;
      if (this.readerGone && chunk.length > 0) {
        this.writer!.broken(brokenPipeError());
        return;
      }
      if (chunk.length > 0) {
        this.arrived.push({ chunk, cut: false });
        this.arrivedBytes += chunk.length;
        this.again = true;
      }
      this.writer!.flushed(chunk.length);
      if (head.callback) head.callback();
      this.checkDrain();
    }
    this.checkDrain();
  }

  private checkDrain(): void {
    if (this.needDrain && this.outgoingBytes === 0 && !this.isStalled && !this.writerGone) {
      this.needDrain = false;
      this.writer!.drained();
    }
  }

  /** Hands arrived bytes to the reader while it reads. */
  private deliver(): void {
    const reader = this.reader!;
    while (this.arrived.length > 0 && reader.reading && !this.readerGone) {
      if (!this.arrived[0].cut && this.chunkingPolicy !== 'writes') this.cut();
      const next = this.arrived.shift()!;
      if (next.chunk === null) {
        reader.fin();
        continue;
      }
      this.arrivedBytes -= next.chunk.length;
      // Room on the reader's side: held writes may move on.
      if (this.outgoing.length > 0) this.again = true;
      reader.chunk(next.chunk);
    }
  }

  /** Replaces the uncut chunks at the front with the chunks of the policy. */
  private cut(): void {
    let n = 0;
    while (n < this.arrived.length && !this.arrived[n].cut && this.arrived[n].chunk !== null) n++;
    const bytes = n === 1 ? this.arrived[0].chunk! : Buffer.concat(this.arrived.slice(0, n).map((a) => a.chunk!));
    const cut: Arrived[] = [];
    for (const piece of cutChunks(bytes, this.chunkingPolicy)) cut.push({ chunk: piece, cut: true });
    this.arrived.splice(0, n, ...cut);
  }

  /** Cancels the pending action once neither end is left. */
  private settle(): void {
    if (this.writerGone && this.readerGone) {
      this.action?.unsubscribe();
      this.action = undefined;
      this.actionDue = Infinity;
    }
  }
}

function checkLatency(ms: number): number {
  if (typeof ms !== 'number' || !(ms >= 0) || !Number.isFinite(ms)) {
    throw new InvalidArgumentError('latency', `expected a finite number >= 0, got ${String(ms)}`);
  }
  return ms;
}

/** @deprecated The former name of {@link MemoryWireOptions}, kept so that code written for 0.1 compiles. */
export type WireOptions = MemoryWireOptions;
