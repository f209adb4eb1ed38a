// The cut record handed from a framer to the connection it reads: echoed frames join without asking where they lie, others are written as they are.
import * as net from 'net';
import { SocketConnection } from '../../lib/core/SocketConnection';
import { decodeFrames } from '../../lib/framing/decodeFrames';
import { DelimiterFramer } from '../../lib/framing/delimited/DelimiterFramer';
import type { Framer } from '../../lib/framing/Framer';
import { decodeLines } from '../../lib/framing/lines/decodeLines';
import { readText, spiedPairs } from '../support/net';

const pairs = spiedPairs();

interface Side {
  conn: SocketConnection;
  peer: net.Socket;
  /** The chunks that reached the socket's handle, one entry per `_write`/`_writev`. */
  raw: Buffer[][];
}

/** A SocketConnection on the accepting side of a loopback connection whose handle writes are recorded, and its plain peer. */
async function side(): Promise<Side> {
  const { socket, peer, raw } = await pairs.open();
  return { conn: new SocketConnection(socket), peer, raw };
}

const typedArray = Object.getPrototypeOf(Uint8Array.prototype) as object;
const byteOffsetOf = Object.getOwnPropertyDescriptor(typedArray, 'byteOffset')!.get!;

/** Lines with their ending, through a framer that counts how often its frames are asked for their `byteOffset`. */
function countingLines(reads: { n: number }, keepsCut: boolean): () => Framer<Buffer> {
  return () => {
    const lines = new DelimiterFramer({
      delimiter: Buffer.from('\n'),
      maxLength: 1024,
      includeDelimiter: true,
      truncation: 'emit',
      stripCarriageReturn: false,
    });
    const framer: Framer<Buffer> = {
      push: (chunk) => lines.push(chunk),
      end: () => lines.end(),
      clear: () => lines.clear(),
      read: () => {
        const frame = lines.read();
        if (frame !== undefined) {
          Object.defineProperty(frame, 'byteOffset', { get: () => (reads.n++, byteOffsetOf.call(frame) as number) });
        }
        return frame;
      },
    };
    return keepsCut ? Object.assign(framer, { frameCut: lines.frameCut }) : framer;
  };
}

describe("a framer's cut record and the connection it reads", () => {
  it('echoes the frames of one chunk as one view of it, knowing from the record where they lie', async () => {
    const { conn, peer, raw } = await side();
    const reads = { n: 0 };
    const chunks: Buffer[] = [];
    conn.data$.subscribe((chunk) => chunks.push(chunk));
    conn.data$.pipe(decodeFrames(countingLines(reads, true))).subscribe((frame) => conn.write(frame));
    const received = readText(peer, 14);
    peer.write('one\ntwo\nthree\n');
    expect(await received).toBe('one\ntwo\nthree\n');
    expect(chunks).toHaveLength(1);
    expect(raw).toHaveLength(1);
    const [[sent]] = raw;
    expect(sent.buffer).toBe(chunks[0].buffer);
    expect(sent.byteOffset).toBe(chunks[0].byteOffset);
    expect(reads.n).toBe(0);
  });

  it('echoes them as one view all the same from a framer that keeps no record, by asking the frames', async () => {
    const { conn, peer, raw } = await side();
    const reads = { n: 0 };
    conn.data$.pipe(decodeFrames(countingLines(reads, false))).subscribe((frame) => conn.write(frame));
    const received = readText(peer, 14);
    peer.write('one\ntwo\nthree\n');
    expect(await received).toBe('one\ntwo\nthree\n');
    expect(raw).toHaveLength(1);
    expect(raw[0]).toHaveLength(1);
    expect(reads.n).toBeGreaterThan(0);
  });

  it("writes each connection's frames to the other correctly while each echoes its own as one view", async () => {
    const [a, b] = [await side(), await side()];
    for (const [from, to] of [
      [a, b],
      [b, a],
    ]) {
      from.conn.data$.pipe(decodeLines({ includeDelimiter: true })).subscribe((frame) => {
        from.conn.write(frame);
        to.conn.write(frame);
      });
    }
    const echoedA = readText(a.peer, 9);
    const crossedB = readText(b.peer, 9);
    a.peer.write('a1\na2\na3\n');
    expect([await echoedA, await crossedB]).toEqual(['a1\na2\na3\n', 'a1\na2\na3\n']);
    const echoedB = readText(b.peer, 6);
    const crossedA = readText(a.peer, 6);
    b.peer.write('b1\nb2\n');
    expect([await echoedB, await crossedA]).toEqual(['b1\nb2\n', 'b1\nb2\n']);
    // Each echo went to its socket as one write of one view.
    expect(a.raw[0]).toHaveLength(1);
    expect(b.raw[1]).toHaveLength(1);
    expect(Buffer.from(a.raw[0][0]).toString()).toBe('a1\na2\na3\n');
    expect(Buffer.from(b.raw[1][0]).toString()).toBe('b1\nb2\n');
  });
});
