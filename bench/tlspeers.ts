// The tls workload's children: TLS servers (hand-written Node and rxnet; TLS from the first byte, and STARTTLS) and
// the load generator that opens, handshakes, echoes one line and closes connections in a loop.
//   node tlspeers.js server KIND         prints "listening PORT"
//   node tlspeers.js load PORT KIND CONCURRENCY WARMUP_MS DURATION_MS   prints one JSON line (TlsLoadResult)
import * as fs from 'fs';
import * as net from 'net';
import * as path from 'path';
import { performance } from 'perf_hooks';
import * as tls from 'tls';
import { EMPTY, concat, defer, ignoreElements, mergeMap, takeWhile } from 'rxjs';
import { decodeLines, listen, sendTo, serveEach, upgradeTls, type UpgradeTlsServerOptions } from '../lib';

/** The servers: TLS from the first byte, or plain until `STARTTLS\n` (answered `go\n`), then TLS; each echoes. */
export const TLS_KINDS = ['plain-tls', 'rxnet-tls', 'plain-starttls', 'rxnet-starttls'] as const;
export type TlsKind = (typeof TLS_KINDS)[number];

export interface TlsLoadResult {
  /** Connections completed in the measured window (connect, handshake, one echoed line, close). */
  connections: number;
  /** Connections completed in all, warm-up included (the server's CPU time is divided by it). */
  total: number;
  perSecond: number;
  /** Per connection, from connect() to the close, in ms. */
  p50: number;
  p99: number;
  errors: number;
}

/**
 * The demo certificate (P-256, self-signed for localhost): what a user running the demos serves. The
 * runner's transpiled copy has no demos/certs: then the one of the repository the bench runs from.
 */
const CERTS = [path.resolve(__dirname, '../demos/certs'), path.resolve('demos/certs')].find((dir) =>
  fs.existsSync(path.join(dir, 'localhost.key')),
)!;
const key = () => fs.readFileSync(path.join(CERTS, 'localhost.key'));
const cert = () => fs.readFileSync(path.join(CERTS, 'localhost.crt'));

function noop(): void {}

/** A server of the workload, listening. */
export interface TlsServer {
  readonly port: number;
  /** Stops listening and destroys the connections left. */
  close(): void;
}

/** Starts a server of `kind` on 127.0.0.1:0. */
export function serve(kind: TlsKind): Promise<TlsServer> {
  const listening = (server: net.Server) =>
    new Promise<TlsServer>((resolve) => {
      const sockets = new Set<net.Socket>();
      server.on('connection', (socket: net.Socket) => {
        sockets.add(socket);
        socket.once('close', () => sockets.delete(socket));
      });
      server.listen(0, '127.0.0.1', () =>
        resolve({
          port: (server.address() as net.AddressInfo).port,
          close: () => {
            server.close();
            for (const socket of sockets) socket.destroy();
          },
        }),
      );
    });
  switch (kind) {
    case 'plain-tls':
      // As the Node docs write it, with the deadline listen() has by default.
      return listening(
        tls.createServer({ key: key(), cert: cert(), handshakeTimeout: 10_000 }, (socket) => {
          socket.on('error', noop);
          socket.pipe(socket);
        }),
      );
    case 'plain-starttls': {
      const secureContext = tls.createSecureContext({ key: key(), cert: cert() });
      return listening(
        net.createServer((socket) => {
          socket.on('error', noop);
          let seen = '';
          const onData = (chunk: Buffer) => {
            seen += chunk.toString('latin1');
            if (!seen.includes('\n')) return;
            // Stop the flow before the listener goes, or the next chunk (the ClientHello) is dropped.
            socket.pause();
            socket.removeListener('data', onData);
            if (seen !== 'STARTTLS\n') return void socket.destroy();
            socket.write('go\n');
            const secure = new tls.TLSSocket(socket, { isServer: true, secureContext });
            secure.on('error', () => secure.destroy());
            secure.pipe(secure);
          };
          socket.on('data', onData);
        }),
      );
    }
    case 'rxnet-tls':
    case 'rxnet-starttls':
      return new Promise((resolve, reject) => {
        const starttls: UpgradeTlsServerOptions = { isServer: true, key: key(), cert: cert() };
        const secure = kind === 'rxnet-tls';
        const subscription = listen({
          port: 0,
          host: '127.0.0.1',
          tls: secure ? { key: key(), cert: cert() } : undefined,
          listening: (address) =>
            typeof address !== 'string' && resolve({ port: address.port, close: () => subscription.unsubscribe() }),
        })
          .pipe(
            serveEach((conn) => {
              if (secure) return conn.data$.pipe(sendTo(conn));
              let asked = false;
              const plain = conn.data$.pipe(
                decodeLines(),
                takeWhile((line) => !(asked = line.toString() === 'STARTTLS')),
                ignoreElements(),
              );
              const upgraded = defer(() => {
                if (!asked) return EMPTY;
                conn.write('go\n');
                return upgradeTls(conn, starttls);
              }).pipe(mergeMap((tlsConn) => tlsConn.data$.pipe(sendTo(tlsConn))));
              return concat(plain, upgraded);
            }),
          )
          .subscribe({ error: reject });
      });
  }
}

