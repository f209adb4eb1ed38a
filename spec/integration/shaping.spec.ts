// Traffic shaping over loopback sockets: a 10 MB reply written at 1 MB/s, a 10 MB upload read at 1 MB/s in bounded heap.
// MB is 1,000,000 bytes throughout, as in a network rate. Both transfers take ~10 s and run side by side.
import type * as net from 'net';
import { Observable, filter, ignoreElements, tap } from 'rxjs';
import { setFlagsFromString } from 'v8';
import { runInNewContext } from 'vm';
import { shapeTraffic } from '../../lib/shaping/shapeTraffic';
import type { Connection } from '../../lib/types';
import { closed, expectTcpHandlesBackTo, plainConnect, startServer, tcpHandleCount } from '../support/net';
import type { Started } from '../support/net';

setFlagsFromString('--expose-gc');
const gc = runInNewContext('gc') as () => void;

const MB = 1_000_000;
const SIZE = 10 * MB;
/** Bytes per second, each way. */
const LIMIT = 1 * MB;
/** What the transfers should take: 10 s (9.9 s in theory: the default burst of 100 kB goes at once), ± 10 %. */
const EXPECTED_MS = (SIZE / LIMIT) * 1000;

/** Writes `payload` in 64 KiB views, heeding write()'s return value and writable$, then ends; completes when flushed. */
function writeAll(conn: Connection, payload: Buffer): Observable<never> {
  return new Observable<never>((subscriber) => {
    let offset = 0;
    let ended = false;
    const more = () => {
      while (offset < payload.length) {
        const chunk = payload.subarray(offset, offset + 65_536);
        offset += chunk.length;
        if (!conn.write(chunk)) return;
      }
      if (ended) return;
      ended = true;
      conn.end(undefined, (error) => (error ? subscriber.error(error) : subscriber.complete()));
    };
    return conn.writable$.pipe(filter(Boolean)).subscribe(() => more());
  });
}

/**
 * Live memory after a collection, above what it was when called, sampled a few times during the transfers: the JS
 * heap, and the ArrayBuffers behind Buffers (where chunks read would pile up). A collection takes ~0.2 s in Jest's
 * heap, time the shaped sockets then lose, so sampling is sparse.
 */
function sampleHeap(atMs: number[]): { peak(): number; stop(): void } {
  const live = () => {
    gc();
    gc();
    const { heapUsed, arrayBuffers } = process.memoryUsage();
    return heapUsed + arrayBuffers;
  };
  const start = live();
  let peak = 0;
  const timers = atMs.map((ms) => setTimeout(() => (peak = Math.max(peak, live() - start)), ms));
  return {
    peak: () => peak,
    stop: () => timers.forEach((timer) => clearTimeout(timer)),
  };
}

interface Transfer {
  bytes: number;
  ms: number;
}

describe('traffic shaping over loopback', () => {
  let baseline = 0;
  const servers: Started[] = [];
  const sockets: net.Socket[] = [];
  let download: Promise<Transfer>;
  let upload: Promise<Transfer>;
  let heap: ReturnType<typeof sampleHeap>;

  beforeAll(async () => {
    baseline = tcpHandleCount();
    const reply = Buffer.alloc(SIZE, 'r');
    const sent = Buffer.alloc(SIZE, 'u');

    // (1) The server writes 10 MB through a view shaped at 1 MB/s; a plain client reads as fast as it can.
    const writer = await startServer((conn) => writeAll(shapeTraffic(conn, { writeLimit: LIMIT }), reply));
    servers.push(writer);

    // (2) A plain client sends 10 MB as fast as it can; the server reads it through a view shaped at 1 MB/s.
    let received = 0;
    let finished: (at: number) => void = () => undefined;
    const readAll = new Promise<number>((resolve) => (finished = resolve));
    const reader = await startServer((conn) =>
      shapeTraffic(conn, { readLimit: LIMIT }).data$.pipe(
        tap({
          next: (chunk) => (received += chunk.length),
          complete: () => {
            finished(Date.now());
            conn.end();
          },
        }),
        ignoreElements(),
      ),
    );
    servers.push(reader);

    const downloader = await plainConnect(writer.port);
    const uploader = await plainConnect(reader.port);
    sockets.push(downloader, uploader);
    // The baseline once both connections are up, just before the bytes flow: what grows after is the transfer's.
    heap = sampleHeap([5000]);

    const started = Date.now();
    download = new Promise((resolve, reject) => {
      let bytes = 0;
      downloader.on('data', (chunk: Buffer) => (bytes += chunk.length));
      downloader.once('end', () => resolve({ bytes, ms: Date.now() - started }));
      downloader.once('error', reject);
    });
    uploader.on('data', () => undefined);
    uploader.end(sent);
    upload = readAll.then((at) => ({ bytes: received, ms: at - started }));
    // Each test awaits its own; a failure meanwhile is theirs to report, not an unhandled rejection.
    download.catch(() => undefined);
    upload.catch(() => undefined);
  });

  afterAll(async () => {
    heap?.stop();
    for (const server of servers) server.subscription.unsubscribe();
    for (const socket of sockets) socket.destroy();
    await Promise.all(sockets.map((socket) => closed(socket)));
    await expectTcpHandlesBackTo(baseline);
  });

  it('writes a 10 MB reply at writeLimit 1 MB/s: the plain client has it all in 10 s ± 10 %', async () => {
    const { bytes, ms } = await download;
    console.log(`shaped download: ${bytes} B in ${ms} ms`);
    expect(bytes).toBe(SIZE);
    expect(ms).toBeGreaterThanOrEqual(EXPECTED_MS * 0.9);
    expect(ms).toBeLessThanOrEqual(EXPECTED_MS * 1.1);
  }, 30_000);

  it('reads a 10 MB upload at readLimit 1 MB/s in ~10 s, pausing the socket: heap and buffers grow by under 2 MB', async () => {
    const { bytes, ms } = await upload;
    const peak = heap.peak();
    console.log(`shaped upload: ${bytes} B in ${ms} ms, memory peak +${peak} B`);
    expect(bytes).toBe(SIZE);
    expect(ms).toBeGreaterThanOrEqual(EXPECTED_MS * 0.9);
    expect(ms).toBeLessThanOrEqual(EXPECTED_MS * 1.1);
    expect(peak).toBeLessThan(2 * MB);
  }, 30_000);
});
