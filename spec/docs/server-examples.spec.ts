// Every server example of README.md and docs/*.md, run as it is written, outlives six peers that reset and then serves a new client.
import * as fs from 'fs';
import * as net from 'net';
import * as path from 'path';
import * as tls from 'tls';
import * as ts from 'typescript';
import { findRedisServer, freePort, startRedis, type RunningRedis } from '../support/proxies';
import { parseMarkers } from './exampleMarkers';
import { guideSamples, type Sample } from './markdown';
import { NodeChild, Peer, cTestData, pool, proxyHeader, resetPeers, runReporting, transpileTree } from './peers';

/** Whether a block calls rxnet's `listen(...)` (not a memory server's `server.listen()`, nor one in a comment). */
function callsListen(code: string): boolean {
  const visit = (node: ts.Node): boolean =>
    (ts.isCallExpression(node) && ts.isIdentifier(node.expression) && node.expression.text === 'listen') ||
    ts.forEachChild(node, visit) === true;
  return visit(ts.createSourceFile('sample.ts', code, ts.ScriptTarget.ES2022));
}
const servers = guideSamples().filter((sample) => callsListen(sample.code));

/** What a probe needs of the running example. */
interface Target {
  port: number;
  child: NodeChild;
  /** The PROXY protocol header a client must send first, when the server reads one ('' otherwise). */
  header(sourcePort: number): string;
}

/** How to tell that an example still serves: which examples it fits, what attackers send, and the check. */
interface Probe {
  name: string;
  fits(code: string): boolean;
  /** What half the resetting peers write first: a request the server acts on. */
  attack: string | Buffer;
  /** What the other half write: bytes the example's framing refuses (over its limit, or cut short). */
  hostile: string | Buffer;
  /** Resolves once a new client was served as the example promises; `n` (1, 2) makes each probe distinct. */
  serve(target: Target, n: number): Promise<void>;
}

/** Sends `request` (after the PROXY header, if any) and waits for exactly `reply`, or a reply matching it. */
async function served(target: Target, request: string | Buffer | undefined, reply: Buffer | RegExp): Promise<void> {
  const peer = await Peer.connect(target.port);
  try {
    const header = target.header(peer.localPort);
    if (header) peer.write(header);
    if (request !== undefined) peer.write(request);
    const what = `the reply ${reply instanceof RegExp ? String(reply) : reply.toString('hex')}`;
    const got = await peer.until(what, (r) =>
      reply instanceof RegExp ? reply.test(r.toString('latin1')) : r.length >= reply.length,
    );
    if (Buffer.isBuffer(reply)) expect(got.toString('hex')).toBe(reply.toString('hex'));
  } finally {
    await peer.close();
  }
}

/** A hub member: connected, past its PROXY header, and joined (the example's hub said so). */
async function member(target: Target): Promise<Peer> {
  const peer = await Peer.connect(target.port);
  const header = target.header(peer.localPort);
  if (header) peer.write(header);
  await target.child.waitFor(
    `member ${peer.localPort} joined`,
    (output) => parseMarkers(output).some((m) => m.what === 'join' && m.port === peer.localPort) || undefined,
  );
  return peer;
}

/** `[uint32 BE length][payload]`. */
const frame = (payload: string) => {
  const header = Buffer.alloc(4);
  header.writeUInt32BE(Buffer.byteLength(payload));
  return Buffer.concat([header, Buffer.from(payload)]);
};

/** A line over `decodeLines()`'s default limit (65536 bytes), and over every limit the examples set. */
const LONG_LINE = 'x'.repeat(70_000);

/** The repository's demo certificate, which the TLS examples serve (self-signed: it is its own CA). */
const DEMO_CERT = fs.readFileSync(path.resolve(__dirname, '../../demos/certs/localhost.crt'));

/** Reads `socket` until `done` says the text read so far is complete; fails after 10 s. */
function readUntil(socket: net.Socket, what: string, done: (text: string) => boolean): Promise<string> {
  return new Promise((resolve, reject) => {
    let text = '';
    const timer = setTimeout(() => finish(new Error(`no ${what} within 10 s; read ${JSON.stringify(text)}`)), 10_000);
    const onData = (chunk: Buffer) => {
      text += chunk.toString('latin1');
      if (done(text)) finish();
    };
    const onEnd = () => finish(new Error(`closed before ${what}; read ${JSON.stringify(text)}`));
    const finish = (error?: Error) => {
      clearTimeout(timer);
      socket.removeListener('data', onData).removeListener('close', onEnd).removeListener('error', onEnd);
      socket.pause();
      if (error) reject(error);
      else resolve(text);
    };
    socket.on('data', onData).once('close', onEnd).once('error', onEnd);
    socket.resume();
  });
}