/** Reads `socket` until `text` has come. */
function readUntil(socket: net.Socket, text: string): Promise<void> {
  return new Promise((resolve, reject) => {
    let seen = '';
    const onData = (chunk: Buffer) => {
      seen += chunk.toString('latin1');
      if (!seen.endsWith(text)) return;
      socket.removeListener('data', onData).removeListener('close', onClose);
      socket.pause();
      resolve();
    };
    const onClose = () => reject(new Error(`closed before ${JSON.stringify(text)}`));
    socket.on('data', onData).once('close', onClose);
    socket.resume();
  });
}

/** One connection: connect, (STARTTLS,) handshake, one line echoed, close; resolves with its ms. */
async function once(port: number, startTls: boolean, ca: Buffer): Promise<number> {
  const started = performance.now();
  const socket = net.connect({ port, host: '127.0.0.1' });
  socket.on('error', noop);
  try {
    await new Promise<void>((resolve, reject) => socket.once('connect', resolve).once('close', reject));
    if (startTls) {
      socket.write('STARTTLS\n');
      await readUntil(socket, 'go\n');
    }
    const secure = tls.connect({ socket, ca, servername: 'localhost' });
    secure.on('error', noop);
    await new Promise<void>((resolve, reject) => secure.once('secureConnect', resolve).once('close', reject));
    secure.write('ping\n');
    await readUntil(secure, 'ping\n');
    secure.end();
    await new Promise<void>((resolve) => (secure.closed ? resolve() : secure.once('close', () => resolve())));
  } finally {
    socket.destroy();
  }
  return performance.now() - started;
}

/** `concurrency` loops of connections for warm-up + duration; counts those that finish in the measured window. */
export async function load(port: number, kind: TlsKind, concurrency: number, warmupMs: number, durationMs: number) {
  const ca = cert();
  const startTls = kind.endsWith('starttls');
  const measureFrom = performance.now() + warmupMs;
  const end = measureFrom + durationMs;
  const times: number[] = [];
  let total = 0;
  let errors = 0;
  const loop = async () => {
    while (performance.now() < end) {
      try {
        const ms = await once(port, startTls, ca);
        total++;
        if (performance.now() >= measureFrom && performance.now() < end) times.push(ms);
      } catch {
        errors++;
      }
    }
  };
  await Promise.all(Array.from({ length: concurrency }, loop));
  times.sort((a, b) => a - b);
  const at = (q: number) =>
    times.length === 0 ? NaN : times[Math.min(times.length - 1, Math.floor(q * times.length))];
  const result: TlsLoadResult = {
    connections: times.length,
    total,
    perSecond: (times.length * 1000) / durationMs,
    p50: at(0.5),
    p99: at(0.99),
    errors,
  };
  return result;
}

async function main(argv: string[]): Promise<void> {
  const [mode, ...rest] = argv;
  if (mode === 'server') {
    const { port } = await serve(rest[0] as TlsKind);
    // Exit (rather than die) on the runner's SIGTERM, so that node --cpu-prof writes its profile.
    process.once('SIGTERM', () => process.exit(0));
    console.log(`listening ${port}`);
  } else if (mode === 'load') {
    const [port, kind, concurrency, warmup, duration] = rest;
    const result = await load(Number(port), kind as TlsKind, Number(concurrency), Number(warmup), Number(duration));
    console.log(JSON.stringify(result));
  } else throw new Error(`usage: tlspeers.js server KIND | load PORT KIND CONCURRENCY WARMUP_MS DURATION_MS`);
}

if (require.main === module) {
  main(process.argv.slice(2)).catch((error: Error) => {
    console.error(error.message);
    process.exitCode = 1;
  });
}
