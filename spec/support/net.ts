// Test helpers for real loopback sockets: start a server on port 0, connect plain net clients.
import * as net from 'net';
import { Observable, Subscription, firstValueFrom, mergeMap, ReplaySubject } from 'rxjs';
import { listen } from '../../lib/core/listen';
import type { ListenOptions } from '../../lib/core/listen';
import type { Connection } from '../../lib/types';

export interface Started {
  port: number;
  subscription: Subscription;
  /** Errors the server Observable delivered (a test expects none unless it says so). */
  errors: unknown[];
}

/** Listens on 127.0.0.1:0, runs `handle` for each connection, resolves once bound. */
export async function startServer(
  handle: (connection: Connection) => Observable<unknown>,
  options: Partial<ListenOptions> = {},
): Promise<Started> {
  const bound = new ReplaySubject<number>(1);
  const errors: unknown[] = [];
  const subscription = listen({
    port: 0,
    host: '127.0.0.1',
    ...options,
    listening: (address) => {
      if (typeof address !== 'string') bound.next(address.port);
    },
  })
    .pipe(mergeMap(handle))
    .subscribe({
      error: (e) => {
        errors.push(e);
        bound.error(e);
      },
    });
  const port = await firstValueFrom(bound);
  return { port, subscription, errors };
}

/** Opens a plain net socket to 127.0.0.1:port and resolves once connected. */
export function plainConnect(port: number): Promise<net.Socket> {
  return new Promise((resolve, reject) => {
    const socket = net.connect({ port, host: '127.0.0.1' }, () => {
      socket.removeListener('error', reject);
      resolve(socket);
    });
    socket.once('error', reject);
  });
}

/** Reads everything until the peer's FIN; resolves with the bytes. */
export function readAll(socket: net.Socket): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    socket.on('data', (c: Buffer) => chunks.push(c));
    socket.once('end', () => resolve(Buffer.concat(chunks)));
    socket.once('error', reject);
  });
}

/** Resolves once the socket has closed. */
export function closed(socket: net.Socket): Promise<void> {
  if (socket.closed) return Promise.resolve();
  return new Promise((resolve) => socket.once('close', () => resolve()));
}

/** Resolves on the next event of `name` from `emitter`. */
export function once<T = unknown>(emitter: NodeJS.EventEmitter, name: string): Promise<T> {
  return new Promise((resolve) => emitter.once(name, (value: T) => resolve(value)));
}

/** TCP handles open now: a baseline, so a spec checks only what it opened itself, not another file's leftovers. */
export function tcpHandleCount(): number {
  return process.getActiveResourcesInfo().filter((r) => r.startsWith('TCP')).length;
}

/** Waits (libuv needs a few turns after the last 'close') until no more TCP handles are open than at `baseline`. */
export async function expectTcpHandlesBackTo(baseline: number): Promise<void> {
  // A graceful close waits for the peer's FIN: polled for up to 2 s (a loaded machine answers late), then judged.
  const deadline = performance.now() + 2000;
  for (let i = 0; tcpHandleCount() > baseline && performance.now() < deadline; i++) {
    await new Promise((resolve) => (i < 100 ? setImmediate(resolve) : setTimeout(resolve, 5)));
  }
  expect(tcpHandleCount()).toBeLessThanOrEqual(baseline);
}

/** What reached a socket's handle, one entry per `_write`/`_writev` call. */
export interface HandleWrites {
  /** The chunk objects themselves. */
  raw: Buffer[][];
  /** The same as text, taken when written. */
  batches: string[][];
}

/** Spies on `socket`'s `_writev` and `_write`: what reaches the handle, batch by batch. */
export function spyHandleWrites(socket: net.Socket): HandleWrites {
  const writes: HandleWrites = { raw: [], batches: [] };
  const record = (chunks: Buffer[]) => {
    writes.raw.push(chunks);
    writes.batches.push(chunks.map((chunk) => Buffer.from(chunk).toString()));
  };
  const spied = socket as unknown as {
    _writev: (chunks: { chunk: Buffer }[], cb: () => void) => void;
    _write: (chunk: Buffer, encoding: string, cb: () => void) => void;
  };
  const { _writev: writev, _write: write } = spied;
  Object.assign(socket, {
    _writev(chunks: { chunk: Buffer }[], cb: () => void) {
      record(chunks.map((c) => c.chunk));
      return writev.call(this, chunks, cb);
    },
    _write(chunk: Buffer, encoding: string, cb: () => void) {
      record([chunk]);
      return write.call(this, chunk, encoding, cb);
    },
  });
  return writes;
}

/** An accepted loopback socket whose handle writes are recorded, and its plain peer. */
export interface SpiedPair extends HandleWrites {
  /** The accepting side. */
  socket: net.Socket;
  /** The connecting side, a plain socket. */
  peer: net.Socket;
}

/**
 * Opens spied loopback pairs for a spec and closes them all after each test: call once at the
 * top of a spec file, then `open()` in tests.
 */
export function spiedPairs(): { open(): Promise<SpiedPair> } {
  let servers: net.Server[] = [];
  let sockets: net.Socket[] = [];
  afterEach(async () => {
    for (const s of sockets) s.destroy();
    await Promise.all(sockets.map((s) => closed(s)));
    await Promise.all(servers.map((s) => new Promise((resolve) => s.close(resolve))));
    servers = [];
    sockets = [];
  });
  return {
    async open() {
      const server = net.createServer({ allowHalfOpen: true });
      servers.push(server);
      server.listen(0, '127.0.0.1');
      await once(server, 'listening');
      const accepted = once<net.Socket>(server, 'connection');
      const peer = await plainConnect((server.address() as net.AddressInfo).port);
      const socket = await accepted;
      sockets.push(peer, socket);
      return { socket, peer, ...spyHandleWrites(socket) };
    },
  };
}

/** Reads from `peer` until `n` bytes came, as text. */
export async function readText(peer: net.Socket, n: number): Promise<string> {
  let got = '';
  while (got.length < n) got += String(await once<Buffer>(peer, 'data'));
  return got;
}