/**
 * A TLS client of the example (after the PROXY header, if any, and a STARTTLS exchange when asked):
 * trusts only the demo certificate, sends a line and waits for it to come back.
 */
async function tlsEchoed(target: Target, n: number, startTls: boolean): Promise<void> {
  const socket = net.connect({ port: target.port, host: '127.0.0.1' });
  try {
    await new Promise<void>((resolve, reject) => socket.once('connect', resolve).once('error', reject));
    const header = target.header(socket.localPort!);
    if (header) socket.write(header);
    if (startTls) {
      socket.write('STARTTLS\r\n');
      await readUntil(socket, 'the go-ahead', (text) => /^220 go ahead\r\n/m.test(text));
    }
    const secure = tls.connect({ socket, ca: DEMO_CERT, servername: 'localhost' });
    await new Promise<void>((resolve, reject) => secure.once('secureConnect', resolve).once('error', reject));
    secure.write(`hello ${n}\n`);
    await readUntil(secure, `the echo of "hello ${n}"`, (text) => text === `hello ${n}\n`);
    secure.end();
  } finally {
    socket.destroy();
  }
}

/** The first that fits an example is its probe; an example none fits fails its test (add one). */
const PROBES: Probe[] = [
  {
    name: 'after STARTTLS, a TLS client is echoed',
    fits: (code) => code.includes('upgradeTls('),
    // Reset while the server waits for the handshake.
    attack: 'STARTTLS\r\n',
    hostile: LONG_LINE,
    serve: (target, n) => tlsEchoed(target, n, true),
  },
  {
    name: 'a TLS client trusting the demo certificate is echoed',
    fits: (code) => code.includes("'demos/certs/localhost.key'") || code.includes("pem('demos/certs/localhost')"),
    // Neither is a ClientHello: both are failed handshakes, told as tlsClientError.
    attack: 'hello\n',
    hostile: LONG_LINE,
    serve: (target, n) => tlsEchoed(target, n, false),
  },
  {
    name: 'a RESP ECHO is answered with its bulk string',
    fits: (code) => code.includes('respServer('),
    attack: '*1\r\n$4\r\nPING\r\n',
    // A bulk string announced over every limit the examples set: refused at its header.
    hostile: '*2\r\n$3\r\nSET\r\n$999999999\r\n',
    serve: (target, n) => served(target, `*2\r\n$4\r\nECHO\r\n$6\r\nhello${n}\r\n`, Buffer.from(`$6\r\nhello${n}\r\n`)),
  },
  {
    name: 'a line one member says reaches another member',
    fits: (code) => /\bhub\.join\(/.test(code),
    attack: 'hello\n',
    hostile: LONG_LINE,
    async serve(target, n) {
      const listener = await member(target);
      const speaker = await member(target);
      try {
        speaker.write(`hello hub ${n}\n`);
        await listener.until(`"hello hub ${n}"`, (r) => r.toString().includes(`hello hub ${n}\n`));
      } finally {
        await Promise.all([listener.close(), speaker.close()]);
      }
    },
  },
  {
    name: 'a new client is greeted',
    fits: (code) => code.includes('hello world!'),
    attack: 'hi\n',
    hostile: LONG_LINE,
    serve: (target) => served(target, undefined, /^\[tcp\/ip\] hello world!\n/),
  },
  {
    name: 'a C struct is answered with b doubled',
    fits: (code) => code.includes('encodeStruct('),
    attack: cTestData(1),
    hostile: cTestData(1).subarray(0, 5),
    serve: (target, n) => served(target, cTestData(20 + n), cTestData(2 * (20 + n))),
  },
  {
    name: 'a C struct is read and logged',
    fits: (code) => code.includes('decodeStruct('),
    attack: cTestData(1),
    hostile: cTestData(1).subarray(0, 5),
    async serve(target, n) {
      const peer = await Peer.connect(target.port);
      try {
        peer.write(cTestData(4000 + n));
        await target.child.printed(new RegExp(`int b : ${4000 + n}\\b`));
      } finally {
        await peer.close();
      }
    },
  },
  {
    name: 'a length-field frame is answered upper-cased',
    fits: (code) => code.includes('decodeLengthField(') && code.includes('toUpperCase'),
    attack: frame('hello'),
    hostile: Buffer.from([0x7f, 0xff, 0xff, 0xff, 0x78]),
    serve: (target, n) => served(target, frame(`hello ${n}`), frame(`HELLO ${n}`)),
  },
  {
    name: 'a length-field frame is answered reversed',
    fits: (code) => code.includes('decodeLengthField(') && code.includes('.reverse()'),
    attack: frame('hello'),
    hostile: Buffer.from([0x7f, 0xff, 0xff, 0xff, 0x78]),
    serve: (target, n) => served(target, frame(`hello ${n}`), frame(`${n} olleh`)),
  },
  {
    name: 'an 8-byte record is answered with its checksum record',
    fits: (code) => code.includes('decodeFixedLength(8)'),
    attack: Buffer.alloc(8, 1),
    hostile: Buffer.alloc(3, 1),
    serve: (target, n) =>
      served(target, Buffer.from([1, 2, 3, 4, 5, 6, 7, n]), Buffer.from([0, 0, 0, 0, 0, 0, 0, 28 + n])),
  },
  {
    name: 'an NDJSON ping is answered',
    fits: (code) => code.includes('decodeNdjson('),
    attack: '{"id":1,"op":"ping"}\n',
    hostile: 'x'.repeat((1 << 20) + 2),
    serve: (target, n) => served(target, `{"id":${n},"op":"ping"}\n`, new RegExp(`^\\{"id":${n},"pong":true\\}\\n$`)),
  },
  {
    name: 'a line is answered upper-cased',
    fits: (code) => code.includes('toUpperCase'),
    attack: 'hello\n',
    hostile: LONG_LINE,
    serve: (target, n) => served(target, `hello ${n}\n`, new RegExp(`^HELLO ${n}\\r?\\n$`)),
  },
  {
    name: "a message is answered 'Sending: ' and itself",
    fits: (code) => code.includes('Sending: '),
    attack: 'hello\n',
    hostile: LONG_LINE,
    serve: (target, n) => served(target, `hello ${n}\n`, new RegExp(`^Sending: hello ${n}\\n$`)),
  },
  {
    name: 'a message is echoed',
    fits: (code) => code.includes('.data$'),
    attack: 'hello\n',
    hostile: LONG_LINE,
    serve: (target, n) => served(target, `hello ${n}\n`, new RegExp(`^hello ${n}\\n$`)),
  },
];

const probeOf = (sample: Sample) => PROBES.find((probe) => probe.fits(sample.code));
const needsRedis = (sample: Sample) => sample.code.includes('redisBackplane(');
const redisServer = findRedisServer();

/** The example as a CommonJS file whose `rxnet` is exampleShim's (lib/ bound to 127.0.0.1:0, telling what it does). */
function writeExample(dir: string, index: number, sample: Sample): string {
  const shim = path.join(dir, 'spec/docs/exampleShim.js');
  const { outputText } = ts.transpileModule(`${sample.code}\nexport {};\n`, {
    compilerOptions: { module: ts.ModuleKind.CommonJS, target: ts.ScriptTarget.ES2022, esModuleInterop: true },
  });
  const file = path.join(dir, 'examples', `example${index}.js`);
  fs.mkdirSync(path.dirname(file), { recursive: true });
  fs.writeFileSync(
    file,
    `// ${sample.origin}\n` +
      outputText
        .replace(/require\("rxnet"\)/g, `require(${JSON.stringify(shim)}).rxnet`)
        .replace(/require\("rxnet\/testing"\)/g, `require(${JSON.stringify(path.join(dir, 'lib/testing'))})`)
        .replace(/require\("rxnet\/otel"\)/g, `require(${JSON.stringify(path.join(dir, 'lib/observe/otelMetrics'))})`),
  );
  return file;
}

/** Children still running, for afterAll to stop when a test gave up on them. */
const children = new Set<NodeChild>();
let finished = false;

/** Runs the example, resets six peers on it, waits until its server has seen them go, then probes it twice. */
async function survives(file: string, probe: Probe, env: Record<string, string>): Promise<void> {
  if (finished) throw new Error('not run: the tests have ended');
  const child = new NodeChild([file], env);
  children.add(child);
  await runReporting(child, async () => {
    const listening = await child.waitFor('the server listens', (output) =>
      parseMarkers(output).find((m) => m.what === 'listening'),
    );
    const { port, proxyProtocol } = listening as { port: number; proxyProtocol: boolean };
    const header = (sourcePort: number) => (proxyProtocol ? proxyHeader(sourcePort, port) : '');
    const attackers = (
      await resetPeers(port, (localPort, i) =>
        Buffer.concat([Buffer.from(header(localPort)), Buffer.from(i % 2 === 0 ? probe.attack : probe.hostile)]),
      )
    ).length;
    // Before the first probe the server has closed every reset connection (no other has come yet), or is gone.
    await child.waitFor(`the server closed the ${attackers} reset connections`, (output) => {
      const markers = parseMarkers(output);
      const closed = markers.filter((m) => m.what === 'disconnect').length;
      return closed >= attackers || markers.some((m) => m.what === 'closed') || undefined;
    });
    const target: Target = { port, child, header };
    for (const n of [1, 2]) {
      if (parseMarkers(child.output).some((m) => m.what === 'closed') || !child.running)
        throw new Error(`the server closed after peers reset; its output:\n${child.report}`);
      await probe.serve(target, n);
    }
    expect(child.running).toBe(true);
  }).finally(() => children.delete(child));
}

describe('server examples of README.md and docs/*.md', () => {
  let tree: ReturnType<typeof transpileTree> | undefined;
  let upstream: net.Server | undefined;
  const upstreamSockets = new Set<net.Socket>();
  let redis: RunningRedis | undefined;
  const results = new Map<Sample, Promise<PromiseSettledResult<void>>>();

  beforeAll(async () => {
    tree = transpileTree(['spec/docs/exampleShim.ts', 'spec/docs/exampleMarkers.ts']);
    // A proxy example's upstream: an echo server.
    upstream = net.createServer((socket) => {
      upstreamSockets.add(socket);
      socket.on('error', () => undefined);
      socket.on('close', () => upstreamSockets.delete(socket));
      socket.pipe(socket);
    });
    await new Promise<void>((resolve) => upstream!.listen(0, '127.0.0.1', resolve));
    if (redisServer !== undefined && servers.some(needsRedis)) redis = await startRedis(redisServer, await freePort());
    const runnable = servers.filter((s) => probeOf(s) !== undefined && (!needsRedis(s) || redis !== undefined));
    const env: Record<string, string> = {
      // An example's metrics endpoint (docs/observability.md) on a free port.
      METRICS_PORT: '0',
      RXNET_EXAMPLE_UPSTREAM: String((upstream.address() as net.AddressInfo).port),
      ...(redis ? { RXNET_EXAMPLE_REDIS: redis.url } : {}),
    };
    // Two at a time: a child is a whole Node process.
    const settled = pool(
      runnable.map(
        (sample) => () => survives(writeExample(tree!.dir, servers.indexOf(sample), sample), probeOf(sample)!, env),
      ),
      2,
    );
    runnable.forEach((sample, i) => results.set(sample, settled[i]));
  });

  afterAll(async () => {
    // Every run stops its own child; those a failed or filtered-out test left running are stopped here.
    finished = true;
    await Promise.all([...children].map((child) => child.stop()));
    await Promise.all(results.values());
    for (const socket of upstreamSockets) socket.destroy();
    await new Promise<void>((resolve) => (upstream ? upstream.close(() => resolve()) : resolve()));
    await redis?.stop();
    tree?.remove();
  });

  it('are found: every block that calls listen(), at least twenty', () => {
    expect(servers.length).toBeGreaterThanOrEqual(20);
  });

  it('all serve their connections with serveEach, so that one failing connection never ends the server', () => {
    expect(servers.filter((sample) => !/\bserveEach\(/.test(sample.code)).map((sample) => sample.origin)).toEqual([]);
  });

  describe.each(servers.map((sample) => [sample.origin, sample] as const))('%s', (origin, sample) => {
    const probe = probeOf(sample);
    const skipped = needsRedis(sample) && redisServer === undefined;
    // Without redis-server the example is reported as skipped, never as passed, and the title says why.
    (skipped ? it.skip : it)(
      `serves a new client after six peers wrote (requests, or bytes its framing refuses) and reset: ${probe?.name ?? 'no probe fits'}${
        skipped ? ' (skipped: needs redis-server; apt-get install redis-server)' : ''
      }`,
      async () => {
        if (probe === undefined) throw new Error(`no probe fits ${origin}; add one to PROBES:\n${sample.code}`);
        const result = await results.get(sample)!;
        if (result.status === 'rejected') throw result.reason;
      },
    );
  });
});
