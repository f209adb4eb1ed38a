// The operator contract (spec/support/operatorContract.ts) run over every operator rxnet exports, in one place,
// taken from the public entry point as users get them.
import { Buffer } from 'buffer';
import { NEVER, VirtualTimeScheduler } from 'rxjs';
import type { OperatorFunction } from 'rxjs';
import { TestScheduler } from 'rxjs/testing';
import * as rxnet from '../../lib';
import {
  EncodeError,
  FrameTooLongError,
  IdleTimeoutError,
  NdjsonParseError,
  QueueOverflowError,
  RateLimitError,
  RespLimitError,
  TruncatedFrameError,
  connectionMetrics,
  decodeDelimited,
  decodeFixedLength,
  decodeFrames,
  decodeWith,
  decodeResp,
  encodeWith,
  decodeLengthField,
  decodeLines,
  decodeNdjson,
  decodeStruct,
  decodeText,
  encodeDelimited,
  encodeFixedLength,
  encodeLengthField,
  encodeLines,
  encodeNdjson,
  encodeStruct,
  endOnIdle,
  idleTimeout,
  idleWatch,
  limitRate,
  sendDatagrams,
  sendTo,
  serveEach,
  struct,
  wiretap,
} from '../../lib';
import type { Codec, Connection, ConnectionEvent, Framer, IdleEvent, UdpSocket } from '../../lib';
import { connectionPair } from '../../lib/testing';
import { behavesAsOperator } from '../support/operatorContract';

/** A scheduler whose actions never run: timers exist but never fire. */
const frozen = () => new TestScheduler(() => undefined);
/** A connection of the test kit whose timers never fire. */
const connection = () => connectionPair({ scheduler: frozen() })[1];
const b = (text: string): Buffer => Buffer.from(text);
const raise = (error: Error) => (): never => {
  throw error;
};

/** A framer of your own: each chunk is a frame. */
class ChunkFramer implements Framer<Buffer> {
  private chunks: Buffer[] = [];

  push(chunk: Buffer): void {
    this.chunks.push(chunk);
  }

  read(): Buffer | undefined {
    return this.chunks.shift();
  }

  end(): void {}

  clear(): void {
    this.chunks = [];
  }
}

const Pair = struct({ a: 'uint16', b: 'uint8' });
const allIdle: IdleEvent = { state: 'allIdle', first: true, idleFor: 5 };
const read: ConnectionEvent = { type: 'data', chunk: b('x') };

// framing/
describe('decodeLines', () => {
  behavesAsOperator(() => decodeLines(), b('one\n'), {
    failure: () => ({
      operator: decodeLines({ maxLength: 4 }),
      inputs: [b('abcdefgh\n')],
      error: FrameTooLongError,
      code: 'ERR_FRAME_TOO_LONG',
      data: { limit: 4, length: 8 },
    }),
  });
});

describe('encodeLines', () => {
  behavesAsOperator(() => encodeLines(), 'a', {
    failure: () => ({
      operator: encodeLines({ maxLength: 2 }),
      inputs: ['abc'],
      error: FrameTooLongError,
      code: 'ERR_FRAME_TOO_LONG',
      data: { limit: 2, length: 3 },
    }),
  });
});

describe('decodeDelimited', () => {
  behavesAsOperator(() => decodeDelimited(','), b('a,'), {
    failure: () => ({
      operator: decodeDelimited(',', { maxLength: 2 }),
      inputs: [b('abcdef,')],
      error: FrameTooLongError,
      code: 'ERR_FRAME_TOO_LONG',
      data: { limit: 2, length: 6 },
    }),
  });
});

describe('encodeDelimited', () => {
  behavesAsOperator(() => encodeDelimited(','), b('a'), {
    failure: () => ({
      operator: encodeDelimited(',', { maxLength: 1 }),
      inputs: [b('ab')],
      error: FrameTooLongError,
      code: 'ERR_FRAME_TOO_LONG',
      data: { limit: 1, length: 2 },
    }),
  });
});

