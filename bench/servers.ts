// The echo servers the suite compares: plain net written by hand, split2, and rxnet, for each framing.
import * as net from 'net';
import { Readable } from 'stream';
import { map, type Observable } from 'rxjs';
import split2 from 'split2';
import { listen } from '../lib/core/listen';
import { fromReadable } from '../lib/core/streams';
import { decodeLines } from '../lib/framing/lines/decodeLines';
import { decodeLengthField } from '../lib/framing/lengthField/decodeLengthField';
import { sendTo } from '../lib/core/sendTo';
import { serveEach } from '../lib/core/serveEach';
import type { Connection } from '../lib/types';
import { MAX_FRAME, makePattern, type Framing } from './protocol';

/**
 * Server kinds:
 * - `pipe`: `socket.pipe(socket)` (bulk), or a generated source piped into the socket (source);
 * - `plain`: a hand-written splitter, one `write()` per message;
 * - `plain-cork`: the same splitter with the writes of one input chunk between `cork()` and `uncork()`;
 * - `split2`: `socket.pipe(split2())`, each line written back with `line + '\n'` (lines only);
 * - `rxnet`: `listen` + `decodeLines()`/`decodeLengthField()` + `sendTo` (or `fromReadable` + `sendTo` for source).
 *
 * Replies (`reply`): `cut` echoes each message as the framer cut it (a view of the input chunk);
 * `new` answers with a new Buffer per message, as application servers do: plain copies the
 * message, rxnet maps each line to `Buffer.concat([line, NL])` and each length frame to a copy.
 */
export type ServerKind = 'pipe' | 'plain' | 'plain-cork' | 'split2' | 'rxnet';

/** `source`: the server sends `sourceBytes` of generated data to each peer and ends (slow-consumer run). */
export type ServerWorkload = Framing | 'source';

export interface ServerOptions {
  kind: ServerKind;
  workload: ServerWorkload;
  host: string;
  /** Bytes each connection is sent in the `source` workload. */
  sourceBytes?: number;
  /** Echo each message as cut (default), or answer with a new Buffer per message. */
  reply?: ReplyStyle;
}

/** How an echo server answers: with the message as cut, or with a new Buffer. */
export type ReplyStyle = 'cut' | 'new';

const NL = Buffer.from('\n');

export interface RunningServer {
  port: number;
  close(): Promise<void>;
}

/** Which kinds exist for a workload. */
export function kindsFor(workload: ServerWorkload): ServerKind[] {
  switch (workload) {
    case 'bulk':
    case 'source':
      return ['pipe', 'rxnet'];
    case 'lines':
      return ['plain', 'plain-cork', 'split2', 'rxnet'];
    case 'length':
      return ['plain', 'plain-cork', 'rxnet'];
  }
}

export function startServer(options: ServerOptions): Promise<RunningServer> {
  if (!kindsFor(options.workload).includes(options.kind)) {
    throw new Error(`no ${options.kind} server for ${options.workload}`);
  }
  return options.kind === 'rxnet' ? startRxnet(options) : startPlain(options);
}

// ---------------------------------------------------------------------------------------------
// Plain net, as a careful programmer writes it: slices of the input chunk written back (no copy
// unless a message spans chunks), reading paused while write() says the socket is full.

function startPlain(options: ServerOptions): Promise<RunningServer> {
  const { kind, workload } = options;
  const server = net.createServer({ backlog: 4096 } as net.ServerOpts, (socket) => {
    socket.on('error', noop);
    if (workload === 'source') {
      generatedSource(options.sourceBytes ?? 0).pipe(socket);
      return;
    }
    if (workload === 'bulk') {
      socket.pipe(socket);
      return;
    }
    if (kind === 'split2') {
      const splitter = socket.pipe(split2({ maxLength: MAX_FRAME }));
      splitter.on('data', (line: string) => socket.write(line + '\n'));
      splitter.on('error', () => socket.destroy());
      return;
    }
    const corked = kind === 'plain-cork';
    const fresh = options.reply === 'new';
    const onMessage = (message: Buffer) => {
      if (!socket.write(fresh ? Buffer.from(message) : message)) socket.pause();
    };
    const split = workload === 'lines' ? lineSplitter(onMessage) : lengthSplitter(onMessage);
    socket.on('drain', () => socket.resume());
    socket.on('data', (chunk: Buffer) => {
      if (corked) {
        socket.cork();
        split(chunk);
        socket.uncork();
      } else split(chunk);
    });
  });
  return listening(server, options.host);
}

