// The write path against the replies servers in applications make (issue 20): a lone reply leaves
// within the dispatch of its chunk, replies to one chunk leave together, new buffers of 1 KiB are
// handed to writev as they are, and small ones (new Buffers, encoded strings) are gathered into one write.
import { Buffer } from 'buffer';
import { map } from 'rxjs';
import { SocketConnection } from '../../lib/core/SocketConnection';
import { sendTo } from '../../lib/core/sendTo';
import { decodeLines } from '../../lib/framing/lines/decodeLines';
import { encodeLines } from '../../lib/framing/lines/encodeLines';
import { readText, spiedPairs } from '../support/net';

const pairs = spiedPairs();
const NL = Buffer.from('\n');

/** A server side whose replies are new Buffers of `line + \n` made by `make`; what reached its handle is recorded. */
async function serve(make: (line: Buffer) => Buffer) {
  const { socket, peer, raw } = await pairs.open();
  const conn = new SocketConnection(socket);
  const chunks: Buffer[] = [];
  // Subscribed first: told of each chunk before the pipeline sees it.
  const afterDispatch: number[] = [];
  conn.data$.subscribe((chunk) => {
    chunks.push(chunk);
    // Runs once the dispatch of this chunk (and anything it wrote) is over, before any later tick work.
    process.nextTick(() => afterDispatch.push(raw.length));
  });
  const replies: Buffer[] = [];
  conn.data$
    .pipe(
      decodeLines({ maxLength: 4096 }),
      map((line) => {
        const reply = make(line);
        replies.push(reply);
        return reply;
      }),
      sendTo(conn),
    )
    .subscribe();
  return { peer, raw, chunks, replies, afterDispatch };
}

/** Sends `count` lines made by `line` in one write, waits for their echo, and checks they came as one chunk and left as one write. */
async function exchangeOnce(side: Awaited<ReturnType<typeof serve>>, count: number, line: (i: number) => string) {
  const text = Array.from({ length: count }, (_, i) => line(i)).join('');
  const received = readText(side.peer, text.length);
  side.peer.write(text);
  expect(await received).toBe(text);
  expect(side.chunks).toHaveLength(1);
  expect(side.raw).toHaveLength(1);
  return text;
}

/** A reply in memory of its own (not a slice of Node's shared pool), so that identity shows a copy. */
const ownMemory = (line: Buffer) => {
  const reply = Buffer.alloc(line.length + 1);
  reply.set(line);
  reply[line.length] = 0x0a;
  return reply;
};

describe('the write path and the replies an application makes', () => {
  it('writes a lone reply within the dispatch of its chunk, as the per-message form does', async () => {
    const { peer, raw, chunks, afterDispatch } = await serve((line) => Buffer.concat([line, NL]));
    const received = readText(peer, 6);
    peer.write('hello\n');
    expect(await received).toBe('hello\n');
    expect(chunks).toHaveLength(1);
    expect(raw).toEqual([[Buffer.from('hello\n')]]);
    // The write had reached the handle when the dispatch returned: no later tick was waited for.
    expect(afterDispatch).toEqual([1]);
  });

  it('gathers the small new Buffers answering one chunk into one write, within its dispatch', async () => {
    const side = await serve((line) => Buffer.concat([line, NL]));
    const text = await exchangeOnce(side, 16, (i) => `message ${String(i).padStart(2, '0')} ${'x'.repeat(40)}\n`);
    expect(side.raw[0].map(String).join('')).toBe(text);
    expect(side.afterDispatch).toEqual([1]);
  });

  it('hands 1 KiB new Buffers answering one chunk to one writev as they are, without copying them', async () => {
    const side = await serve(ownMemory);
    await exchangeOnce(side, 4, (i) => `${String(i)}${'y'.repeat(1022)}\n`);
    expect(side.raw[0]).toHaveLength(4);
    side.raw[0].forEach((piece, i) => expect(piece).toBe(side.replies[i]));
  });

  it('gathers lines encoded from strings with encodeLines into one write', async () => {
    const { socket, peer, raw } = await pairs.open();
    const conn = new SocketConnection(socket);
    conn.data$
      .pipe(
        decodeLines(),
        map((line) => line.toString('utf8').toUpperCase()),
        encodeLines(),
        sendTo(conn),
      )
      .subscribe();
    const received = readText(peer, 12);
    peer.write('abc\ndéf\nghi\n');
    // 'É' is two bytes in UTF-8 as 'é' is: the byte count stays 13, the text 12 characters.
    expect(await received).toBe('ABC\nDÉF\nGHI\n');
    expect(raw).toHaveLength(1);
    expect(raw[0]).toHaveLength(1);
  });
});
