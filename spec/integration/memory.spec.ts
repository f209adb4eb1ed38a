// Memory per idle connection: an rxnet line echo server against a hand-written net one, measured in the same run.
import { spawn } from 'child_process';
import * as net from 'net';
import { setFlagsFromString } from 'v8';
import { runInNewContext } from 'vm';
import { listen } from '../../lib/core/listen';
import { decodeLines } from '../../lib/framing/lines/decodeLines';
import { sendTo } from '../../lib/core/sendTo';
import { serveEach } from '../../lib/core/serveEach';
import type { Connection } from '../../lib/types';

setFlagsFromString('--expose-gc');
const gc = runInNewContext('gc') as () => void;

const CONNECTIONS = 1000;

/** A child process that opens `count` connections to `port` and keeps them open until killed. */
const CLIENT = `
const net = require('net');
const [port, count] = process.argv.slice(1).map(Number);
let open = 0;
for (let i = 0; i < count; i++) {
  const socket = net.connect(port, '127.0.0.1', () => { if (++open === count) process.send('open'); });
  socket.on('error', () => {});
}`;

async function until(condition: () => boolean): Promise<void> {
  while (!condition()) await new Promise((resolve) => setImmediate(resolve));
}

function heapUsed(): number {
  gc();
  gc();
  return process.memoryUsage().heapUsed;
}

/** Heap bytes per connection the server in this process holds for CONNECTIONS idle clients. */
async function heapPerIdleConnection(port: number, accepted: () => number): Promise<number> {
  const before = heapUsed();
  const child = spawn(process.execPath, ['-e', CLIENT, String(port), String(CONNECTIONS)], {
    stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
  });
  try {
    await new Promise<void>((resolve, reject) => {
      child.once('message', () => resolve());
      child.once('exit', (code) => reject(new Error(`client exited with ${code}`)));
    });
    // Every connection is open on the client's side; wait until the server has accepted them all.
    await until(() => accepted() === CONNECTIONS);
    return (heapUsed() - before) / CONNECTIONS;
  } finally {
    const exited = new Promise((resolve) => child.once('exit', resolve));
    child.kill();
    await exited;
  }
}

/** The hand-written server the bench compares with: a line splitter, one write per line. */
async function plainPerConnection(): Promise<number> {
  const sockets = new Set<net.Socket>();
  const server = net.createServer((socket) => {
    sockets.add(socket);
    let rest: Buffer | undefined;
    socket.on('data', (chunk: Buffer) => {
      let data = rest ? Buffer.concat([rest, chunk]) : chunk;
      let i: number;
      while ((i = data.indexOf(10)) >= 0) {
        socket.write(data.subarray(0, i + 1));
        data = data.subarray(i + 1);
      }
      rest = data.length > 0 ? data : undefined;
    });
    socket.on('error', () => {});
    socket.on('close', () => sockets.delete(socket));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  try {
    return await heapPerIdleConnection((server.address() as net.AddressInfo).port, () => sockets.size);
  } finally {
    for (const socket of sockets) socket.destroy();
    await new Promise((resolve) => server.close(resolve));
    await until(() => sockets.size === 0);
  }
}

/** rxnet as its README shows a server: listen, lines, sendTo, one handler per connection. */
async function rxnetPerConnection(): Promise<number> {
  let port = 0;
  const open = new Set<Connection>();
  const subscription = listen({
    port: 0,
    host: '127.0.0.1',
    backlog: 2048,
    listening: (address) => (port = typeof address === 'string' ? 0 : address.port),
    events: (event) => {
      if (event.type === 'connection') open.add(event.connection);
      else if (event.type === 'disconnect') open.delete(event.connection);
    },
  })
    .pipe(
      serveEach((conn) =>
        conn.data$.pipe(decodeLines({ includeDelimiter: true }), sendTo(conn, { pauseSource: conn })),
      ),
    )
    .subscribe();
  try {
    await until(() => port !== 0);
    return await heapPerIdleConnection(port, () => open.size);
  } finally {
    subscription.unsubscribe();
    // The next measurement starts once every socket of this one has closed.
    await until(() => open.size === 0);
  }
}

describe('memory per idle connection', () => {
  it(`stays within 1.2 kB of a hand-written net server's (${CONNECTIONS} loopback connections each)`, async () => {
    // The first run of each also pays for compiling the code paths it takes; then the median of three
    // runs each, alternating, since one plain run alone moved between 0.73 and 1.08 kB on a loaded
    // machine (a CI run failed on such a low one).
    await plainPerConnection();
    await rxnetPerConnection();
    const plains: number[] = [];
    const rxnets: number[] = [];
    for (let i = 0; i < 3; i++) {
      plains.push(await plainPerConnection());
      rxnets.push(await rxnetPerConnection());
    }
    const median = (values: number[]) => [...values].sort((a, b) => a - b)[1];
    const plain = median(plains);
    const rxnet = median(rxnets);
    // Measured in this spec: about 0.9-1.1 kB for plain net and 1.9-2.0 kB for rxnet (1.6-1.8 before
    // the first-byte and frame deadlines came on by default: about 0.1 kB of it, with their times kept
    // as small integers); rxnet was 3.7 kB (with mergeMap in place of serveEach) before
    // single-finalizer subscribers, closure-free Observables, lazily made framers, packed flags and
    // fewer kept addresses.
    const runs = (values: number[]) => values.map(Math.round).join(', ');
    console.log(`idle heap per connection (B): plain ${runs(plains)}; rxnet ${runs(rxnets)}`);
    expect({ plain: Math.round(plain), rxnet: Math.round(rxnet), extra: rxnet - plain < 1200 }).toEqual({
      plain: expect.any(Number),
      rxnet: expect.any(Number),
      extra: true,
    });
  }, 90_000);
});