describe('decodeLengthField', () => {
  behavesAsOperator(() => decodeLengthField({ maxFrameLength: 64, lengthFieldLength: 1 }), Buffer.from([1, 0x61]), {
    failure: () => ({
      operator: decodeLengthField({ maxFrameLength: 64, lengthFieldLength: 1 }),
      inputs: [Buffer.from([100, 1])],
      error: FrameTooLongError,
      code: 'ERR_FRAME_TOO_LONG',
      data: { limit: 64, length: 101 },
    }),
  });
});

describe('encodeLengthField', () => {
  behavesAsOperator(() => encodeLengthField({ lengthFieldLength: 2 }), 'ab', {
    failure: () => ({
      operator: encodeLengthField({ lengthFieldLength: 1 }),
      inputs: [Buffer.alloc(256)],
      error: FrameTooLongError,
      code: 'ERR_FRAME_TOO_LONG',
      data: { limit: 255, length: 256 },
    }),
  });
});

describe('decodeFixedLength', () => {
  behavesAsOperator(() => decodeFixedLength(2), b('ab'), {
    failure: () => ({
      operator: decodeFixedLength(2),
      inputs: [b('abc')],
      end: true,
      error: TruncatedFrameError,
      code: 'ERR_TRUNCATED_FRAME',
      data: { buffered: 1 },
    }),
  });
});

describe('encodeFixedLength', () => {
  behavesAsOperator(() => encodeFixedLength(1), 'a', {
    failure: () => ({
      operator: encodeFixedLength(1),
      inputs: ['ab'],
      error: FrameTooLongError,
      code: 'ERR_FRAME_TOO_LONG',
      data: { limit: 1, length: 2 },
    }),
  });
});

describe('decodeFrames with a framer of your own', () => {
  behavesAsOperator<Buffer>(() => decodeFrames(() => new ChunkFramer()), b('x'), {
    throwing: (thrown) => ({
      operator: decodeFrames(() => Object.assign(new ChunkFramer(), { push: raise(thrown) })),
      input: b('x'),
    }),
  });
});

// codec/
/** A codec whose decoder hands on each chunk as it came, and whose encoder refuses the empty string. */
const chunks: Codec<Buffer, string> = {
  decoder: () => new ChunkFramer(),
  encode: (text) => {
    if (text === '') throw new EncodeError('empty');
    return text;
  },
};

describe('decodeWith', () => {
  behavesAsOperator<Buffer>(() => decodeWith(chunks), b('x'), {
    throwing: (thrown) => ({
      operator: decodeWith({ ...chunks, decoder: () => Object.assign(new ChunkFramer(), { push: raise(thrown) }) }),
      input: b('x'),
    }),
  });
});

describe('decodeResp', () => {
  behavesAsOperator<Buffer>(() => decodeResp(), b('+OK\r\n'), {
    failure: () => ({
      operator: decodeResp({ maxDepth: 1 }),
      inputs: [b('*1\r\n*1\r\n:1\r\n')],
      error: RespLimitError,
      code: 'ERR_RESP_LIMIT',
      data: { what: 'depth', limit: 1, announced: 2 },
    }),
  });
});

describe('encodeWith', () => {
  behavesAsOperator(() => encodeWith(chunks), 'x', {
    failure: () => ({
      operator: encodeWith(chunks),
      inputs: [''],
      error: EncodeError,
      code: 'ERR_ENCODE',
      data: { reason: 'empty' },
    }),
  });
});

describe('decodeText', () => {
  behavesAsOperator(() => decodeText(), b('abc'));
});

describe('decodeNdjson', () => {
  behavesAsOperator<Buffer>(() => decodeNdjson(), b('{"a":1}\n'), {
    throwing: (thrown) => ({ operator: decodeNdjson({ malformed: raise(thrown) }), input: b('x\n') }),
    failure: () => ({
      operator: decodeNdjson(),
      inputs: [b('x\n')],
      error: NdjsonParseError,
      code: 'ERR_NDJSON_PARSE',
      data: { lineNumber: 1, reason: expect.stringContaining('JSON') },
    }),
  });
});

