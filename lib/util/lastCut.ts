// The frame a ChunkQueue cut last, and where it lies in its chunk: shared by the framers and the write batch.

/**
 * The view a `ChunkQueue` handed out last, the chunk it lies in and its bounds there.
 *
 * A frame echoed as it was cut (the usual server) reaches `SocketConnection.write` while it is
 * still this view: the write batch then knows from these fields alone whether it continues the
 * previous frame in the same chunk, and joins the two, without reading the views' `byteOffset`
 * and `buffer`. Those are slow reads in the V8 that Node 20 ships (tens of nanoseconds each, a
 * call into the engine for `buffer`), and there is one frame per message.
 *
 * It is filled while a framer hands out the frames of a chunk and emptied when it is done (see
 * `decodeFrames`) or cleared, so it keeps no chunk alive after that.
 *
 * @internal
 */
export const lastCut: {
  /** The view handed out (undefined once nothing is recorded). */
  view: Uint8Array | undefined;
  /**
   * The chunk the view lies in (the view itself when it is the whole chunk). It may be a run of
   * small chunks the queue merged into its accumulator: bytes handed out there are never written
   * again, so `chunk.subarray(start, end)` stays the view's bytes after later merges.
   */
  chunk: Uint8Array | undefined;
  /** Where the view starts in `chunk`. */
  start: number;
  /** Where the view ends in `chunk` (exclusive). */
  end: number;
} = { view: undefined, chunk: undefined, start: 0, end: 0 };

/** Records `view`, cut from `chunk` at `start` to `end`, as the last cut. @internal */
export function noteCut(view: Uint8Array, chunk: Uint8Array, start: number, end: number): void {
  const cut = lastCut;
  cut.view = view;
  // Stored only when it changes: storing a new object into this long-lived one costs a write
  // barrier, and frames come many to a chunk.
  if (cut.chunk !== chunk) cut.chunk = chunk;
  cut.start = start;
  cut.end = end;
}

/** Forgets the last cut, so that it keeps no chunk alive. @internal */
export function clearCut(): void {
  const cut = lastCut;
  cut.view = undefined;
  cut.chunk = undefined;
}