/** Calls `emit` with each line, `\n` included; bytes of a line that spans chunks are concatenated once. */
function lineSplitter(emit: (message: Buffer) => void): (chunk: Buffer) => void {
  let parts: Buffer[] = [];
  let held = 0;
  return (chunk) => {
    let start = 0;
    let index: number;
    while ((index = chunk.indexOf(10, start)) !== -1) {
      if (held > 0) {
        parts.push(chunk.subarray(start, index + 1));
        emit(Buffer.concat(parts, held + index + 1 - start));
        parts = [];
        held = 0;
      } else emit(chunk.subarray(start, index + 1));
      start = index + 1;
    }
    if (start < chunk.length) {
      parts.push(start === 0 ? chunk : chunk.subarray(start));
      held += chunk.length - start;
      if (held > MAX_FRAME) throw new Error('line too long');
    }
  };
}

/** Calls `emit` with each `[uint32 BE length][payload]` frame, header included; concatenates only across chunks. */
function lengthSplitter(emit: (message: Buffer) => void): (chunk: Buffer) => void {
  let parts: Buffer[] = [];
  let held = 0;
  let need = 4;
  return (chunk) => {
    let buffer = chunk;
    if (held > 0) {
      parts.push(chunk);
      held += chunk.length;
      if (held < need) return;
      buffer = Buffer.concat(parts, held);
      parts = [];
      held = 0;
    }
    let offset = 0;
    while (buffer.length - offset >= 4) {
      const length = buffer.readUInt32BE(offset);
      if (length + 4 > MAX_FRAME) throw new Error('frame too long');
      if (buffer.length - offset - 4 < length) break;
      emit(buffer.subarray(offset, offset + 4 + length));
      offset += 4 + length;
    }
    if (offset < buffer.length) {
      parts = [offset === 0 ? buffer : buffer.subarray(offset)];
      held = buffer.length - offset;
      need = held >= 4 ? 4 + buffer.readUInt32BE(offset) : 4;
    }
  };
}

// ---------------------------------------------------------------------------------------------
// rxnet, as its README shows it.

function startRxnet(options: ServerOptions): Promise<RunningServer> {
  const { workload } = options;
  // Operators are values: made once, applied to every connection.
  const fresh = options.reply === 'new';
  const framing =
    workload === 'lines'
      ? fresh
        ? (frames: Observable<Buffer>) =>
            frames.pipe(
              decodeLines({ maxLength: MAX_FRAME }),
              map((line) => Buffer.concat([line, NL])),
            )
        : decodeLines({ maxLength: MAX_FRAME, includeDelimiter: true })
      : workload === 'length'
        ? fresh
          ? (frames: Observable<Buffer>) =>
              frames.pipe(
                decodeLengthField({ maxFrameLength: MAX_FRAME, lengthFieldLength: 4 }),
                map((frame) => Buffer.from(frame)),
              )
          : decodeLengthField({ maxFrameLength: MAX_FRAME, lengthFieldLength: 4 })
        : undefined;
  const handle = (conn: Connection): Observable<never> => {
    if (workload === 'source') {
      const source = fromReadable(generatedSource(options.sourceBytes ?? 0));
      return source.data$.pipe(sendTo(conn, { pauseSource: source }));
    }
    const frames = framing === undefined ? conn.data$ : conn.data$.pipe(framing);
    return frames.pipe(sendTo(conn, { pauseSource: conn }));
  };
  return new Promise((resolve, reject) => {
    const subscription = listen({
      port: 0,
      host: options.host,
      backlog: 4096,
      listening: (address) => {
        if (typeof address === 'string') return;
        resolve({
          port: address.port,
          close: async () => subscription.unsubscribe(),
        });
      },
    })
      // A connection's failure (a reset peer) ends that connection, not the server.
      .pipe(serveEach(handle))
      .subscribe({ error: reject });
  });
}

// ---------------------------------------------------------------------------------------------

/**
 * A source as fast as memory: `total` bytes of the bulk pattern in fresh 64 KiB buffers (fresh, so
 * a server that ignores backpressure really does pile them up).
 */
function generatedSource(total: number): Readable {
  const pattern = makePattern('bulk', 64 * 1024);
  let sent = 0;
  let index = 0;
  return new Readable({
    read() {
      if (sent >= total) {
        this.push(null);
        return;
      }
      const size = Math.min(pattern.size, total - sent);
      const chunk = Buffer.allocUnsafe(size);
      const from = (index % pattern.count) * pattern.size;
      pattern.doubled.copy(chunk, 0, from, from + size);
      index++;
      sent += size;
      this.push(chunk);
    },
  });
}

function listening(server: net.Server, host: string): Promise<RunningServer> {
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen({ port: 0, host, backlog: 4096 }, () => {
      const address = server.address() as net.AddressInfo;
      resolve({
        port: address.port,
        close: () => new Promise<void>((done) => server.close(() => done())),
      });
    });
  });
}

function noop(): void {}