describe('encodeNdjson', () => {
  behavesAsOperator(
    () => encodeNdjson(),
    { a: 1 },
    {
      failure: () => ({
        operator: encodeNdjson(),
        inputs: [1n],
        error: EncodeError,
        code: 'ERR_ENCODE',
        data: { reason: expect.stringContaining('BigInt') },
      }),
    },
  );
});

describe('decodeStruct', () => {
  behavesAsOperator(() => decodeStruct(Pair), Pair.encode({ a: 1, b: 2 }), {
    failure: () => ({
      operator: decodeStruct(Pair),
      inputs: [Buffer.from([1])],
      end: true,
      error: TruncatedFrameError,
      code: 'ERR_TRUNCATED_FRAME',
      data: { buffered: 1 },
    }),
  });
});

describe('encodeStruct', () => {
  behavesAsOperator<unknown>(
    () => encodeStruct(Pair) as OperatorFunction<unknown, Buffer>,
    { a: 1, b: 2 },
    {
      failure: () => ({
        operator: encodeStruct(Pair) as OperatorFunction<unknown, Buffer>,
        inputs: [{ a: 'x', b: 1 }],
        error: EncodeError,
        code: 'ERR_ENCODE',
        data: { reason: expect.stringContaining('field a') },
      }),
    },
  );
});

// time/
describe('idleTimeout', () => {
  behavesAsOperator(() => idleTimeout<string>(5, frozen()), 'chunk', {
    failure: () => {
      const scheduler = new VirtualTimeScheduler();
      return {
        operator: idleTimeout<string>(5, scheduler),
        inputs: ['chunk'],
        then: () => scheduler.flush(),
        error: IdleTimeoutError,
        code: 'ERR_IDLE_TIMEOUT',
        data: { ms: 5 },
      };
    },
  });
});

describe('idleWatch', () => {
  // Idle events come from timers only: no value out for a value in.
  behavesAsOperator(() => idleWatch({ readIdle: 5, scheduler: frozen() }), read, { emits: false });
});

describe('endOnIdle', () => {
  behavesAsOperator(() => endOnIdle(connection(), { scheduler: frozen() }), allIdle, {
    throwing: (thrown) => ({
      operator: endOnIdle(connection(), { goodbye: raise(thrown), scheduler: frozen() }),
      input: allIdle,
    }),
  });
});

// core/
describe('sendTo', () => {
  behavesAsOperator<string>(() => sendTo(connection()), 'a', {
    emits: false,
    throwing: (thrown) => ({ operator: sendTo(Object.assign(connection(), { write: raise(thrown) })), input: 'a' }),
    failure: () => {
      const conn = connection();
      conn.outbound.stall();
      return {
        operator: sendTo<string>(conn, { highWaterMark: 1 }),
        inputs: ['a', 'b', 'c'],
        error: QueueOverflowError,
        code: 'ERR_QUEUE_OVERFLOW',
        data: { highWaterMark: 1, queued: 1, queuedBytes: 1 },
      };
    },
  });
});

describe('serveEach', () => {
  // A handler that throws fails its connection only; a throwing onError is what errors the server's stream.
  behavesAsOperator<Connection>(() => serveEach(() => NEVER), connection(), {
    emits: false,
    throwing: (thrown) => ({
      operator: serveEach(raise(new Error('handler failed')), { onError: raise(thrown) }),
      input: connection(),
    }),
  });
});

// udp/
/** A socket of one's own whose sends never settle (the kernel never calls back). */
const udpSocket = (): UdpSocket => ({
  id: 1,
  local: { address: '127.0.0.1', family: 'IPv4', port: 1 },
  remote: { address: '127.0.0.1', port: 2 },
  messages$: NEVER,
  stats: { received: 0, receivedBytes: 0, unread: 0, sent: 0, sentBytes: 0, sendFailed: 0 },
  closed: false,
  send: () => new Promise<number>(() => undefined),
});

