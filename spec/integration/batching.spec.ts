// Same-tick write batching on real sockets: one writev per tick, order, backpressure, flush-completion, end and destroy.
import * as net from 'net';
import * as fc from 'fast-check';
import { bufferCount, filter, firstValueFrom, lastValueFrom, mergeMap, of, take, tap, toArray } from 'rxjs';
import type { MonoTypeOperatorFunction } from 'rxjs';
import { SocketConnection } from '../../lib/core/SocketConnection';
import { ChunkQueue } from '../../lib/framing/ChunkQueue';
import { decodeLines } from '../../lib/framing/lines/decodeLines';
import { sendTo } from '../../lib/core/sendTo';
import { readAll, readText, spiedPairs } from '../support/net';

const pairs = spiedPairs();

interface Pair {
  conn: SocketConnection;
  socket: net.Socket;
  peer: net.Socket;
  /** Spies on the socket's `_writev` and `_write`: what reaches the handle, batch by batch. */
  batches: string[][];
  /** The same, as the chunk objects themselves. */
  raw: unknown[][];
}

/** A SocketConnection on the accepting side of a loopback connection, and the plain peer. */
async function pair(): Promise<Pair> {
  const { socket, peer, batches, raw } = await pairs.open();
  return { conn: new SocketConnection(socket), socket, peer, batches, raw };
}

/** Resolves after the callbacks queued with process.nextTick so far (the batch's flush among them). */
const tick = () => new Promise<void>((resolve) => process.nextTick(resolve));

