// The servers the suite compares: plain net written by hand, split2, and rxnet, for each framing.
import * as net from 'net';
import { Readable } from 'stream';
import {
  AggregationTemporality,
  InMemoryMetricExporter,
  MeterProvider,
  PeriodicExportingMetricReader,
} from '@opentelemetry/sdk-metrics';
import { map, type Observable, type OperatorFunction } from 'rxjs';
import split2 from 'split2';
import { otelMetrics, type OtelServerMetrics } from '../lib/observe/otelMetrics';
import { listen } from '../lib/core/listen';
import { fromReadable } from '../lib/core/streams';
import { decodeLines } from '../lib/framing/lines/decodeLines';
import { encodeLines } from '../lib/framing/lines/encodeLines';
import { decodeLengthField } from '../lib/framing/lengthField/decodeLengthField';
import { encodeLengthField } from '../lib/framing/lengthField/encodeLengthField';
import { decodeNdjson } from '../lib/codec/ndjson/decodeNdjson';
import { encodeNdjson } from '../lib/codec/ndjson/encodeNdjson';
import { sendTo } from '../lib/core/sendTo';
import { serveEach } from '../lib/core/serveEach';
import type { Connection } from '../lib/types';
import { MAX_FRAME, makePattern, type Framing, type NdjsonRequest } from './protocol';

/**
 * Server kinds:
 * - `pipe`: `socket.pipe(socket)` (bulk), or a generated source piped into the socket (source);
 * - `plain`: a hand-written splitter, one `write()` per message;
 * - `plain-cork`: the same splitter with the writes of one input chunk between `cork()` and `uncork()`;
 * - `split2`: `socket.pipe(split2())`, each line written back with `line + '\n'` (lines only);
 * - `rxnet`: `listen` + `decodeLines()`/`decodeLengthField()`/`decodeNdjson()` + `sendTo` (or `fromReadable` +
 *   `sendTo` for source).
 * - `rxnet-otel`: the same with `rxnet/otel` recording everything it can (server events, frames received, the
 *   sinks' stats) into OpenTelemetry's SDK, exported every second to memory: what observing costs (only with
 *   `--servers`, not in a default run).
 *
 * Replies of the line and length servers (`reply`): `cut` echoes each message as the framer cut it
 * (a view of the input chunk); `new` answers with a new Buffer per message, as application servers
 * do: plain copies the message, rxnet maps each line to `Buffer.concat([line, NL])` and each length
 * frame to a copy; `string` decodes each message to a string and answers with that string encoded
 * again: plain writes `line + '\n'` (Node encodes it) or builds the length frame by hand, rxnet maps
 * to strings and encodes with `encodeLines()` / `encodeLengthField()`. split2 always answers with
 * strings.
 *
 * `ndjson`: every kind parses each line with `JSON.parse`, sets `op` to `'pong'` and answers with
 * `JSON.stringify` and `\n` (rxnet: `decodeNdjson()` + `encodeNdjson()`); `reply` does not apply.
 */
export type ServerKind = 'pipe' | 'plain' | 'plain-cork' | 'split2' | 'rxnet' | 'rxnet-otel';

/** `source`: the server sends `sourceBytes` of generated data to each peer and ends (slow-consumer run). */
export type ServerWorkload = Framing | 'source';

export interface ServerOptions {
  kind: ServerKind;
  workload: ServerWorkload;
  host: string;
  /** Bytes each connection is sent in the `source` workload. */
  sourceBytes?: number;
  /** Echo each message as cut (default), answer with a new Buffer, or with a string (lines and length). */
  reply?: ReplyStyle;
}

/** How a line or length server answers: with the message as cut, a new Buffer, or a string encoded again. */
export const REPLY_STYLES = ['cut', 'new', 'string'] as const;
export type ReplyStyle = (typeof REPLY_STYLES)[number];

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
    // pipe: no framing, the bytes sent back as they came; the ceiling a framing server can reach.
    case 'lines':
      return ['plain', 'plain-cork', 'split2', 'rxnet', 'rxnet-otel', 'pipe'];
    case 'length':
      return ['plain', 'plain-cork', 'rxnet', 'rxnet-otel', 'pipe'];
    case 'ndjson':
      return ['plain', 'plain-cork', 'rxnet', 'rxnet-otel'];
    default:
      throw new Error(`unknown workload ${String(workload)}`);
  }
}

