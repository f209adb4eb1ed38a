// The write side of a SocketConnection: the writes of one tick gathered into one batch, joined or copied into few socket writes.
import { Buffer } from 'buffer';
import type { Socket } from 'net';
import type { FrameCut } from '../util/FrameCut';
import { ConnectionClosedError } from '../errors';
import type { Chunk, Connection } from '../types';

/**
 * Writes up to this many bytes are gathered in a {@link WriteBatch}; larger ones go to the
 * socket as they are (after earlier writes of the batch, corked for the rest of it).
 */
const COALESCE_MAX = 2048;

/**
 * Pieces of a batch averaging fewer bytes than this are copied into one buffer: copying a small
 * piece costs less than the stream machinery of a socket write per piece.
 */
const COPY_BELOW = 512;

/**
 * High-water marks a batch may hold while a chunk is dispatched before write() says false: room
 * for the replies to one chunk (Node reads at most 64 KiB at a time; the default mark is 16 KiB).
 */
const DISPATCH_ROOM = 4;

const EMPTY_CHUNK = Buffer.alloc(0);

type WriteCallback = (error?: Error | null) => void;

/** What a {@link WriteBatch} asks of its connection. @internal */
export interface BatchOwner {
  /** Ends the batch (the tick it was opened in is over) and updates the connection's writability. */
  flushBatch(): void;
}

/**
 * The write side of a `SocketConnection`, made on its first write, as ws keeps its `Sender` apart
 * from the socket's lifecycle.
 *
 * Writes made in one tick form a batch that goes to the socket when the dispatch of the chunk
 * that caused them ends, else at the end of the tick. Small writes are gathered here without the
 * socket's stream machinery: views that continue one another in memory (frames cut from one
 * chunk, echoed) are joined into one view, many small pieces are copied into one buffer. A larger
 * write goes to the socket as it is, corked behind the pieces gathered before it.
 *
 * @internal
 */
export class WriteBatch {
  /** True from the first write of a batch until it ends. */
  open = false;
  /** True while the end of the tick is queued to end the batch (see {@link write}). */
  scheduled = false;
  /** True while the batch holds the socket corked. */
  private corked = false;
  private readonly chunks: Chunk[] = [];
  private callbacks: WriteCallback[] | undefined = undefined;
  /**
   * The last chunk added when it is a view (else undefined): the first of a run of views that
   * continue one another in memory, which {@link seal} replaces by one view of the whole run.
   */
  private last: Uint8Array | undefined = undefined;
  /**
   * A run of frames known from a {@link FrameCut}: the chunk they were cut from and where in it
   * the run starts and ends. Undefined for a run of other views, known by `lastEnd` and `lastBuffer`.
   */
  private runChunk: Uint8Array | undefined = undefined;
  private runStart = 0;
  private runEnd = 0;
  /** Where a run of other views ends (its last view's `byteOffset` plus length). */
  private lastEnd = 0;
  /** The memory `last` is a view of, read once per run: a typed array's `buffer` is a call into the engine. */
  private lastBuffer: ArrayBufferLike | undefined = undefined;
  /** Pieces held (a run of joined views counts once). */
  private count = 0;
  /** Bytes held. */
  bytes = 0;

  constructor(
    private readonly socket: Socket,
    private readonly owner: BatchOwner,
  ) {}