describe('same-tick write batching', () => {
  it('gathers the small writes of one tick and hands them to the socket as one write when the tick ends', async () => {
    const { conn, socket, peer, batches } = await pair();
    const received = readText(peer, 3);
    expect([conn.write('a'), conn.write('b'), conn.write('c')]).toEqual([true, true, true]);
    // Held outside the socket: it is neither corked nor holding them until the tick ends.
    expect(socket.writableCorked).toBe(0);
    expect(socket.writableLength).toBe(0);
    expect(batches).toEqual([]);
    expect(conn.bytesWritten).toBe(3);
    await tick();
    expect(socket.writableCorked).toBe(0);
    expect(batches).toEqual([['abc']]);
    expect(await received).toBe('abc');
  });

  it('joins views that continue one another in memory (frames of one chunk) without copying', async () => {
    const { conn, peer, raw } = await pair();
    const chunk = Buffer.from('one\ntwo\nthree\n');
    const received = readText(peer, chunk.length);
    conn.write(chunk.subarray(0, 4));
    conn.write(chunk.subarray(4, 8));
    conn.write(chunk.subarray(8));
    await tick();
    expect(raw).toHaveLength(1);
    const [[sent]] = raw as Buffer[][];
    // One view of the chunk's own memory: nothing was copied.
    expect(sent.buffer).toBe(chunk.buffer);
    expect(sent.byteOffset).toBe(chunk.byteOffset);
    expect(sent.length).toBe(chunk.length);
    expect(await received).toBe('one\ntwo\nthree\n');
  });

  it('passes a write over 2 KiB to the socket as it is, after the small ones before it and before those after it', async () => {
    const { conn, peer, batches, raw } = await pair();
    const big = Buffer.alloc(4096, 0x62);
    const received = readText(peer, 4096 + 4);
    conn.write('a');
    conn.write(Buffer.from('a'));
    conn.write(big);
    conn.write('c');
    conn.write('c');
    await tick();
    expect(batches).toEqual([['aa', 'b'.repeat(4096), 'cc']]);
    expect(raw[0][1]).toBe(big);
    expect(await received).toBe('aa' + 'b'.repeat(4096) + 'cc');
  });

  it('hands a write over 2 KiB that opens the batch straight to the socket, uncorked, and the small ones after it at the end', async () => {
    const { conn, socket, peer, batches, raw } = await pair();
    const big = Buffer.alloc(4096, 0x62);
    const received = readText(peer, 4096 + 2);
    conn.write(big);
    // Already with the socket, as one write() of a hand-written server would be.
    expect(socket.writableCorked).toBe(0);
    expect(raw).toEqual([[big]]);
    conn.write('c');
    conn.write('c');
    expect(socket.writableCorked).toBe(0);
    await tick();
    expect(batches).toEqual([['b'.repeat(4096)], ['cc']]);
    expect(await received).toBe('b'.repeat(4096) + 'cc');
  });

  it('runs the callbacks of gathered writes after their flush, in order', async () => {
    const { conn, peer, batches } = await pair();
    const received = readText(peer, 6);
    const order: string[] = [];
    conn.write('x', () => order.push(`x after ${batches.length} batch(es)`));
    conn.write('yy');
    conn.write('zzz', (error) => order.push(`zzz ${error ?? 'ok'}`));
    expect(order).toEqual([]);
    expect(await received).toBe('xyyzzz');
    while (order.length < 2) await tick();
    expect(order).toEqual(['x after 1 batch(es)', 'zzz ok']);
  });

  it('hands gathered small writes to the kernel as soon as they reach the high-water mark', async () => {
    const { conn, socket, peer, batches } = await pair();
    const size = socket.writableHighWaterMark;
    const message = Buffer.alloc(1024, 0x6d);
    const count = size / 1024 + 2;
    const received = readText(peer, count * 1024);
    for (let i = 0; i < count; i++) expect(conn.write(Buffer.from(message))).toBe(true);
    // The first high-water mark's worth went out mid-tick as one write; the rest at the tick's end.
    expect(batches.map((b) => b.join('').length)).toEqual([size]);
    await tick();
    expect(batches.map((b) => b.join('').length)).toEqual([size, 2048]);
    expect((await received).length).toBe(count * 1024);
  });

  it('starts a new batch in a later tick and keeps the order across batches', async () => {
    const { conn, peer, batches } = await pair();
    const received = readText(peer, 5);
    conn.write('a');
    conn.write('b');
    await tick();
    conn.write('c');
    conn.write('d');
    conn.write('e');
    await tick();
    expect(batches).toEqual([['ab'], ['cde']]);
    expect(await received).toBe('abcde');
  });

  it('leaves a user cork in place: the batch ends, the user uncork flushes', async () => {
    const { conn, socket, batches } = await pair();
    conn.cork();
    conn.write('a');
    await tick();
    expect(socket.writableCorked).toBe(1);
    expect(batches).toEqual([]);
    conn.uncork();
    expect(batches).toEqual([['a']]);
  });

  it('runs write callbacks after the flush, in order, and reports each write on events$', async () => {
    const { conn, batches } = await pair();
    const order: string[] = [];
    const written = firstValueFrom(
      conn.events$.pipe(
        filter((e) => e.type === 'written'),
        take(3),
        toArray(),
      ),
    );
    conn.write('x', () => order.push(`x after ${batches.length} batch(es)`));
    conn.write('yy', () => order.push('yy'));
    conn.write('zzz', () => order.push('zzz'));
    expect(order).toEqual([]);
    expect(await written).toEqual([
      { type: 'written', bytes: 1 },
      { type: 'written', bytes: 2 },
      { type: 'written', bytes: 3 },
    ]);
    expect(order).toEqual(['x after 1 batch(es)', 'yy', 'zzz']);
  });

  it('hands a batch that reaches the high-water mark to the kernel at once, and goes on saying true while it takes it', async () => {
    const { conn, socket, peer, batches } = await pair();
    const size = socket.writableHighWaterMark;
    const received = readText(peer, size * 2 + 2);
    expect(conn.write('a')).toBe(true);
    expect(conn.write(Buffer.alloc(size, 0x62))).toBe(true);
    // The first two went out together, mid-tick; the next write starts a new batch.
    expect(batches.map((b) => b.length)).toEqual([2]);
    expect(conn.write('c')).toBe(true);
    expect(conn.write(Buffer.alloc(size, 0x64))).toBe(true);
    expect(batches.map((b) => b.length)).toEqual([2, 2]);
    await tick();
    expect(conn.writable).toBe(true);
    expect(await received).toBe('a' + 'b'.repeat(size) + 'c' + 'd'.repeat(size));
  });

  it("while a chunk is dispatched, takes its replies past the high-water mark, sends them together at the dispatch's end, then is not writable until drain", async () => {
    const { conn, socket, peer, batches } = await pair();
    const size = socket.writableHighWaterMark;
    const count = size / 1024 + 4;
    const received = readText(peer, count * 1024);
    const results: boolean[] = [];
    let sentDuringDispatch = -1;
    const states: boolean[] = [];
    conn.writable$.subscribe((w) => states.push(w));
    conn.data$.pipe(take(1)).subscribe(() => {
      for (let i = 0; i < count; i++) results.push(conn.write(Buffer.alloc(1024, 0x61 + (i % 26))));
      sentDuringDispatch = batches.length;
    });
    peer.write('go');
    expect((await received).length).toBe(count * 1024);
    expect(results.every((ok) => ok)).toBe(true);
    expect(sentDuringDispatch).toBe(0);
    expect(batches).toHaveLength(1);
    expect(batches[0].join('').length).toBe(count * 1024);
    await firstValueFrom(conn.writable$.pipe(filter((w) => w)));
    expect(states).toEqual([true, false, true]);
  });

  it('says false within a dispatch once the batch holds four high-water marks, so a writer that ignores it is still bounded', async () => {
    const { conn, socket, peer } = await pair();
    const size = socket.writableHighWaterMark;
    const results: boolean[] = [];
    conn.data$.pipe(take(1)).subscribe(() => {
      for (let i = 0; i < (size * 4) / 1024 + 2; i++) results.push(conn.write(Buffer.alloc(1024, 0x62)));
    });
    const received = readText(peer, size * 4 + 2048);
    peer.write('go');
    expect((await received).length).toBe(size * 4 + 2048);
    expect(results.indexOf(false)).toBe((size * 4) / 1024 - 1);
  });

  it('hands the gathered writes to the socket before anyone reaches it through conn.socket', async () => {
    const first = await pair();
    const received = readAll(first.peer);
    first.conn.write('a');
    first.conn.socket.write('b');
    first.conn.end('c');
    expect((await received).toString()).toBe('abc');

    const second = await pair();
    const got = readAll(second.peer);
    const calls: string[] = [];
    second.conn.write('hello', (error) => calls.push(error ? error.message : 'ok'));
    second.conn.socket.end();
    expect((await got).toString()).toBe('hello');
    expect(calls).toEqual(['ok']);
  });

  it('corks the socket for the rest of the batch once conn.socket is reached, so its writes and the batch go out together', async () => {
    const { conn, socket, peer, batches } = await pair();
    const received = readText(peer, 3);
    conn.write('a');
    conn.socket.write('b');
    expect(socket.writableCorked).toBe(1);
    conn.write('c');
    await tick();
    expect(socket.writableCorked).toBe(0);
    expect(batches).toEqual([['a', 'b', 'c']]);
    expect(await received).toBe('abc');
  });

  /**
   * Echoes the three lines of one chunk through `decodeLines()`, `between` and sendTo, and checks that
   * what reached the socket is one write of the received chunk's own memory.
   */
  async function echoesAsOneView(between: MonoTypeOperatorFunction<Buffer>): Promise<void> {
    const { conn, peer, raw } = await pair();
    const chunks: Buffer[] = [];
    const done = lastValueFrom(
      conn.data$.pipe(
        tap((chunk) => chunks.push(chunk)),
        decodeLines({ includeDelimiter: true }),
        between,
        sendTo(conn, { end: false }),
      ),
      { defaultValue: undefined },
    );
    const received = readText(peer, 14);
    peer.write('one\ntwo\nthree\n');
    expect(await received).toBe('one\ntwo\nthree\n');
    await done;
    // One chunk came (else the frames could not be one view); what went out is that chunk.
    expect(chunks).toHaveLength(1);
    expect(raw).toHaveLength(1);
    const [[sent]] = raw as Buffer[][];
    expect(sent.buffer).toBe(chunks[0].buffer);
    expect(sent.byteOffset).toBe(chunks[0].byteOffset);
    expect(sent.length).toBe(14);
  }

  it("joins the frames a framer cut from one chunk into one view of that chunk's memory", async () => {
    await echoesAsOneView(take(3));
  });

  it('joins frames of one chunk written after later frames were cut (a pipeline that buffers them)', async () => {
    await echoesAsOneView((frames) =>
      frames.pipe(
        bufferCount(3),
        take(1),
        mergeMap((held) => held),
      ),
    );
  });

  it('never joins frames of different chunks, even where one starts at the offset the other ends at', async () => {
    // Each frame is the last one cut when it is written, as when a pipeline echoes frames.
    await fc.assert(
      fc.asyncProperty(
        fc.array(fc.tuple(fc.boolean(), fc.integer({ min: 1, max: 6 })), { minLength: 1, maxLength: 24 }),
        async (cuts) => {
          const { conn, peer } = await pair();
          // Two chunks of different bytes, cut at the same positions in turn.
          const queues = [new ChunkQueue(), new ChunkQueue()];
          queues[0].push(Buffer.alloc(200, 0x61));
          queues[1].push(Buffer.alloc(200, 0x62));
          let expected = '';
          for (const [which, size] of cuts) {
            const frame = queues[which ? 1 : 0].consume(size);
            expected += frame.toString();
            conn.write(frame);
          }
          const received = readText(peer, expected.length);
          expect(await received).toBe(expected);
          conn.destroy();
          peer.destroy();
        },
      ),
      { numRuns: 30 },
    );
  });

  it('rejects what is not a chunk at once and goes on writing the rest', async () => {
    const { conn, peer } = await pair();
    const received = readAll(peer);
    const calls: string[] = [];
    conn.write('ok1', (error) => calls.push(error ? error.message : 'ok1'));
    expect(() => conn.write(42 as unknown as string)).toThrow(/"chunk" argument/);
    conn.write('ok2');
    conn.end();
    expect((await received).toString()).toBe('ok1ok2');
    expect(calls).toEqual(['ok1']);
  });

  it('is writable again after a dispatch whose strings filled the batch, when the socket took them without a drain', async () => {
    const { conn, peer } = await pair();
    // 200 UTF-16 units, 600 UTF-8 bytes: the socket counts the first, the batch the second.
    const piece = '€'.repeat(200);
    let writes = 0;
    conn.data$.pipe(take(1)).subscribe(() => {
      while (conn.write(piece)) writes++;
      writes++;
    });
    const states: boolean[] = [];
    conn.writable$.subscribe((w) => states.push(w));
    const received = readText(peer, 1);
    peer.write('go');
    await received;
    await firstValueFrom(conn.writable$.pipe(filter((w) => w)));
    expect(states).toEqual([true, false, true]);
    expect(writes * 600).toBeGreaterThanOrEqual(16 * 1024);
  });

  it('says write() false once the socket holds a high-water mark the peer does not read, and writable again after drain', async () => {
    const { conn, socket, peer } = await pair();
    peer.pause();
    const chunk = Buffer.alloc(64 * 1024, 0x7a);
    let writes = 0;
    let ok = true;
    // Loopback takes a few MiB before the kernel buffers are full.
    while (ok && writes < 2000) {
      ok = conn.write(chunk);
      writes++;
    }
    expect(ok).toBe(false);
    expect(conn.writable).toBe(false);
    expect(socket.writableLength).toBeGreaterThanOrEqual(socket.writableHighWaterMark);
    const total = writes * chunk.length;
    const received = readText(peer, total);
    peer.resume();
    await firstValueFrom(conn.writable$.pipe(filter((w) => w)));
    expect(conn.writable).toBe(true);
    expect((await received).length).toBe(total);
  });

  it('sends the batch before the FIN when end() comes in the same tick', async () => {
    const { conn, peer, batches } = await pair();
    const received = readAll(peer);
    conn.write('a');
    conn.write('b');
    conn.end('c');
    expect((await received).toString()).toBe('abc');
    expect(batches.flat().join('')).toBe('abc');
  });

  it('hands the batch to the socket before destroy() in the same tick', async () => {
    const { conn, peer, batches } = await pair();
    const received = readAll(peer);
    conn.write('last ');
    conn.write('words');
    conn.destroy();
    expect(batches).toEqual([['last words']]);
    expect((await received).toString()).toBe('last words');
  });

  it('sendTo writes the frames of one chunk as one writev and completes only after they were flushed', async () => {
    const { conn, peer, batches } = await pair();
    const received = readText(peer, 14);
    const events: string[] = [];
    const flushed = conn.events$.pipe(filter((e) => e.type === 'written')).subscribe(() => events.push('written'));
    await lastValueFrom(
      of(Buffer.from('one\ntwo\nthree\n')).pipe(decodeLines({ includeDelimiter: true }), sendTo(conn, { end: false })),
      { defaultValue: undefined },
    ).then(() => events.push('complete'));
    flushed.unsubscribe();
    // The three frames and sendTo's empty flush marker went out together.
    expect(batches.length).toBe(1);
    expect(batches[0].join('')).toBe('one\ntwo\nthree\n');
    expect(events.indexOf('complete')).toBeGreaterThan(events.lastIndexOf('written'));
    expect(await received).toBe('one\ntwo\nthree\n');
  });
});