describe('sendDatagrams', () => {
  behavesAsOperator<string>(() => sendDatagrams(udpSocket()), 'a', {
    emits: false,
    throwing: (thrown) => ({
      operator: sendDatagrams(Object.assign(udpSocket(), { send: raise(thrown) })),
      input: 'a',
    }),
    failure: () => ({
      operator: sendDatagrams<string>(udpSocket(), { highWaterMark: 1, overflow: 'error' }),
      inputs: ['a', 'b'],
      error: QueueOverflowError,
      code: 'ERR_QUEUE_OVERFLOW',
      data: { highWaterMark: 1, queued: 1, queue: 'send window' },
    }),
  });
});

// shaping/
describe('limitRate', () => {
  behavesAsOperator(() => limitRate<string>({ burst: 1, rate: 1, scheduler: frozen() }), 'command', {
    failure: () => ({
      operator: limitRate<string>({ burst: 2, rate: 1, overflow: 'error', scheduler: frozen() }),
      inputs: ['a', 'b', 'c'],
      error: RateLimitError,
      code: 'ERR_RATE_LIMIT',
      data: { burst: 2, rate: 1 },
    }),
  });
});

// observe/
describe('wiretap', () => {
  behavesAsOperator<Buffer>(() => wiretap<Buffer>(1, 'in', { enabled: true, log: () => undefined }), b('x'), {
    throwing: (thrown) => ({
      operator: wiretap<Buffer>(1, 'in', { enabled: true, log: raise(thrown) }),
      input: b('x'),
    }),
  });
});

describe('connectionMetrics(conn).countFramesIn', () => {
  behavesAsOperator(() => connectionMetrics(connection()).countFramesIn<Buffer>(), b('x'));
});

describe('connectionMetrics(conn).countFramesOut', () => {
  behavesAsOperator(() => connectionMetrics(connection()).countFramesOut<Buffer>(), b('x'));
});

/** The operators above, by export name (connectionMetrics stands for its two counters). */
const COVERED = [
  'decodeLines',
  'encodeLines',
  'decodeDelimited',
  'encodeDelimited',
  'decodeLengthField',
  'encodeLengthField',
  'decodeFixedLength',
  'encodeFixedLength',
  'decodeFrames',
  'decodeWith',
  'encodeWith',
  'decodeResp',
  'decodeText',
  'decodeNdjson',
  'encodeNdjson',
  'decodeStruct',
  'encodeStruct',
  'idleTimeout',
  'idleWatch',
  'endOnIdle',
  'sendTo',
  'serveEach',
  'wiretap',
  'connectionMetrics',
  'limitRate',
  'sendDatagrams',
];

/** Functions rxnet exports that do not take a source: they make connections, sources, codecs or values. */
const NOT_OPERATORS = [
  'listen',
  'connect',
  'open',
  'reconnectingClient',
  'requester',
  'pool',
  'sniCallback',
  'upgradeTls',
  'encodeResp',
  'encodeRespCommand',
  'respClient',
  'respServer',
  'linesCodec',
  'delimitedCodec',
  'lengthFieldCodec',
  'fixedLengthCodec',
  'ndjsonCodec',
  'structFrames',
  'backoff',
  'sendStats',
  'asDuplex',
  'fromReadable',
  'struct',
  'char',
  'bytes',
  'arrayOf',
  'padding',
  'serverMetrics',
  'hexDump',
  'acceptProxyProtocol',
  'encodeProxyHeader',
  'redisBackplane',
  'isPeerFailure',
  'shapeTraffic',
  'bindUdp',
  'datagramSendStats',
];

describe('the operator contract', () => {
  it('covers every operator rxnet exports (classes and constants aside)', () => {
    const exported = rxnet as unknown as Record<string, unknown>;
    const covered = new Set(COVERED.map((name) => exported[name]));
    const missing = Object.keys(exported).filter((name) => {
      const value = exported[name];
      // Classes and constants are capitalised; deprecated aliases are the very functions covered.
      if (typeof value !== 'function' || /^[A-Z]/.test(name)) return false;
      return !covered.has(value) && !NOT_OPERATORS.includes(name);
    });
    expect(missing).toEqual([]);
  });
});