  /**
   * Writes `chunk` as part of the current batch, which it opens if none is. `dispatching` says a
   * chunk read from the socket is being dispatched (the batch then ends with that dispatch, and
   * its replies may take up to four high-water marks); `cut` is where the frame the connection's
   * framer handed on last lies, if known. `reporting` hands every write to the socket as it is.
   * False when the caller should wait for `'drain'`.
   */
  write(
    chunk: Chunk,
    callback: WriteCallback | undefined,
    reporting: boolean,
    dispatching: boolean,
    cut: FrameCut | undefined,
  ): boolean {
    if (!this.open) {
      this.open = true;
      if (!dispatching && !this.scheduled) {
        this.scheduled = true;
        process.nextTick(WriteBatch.endOfTick, this);
      }
    }
    const socket = this.socket;
    const size = reporting
      ? Infinity
      : typeof chunk === 'string'
        ? // A string's UTF-8 length is at least its length: only a short one is measured.
          chunk.length <= COALESCE_MAX
          ? Buffer.byteLength(chunk)
          : COALESCE_MAX + 1
        : chunk instanceof Uint8Array
          ? chunk.length
          : // Not a chunk: straight to the socket, which rejects it.
            Infinity;
    if (size > COALESCE_MAX) {
      // Corked behind earlier pieces (or when every write is reported) to go out with them; a large
      // write that opens the batch goes straight to the socket, as a hand-written one would.
      if (reporting || this.count > 0) this.handOver();
      return socket.write(chunk, callback) || this.full();
    }
    this.add(chunk, size, callback, cut);
    const held = socket.writableLength + this.bytes;
    const highWaterMark = socket.writableHighWaterMark;
    if (held < highWaterMark) return true;
    if (!dispatching) return this.full();
    // The replies to the chunk being dispatched are taken, up to DISPATCH_ROOM marks, and go out
    // together when the dispatch ends (as code corked per chunk does).
    return held < highWaterMark * DISPATCH_ROOM;
  }

  /**
   * The batch reached the high-water mark: hand it to the kernel now, and say false only if the
   * socket still holds that much (the peer is slow to read). The batch goes on.
   */
  private full(): boolean {
    const socket = this.socket;
    this.endWrites();
    return socket.writableLength < socket.writableHighWaterMark;
  }

  /** Ends the batch of one tick: everything gathered (or corked) since goes to the socket. */
  private static endOfTick(batch: WriteBatch): void {
    batch.scheduled = false;
    batch.owner.flushBatch();
  }

  /** Hands the pieces gathered so far to the socket, corked for the rest of the batch. */
  handOver(): void {
    this.cork();
    this.writePieces();
  }

  /** Ends the batch if one is open; false if none was. */
  end(): boolean {
    if (!this.open) return false;
    this.endWrites();
    return true;
  }

  /** Hands the batch to the socket and ends it; it ends even if the socket throws. */
  endWrites(): void {
    try {
      this.writePieces();
    } finally {
      this.open = false;
      if (this.corked) {
        this.corked = false;
        this.socket.uncork();
      }
    }
  }

  /** The socket has closed: the pieces go to it all the same, so that it fails their callbacks. */
  abandon(): void {
    this.open = false;
    this.writePieces();
  }

  /**
   * Corks the socket for the rest of the batch: only when a write must reach the socket before
   * the batch ends, so the usual batch of small writes skips the socket's own buffering.
   */
  private cork(): void {
    if (!this.open || this.corked) return;
    this.corked = true;
    this.socket.cork();
  }

  /** Hands the pieces gathered so far to the socket, corking it first if they go as several writes. */
  private writePieces(): void {
    if (this.count === 0) return;
    if (this.writesPieces) this.cork();
    this.writeTo();
  }

  /**
   * Adds a write of `size` bytes. `cut` is where the frame its connection's framer handed on last
   * lies, if known: a chunk that is that frame is placed without reading its `byteOffset`.
   */
  private add(chunk: Chunk, size: number, callback: WriteCallback | undefined, cut: FrameCut | undefined): void {
    this.bytes += size;
    if (callback !== undefined) (this.callbacks ??= []).push(callback);
    // An empty write (sendTo's flush marker) rides with the pieces before it.
    if (size === 0 && this.count > 0) return;
    if (typeof chunk === 'string') {
      this.seal();
      this.chunks[this.count++] = chunk;
      return;
    }
    const last = this.last;
    if (cut !== undefined && chunk === cut.view && (last === undefined || this.runChunk !== undefined)) {
      if (cut.chunk === this.runChunk && cut.start === this.runEnd) {
        this.runEnd = cut.end;
        return;
      }
      this.seal();
      this.last = chunk;
      this.runChunk = cut.chunk;
      this.runStart = cut.start;
      this.runEnd = cut.end;
      this.chunks[this.count++] = chunk;
      return;
    }
    if (last !== undefined && this.runChunk !== undefined) {
      // A run of cut frames followed by another view: from here on the run is known by its memory.
      this.lastEnd = last.byteOffset + (this.runEnd - this.runStart);
      this.runChunk = undefined;
    }
    // The offset first: cheaper than the buffer, and false for unrelated chunks.
    if (last !== undefined && chunk.byteOffset === this.lastEnd && chunk.buffer === (this.lastBuffer ??= last.buffer)) {
      this.lastEnd += size;
      return;
    }
    this.seal();
    this.last = chunk;
    this.lastEnd = chunk.byteOffset + size;
    this.chunks[this.count++] = chunk;
  }