export function startServer(options: ServerOptions): Promise<RunningServer> {
  if (!kindsFor(options.workload).includes(options.kind)) {
    throw new Error(`no ${options.kind} server for ${options.workload}`);
  }
  if (options.reply !== undefined && !REPLY_STYLES.includes(options.reply)) {
    throw new Error(`unknown reply style ${String(options.reply)}`);
  }
  return options.kind === 'rxnet' || options.kind === 'rxnet-otel' ? startRxnet(options) : startPlain(options);
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
    if (workload === 'bulk' || kind === 'pipe') {
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
    const onMessage = plainReply(workload, options.reply ?? 'cut', socket);
    const split = workload === 'length' ? lengthSplitter(onMessage) : lineSplitter(onMessage);
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

/** What a plain server does with each message: writes its reply, pauses reading while the socket is full. */
function plainReply(workload: Framing, reply: ReplyStyle, socket: net.Socket): (message: Buffer) => void {
  const write = (data: Buffer | string) => {
    if (!socket.write(data)) socket.pause();
  };
  if (workload === 'ndjson') {
    return (message) => {
      // JSON.parse ignores the trailing \n.
      const request = JSON.parse(message.toString()) as NdjsonRequest;
      request.op = 'pong';
      write(JSON.stringify(request) + '\n');
    };
  }
  if (reply === 'cut') return write;
  if (reply === 'new') return (message) => write(Buffer.from(message));
  if (workload === 'lines') return (message) => write(message.toString('utf8', 0, message.length - 1) + '\n');
  return (message) => {
    // latin1: the payload bytes are arbitrary, and latin1 maps each to one character and back.
    const text = message.toString('latin1', 4);
    const frame = Buffer.allocUnsafe(4 + text.length);
    frame.writeUInt32BE(text.length, 0);
    frame.write(text, 4, 'latin1');
    write(frame);
  };
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
  const framing =
    workload === 'source' || workload === 'bulk' ? undefined : rxnetReply(workload, options.reply ?? 'cut');
  const otel = options.kind === 'rxnet-otel' ? observed() : undefined;
  const recorder = otel?.recorder;
  // Counted where the replies leave the framing: one per frame received.
  const countFrames = recorder?.countFrames<Buffer>('receive');
  const handle = (conn: Connection): Observable<never> => {
    if (workload === 'source') {
      const source = fromReadable(generatedSource(options.sourceBytes ?? 0));
      return source.data$.pipe(sendTo(conn, { pauseSource: source }));
    }
    const frames = framing === undefined ? conn.data$ : conn.data$.pipe(framing);
    if (recorder === undefined) return frames.pipe(sendTo(conn, { pauseSource: conn }));
    return frames.pipe(countFrames!, sendTo(conn, { pauseSource: conn, stats: recorder.sendStats(conn) }));
  };
  return new Promise((resolve, reject) => {
    const subscription = listen({
      port: 0,
      host: options.host,
      backlog: 4096,
      events: recorder?.events,
      listening: (address) => {
        if (typeof address === 'string') return;
        resolve({
          port: address.port,
          close: async () => {
            subscription.unsubscribe();
            await otel?.provider.shutdown();
          },
        });
      },
    })
      // A connection's failure (a reset peer) ends that connection, not the server.
      .pipe(serveEach(handle))
      .subscribe({ error: reject });
  });
}

/** An OpenTelemetry SDK as a user sets one up, exporting every second (to memory here), and rxnet's recorder on it. */
function observed(): { provider: MeterProvider; recorder: OtelServerMetrics } {
  const exporter = new InMemoryMetricExporter(AggregationTemporality.CUMULATIVE);
  const provider = new MeterProvider({
    readers: [new PeriodicExportingMetricReader({ exporter, exportIntervalMillis: 1000 })],
  });
  return { provider, recorder: otelMetrics({ meter: provider.getMeter('bench') }) };
}

/** The operator that turns a connection's chunks into its replies. */
function rxnetReply(workload: 'lines' | 'length' | 'ndjson', reply: ReplyStyle): OperatorFunction<Buffer, Buffer> {
  if (workload === 'ndjson') {
    return (chunks) =>
      chunks.pipe(
        decodeNdjson<NdjsonRequest>({ maxLength: MAX_FRAME }),
        map((request) => {
          request.op = 'pong';
          return request;
        }),
        encodeNdjson(),
      );
  }
  if (workload === 'lines') {
    if (reply === 'cut') return decodeLines({ maxLength: MAX_FRAME, includeDelimiter: true });
    if (reply === 'new')
      return (chunks) =>
        chunks.pipe(
          decodeLines({ maxLength: MAX_FRAME }),
          map((line) => Buffer.concat([line, NL])),
        );
    return (chunks) =>
      chunks.pipe(
        decodeLines({ maxLength: MAX_FRAME }),
        map((line) => line.toString('utf8')),
        encodeLines(),
      );
  }
  const lengthField = { maxFrameLength: MAX_FRAME, lengthFieldLength: 4 } as const;
  if (reply === 'cut') return decodeLengthField(lengthField);
  if (reply === 'new')
    return (chunks) =>
      chunks.pipe(
        decodeLengthField(lengthField),
        map((frame) => Buffer.from(frame)),
      );
  return (chunks) =>
    chunks.pipe(
      decodeLengthField({ ...lengthField, initialBytesToStrip: 4 }),
      // latin1, as plain does: the payload bytes are arbitrary, a character each.
      map((payload) => payload.toString('latin1')),
      encodeLengthField({ lengthFieldLength: 4, encoding: 'latin1' }),
    );
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
