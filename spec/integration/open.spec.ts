// open(): an awaited connection stays open until closed; a refused one rejects with Node's code; nothing is left open.
import * as net from 'net';
import { firstValueFrom, toArray } from 'rxjs';
import { open } from '../../lib/core/open';
import { decodeLines } from '../../lib/framing/lines/decodeLines';
import { InvalidArgumentError } from '../../lib/errors';
import { closed, expectTcpHandlesBackTo, tcpHandleCount } from '../support/net';

/** A plain net server answering each line with its upper case, after a turn of the event loop, and ending at the client's end. */
async function upperServer(): Promise<{ port: number; server: net.Server }> {
  const server = net.createServer({ allowHalfOpen: true }, (socket) => {
    let text = '';
    socket.on('data', (chunk) => (text += chunk.toString()));
    socket.on('end', () => setImmediate(() => socket.end(text.toUpperCase())));
    socket.on('error', () => undefined);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return { port: (server.address() as net.AddressInfo).port, server };
}

describe('open', () => {
  it('resolves with a connection that is still open after await, and serves until it is closed', async () => {
    const baseline = tcpHandleCount();
    const { port, server } = await upperServer();
    try {
      const conn = await open({ host: '127.0.0.1', port });
      await new Promise((resolve) => setImmediate(resolve)); // more awaits: still open
      expect(conn.closed).toBe(false);
      expect(conn.writeEnded).toBe(false);
      const lines = firstValueFrom(conn.data$.pipe(decodeLines(), toArray()));
      expect(conn.write('more axes\n')).toBe(true);
      conn.end('more arrows\n');
      expect((await lines).map(String)).toEqual(['MORE AXES', 'MORE ARROWS']);
      await firstValueFrom(conn.events$.pipe(toArray()));
      expect(conn.closed).toBe(true);
    } finally {
      server.close();
    }
    await expectTcpHandlesBackTo(baseline);
  });

  it("rejects with Node's error when the connection is refused", async () => {
    const { port, server } = await upperServer();
    server.close();
    await new Promise((resolve) => server.once('close', resolve));
    await expect(open({ host: '127.0.0.1', port })).rejects.toMatchObject({ code: 'ECONNREFUSED' });
  });

  it('tells a reset after it resolved on the connection, not the promise', async () => {
    const sockets: net.Socket[] = [];
    const server = net.createServer((socket) => {
      sockets.push(socket);
      socket.on('error', () => undefined);
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    try {
      const conn = await open({ host: '127.0.0.1', port: (server.address() as net.AddressInfo).port });
      const failed = firstValueFrom(conn.data$.pipe(toArray())).catch((error: NodeJS.ErrnoException) => error.code);
      while (sockets.length === 0) await new Promise((resolve) => setImmediate(resolve));
      sockets[0].resetAndDestroy();
      expect(await failed).toBe('ECONNRESET');
      await closed(conn.socket!);
    } finally {
      server.close();
    }
  });

  it('throws InvalidArgumentError for bad options, at once', () => {
    expect(() => open({ port: 0 })).toThrow(InvalidArgumentError);
  });

  it('rejects with the signal reason when aborted before connecting', async () => {
    const controller = new AbortController();
    controller.abort(new Error('changed my mind'));
    await expect(open({ host: '127.0.0.1', port: 9, signal: controller.signal })).rejects.toThrow('changed my mind');
  });
});