  /** True when {@link writeTo} will make more than one socket write (the socket should be corked). */
  private get writesPieces(): boolean {
    const n = this.count;
    return n > 1 && this.bytes >= n * COPY_BELOW;
  }

  /**
   * Writes the batch to the socket and empties it: as one buffer when it is many small pieces,
   * else piece by piece, as views, when copying them would cost more than the writes.
   */
  private writeTo(): void {
    const socket = this.socket;
    this.seal();
    const n = this.count;
    const bytes = this.bytes;
    const pieces = this.writesPieces;
    const chunks = this.chunks;
    const callback = this.takeCallback();
    // Empty before writing: a socket that throws leaves a usable batch behind.
    this.count = 0;
    this.bytes = 0;
    try {
      if (n === 1) socket.write(chunks[0], callback);
      else if (pieces) {
        for (let i = 0; i < n - 1; i++) socket.write(chunks[i]);
        socket.write(chunks[n - 1], callback);
      } else {
        const out = Buffer.allocUnsafe(bytes);
        let offset = 0;
        for (let i = 0; i < n; i++) {
          const chunk = chunks[i];
          if (typeof chunk === 'string') offset += out.write(chunk, offset);
          else {
            out.set(chunk, offset);
            offset += chunk.length;
          }
        }
        socket.write(out, callback);
      }
    } finally {
      // Let go of the chunks (they may be views of large buffers).
      for (let i = this.count; i < n; i++) chunks[i] = EMPTY_CHUNK;
    }
  }

  /** One callback for the writes of the batch that had one, or undefined. */
  private takeCallback(): WriteCallback | undefined {
    const callbacks = this.callbacks;
    if (callbacks === undefined) return undefined;
    this.callbacks = undefined;
    if (callbacks.length === 1) return callbacks[0];
    return (error) => {
      for (const callback of callbacks) callback(error);
    };
  }

  /** Replaces the last chunk by one view of the run of views that continued it, and ends the run. */
  private seal(): void {
    const last = this.last;
    if (last === undefined) return;
    const runChunk = this.runChunk;
    if (runChunk !== undefined) {
      const { runStart, runEnd } = this;
      if (runEnd - runStart !== last.length) this.chunks[this.count - 1] = runChunk.subarray(runStart, runEnd);
      this.runChunk = undefined;
    } else {
      const length = this.lastEnd - last.byteOffset;
      if (length !== last.length) {
        this.chunks[this.count - 1] = Buffer.from(this.lastBuffer ?? last.buffer, last.byteOffset, length);
      }
      this.lastBuffer = undefined;
    }
    this.last = undefined;
  }
}

/**
 * `end()`'s callback when the write side had already ended: told at once when the socket has
 * finished, with the connection's close reason (or a ConnectionClosedError) when it has closed or
 * closes first, else when it finishes.
 */
export function whenSocketEnded(
  socket: Socket,
  connection: Pick<Connection, 'id' | 'closed' | 'closeReason'>,
  callback: (error?: Error | null) => void,
): void {
  if (socket.writableFinished) process.nextTick(callback);
  else if (connection.closed)
    process.nextTick(callback, connection.closeReason ?? new ConnectionClosedError(connection.id, 0));
  else {
    const onFinish = () => {
      socket.removeListener('close', onClose);
      callback();
    };
    const onClose = () => {
      socket.removeListener('finish', onFinish);
      callback(connection.closeReason ?? new ConnectionClosedError(connection.id, socket.writableLength));
    };
    socket.once('finish', onFinish).once('close', onClose);
  }
}
