// The bench's Netty and Go echo servers (bench/peers.ts): built, started, and echoing exactly what a real socket sends them.
import * as fs from 'fs';
import * as net from 'net';
import * as os from 'os';
import * as path from 'path';
import { buildPeer, peerToolchain, processCpu, startPeer, type PeerKind, type PeerReply } from '../../bench/peers';

const TIMEOUT = 60_000;

/** A loopback client that gathers what it receives and can wait for a byte count or for the close. */
class Client {
  private readonly chunks: Buffer[] = [];
  private length = 0;
  private waiters: (() => void)[] = [];
  private ended = false;
  readonly closed: Promise<void>;

  private constructor(readonly socket: net.Socket) {
    socket.on('data', (chunk: Buffer) => {
      this.chunks.push(chunk);
      this.length += chunk.length;
      this.wake();
    });
    // A server that closes on an oversized frame may reset the connection.
    socket.on('error', () => {});
    this.closed = new Promise((resolve) =>
      socket.once('close', () => {
        this.ended = true;
        this.wake();
        resolve();
      }),
    );
  }

  static connect(port: number): Promise<Client> {
    return new Promise((resolve, reject) => {
      const socket = net.connect({ port, host: '127.0.0.1' }, () => {
        socket.removeListener('error', reject);
        resolve(new Client(socket));
      });
      socket.once('error', reject);
    });
  }

  /** Everything received once at least `n` bytes have come; rejects if the connection closes first. */
  async received(n: number): Promise<Buffer> {
    while (this.length < n) {
      if (this.ended) throw new Error(`connection closed after ${this.length} of ${n} bytes`);
      await new Promise<void>((resolve) => this.waiters.push(resolve));
    }
    return Buffer.concat(this.chunks);
  }

  write(bytes: Buffer | string): void {
    this.socket.write(bytes);
  }

  destroy(): void {
    this.socket.destroy();
  }

  private wake(): void {
    const waiters = this.waiters;
    this.waiters = [];
    for (const wake of waiters) wake();
  }
}

function frame(payload: Buffer | string): Buffer {
  const body = Buffer.from(payload);
  const header = Buffer.alloc(4);
  header.writeUInt32BE(body.length);
  return Buffer.concat([header, body]);
}

function bytesOf(size: number, seed: number): Buffer {
  const bytes = Buffer.alloc(size);
  for (let i = 0; i < size; i++) bytes[i] = (i * 31 + seed) & 0xff;
  return bytes;
}

/**
 * What a client sends, in three writes: a whole message and the first part of the next; once the
 * first message has come back (so the server has seen the part alone), the rest of it; then several
 * messages in one write. The echo must be all of it, byte for byte.
 */
function exchange(framing: 'lines' | 'length'): { first: Buffer; split: [Buffer, Buffer]; several: Buffer } {
  if (framing === 'lines') {
    const longLine = Buffer.concat([Buffer.from('x'.repeat(40_000)), Buffer.from('\n')]);
    return {
      first: Buffer.from('first line\n'),
      split: [Buffer.from('split ac'), Buffer.from('ross two writes\n')],
      several: Buffer.concat([Buffer.from('a\nb\r\n\nhé ☃ 😀\n'), longLine, Buffer.from('last\n')]),
    };
  }
  const second = frame('split across two writes, inside its header');
  return {
    first: frame('first frame'),
    split: [second.subarray(0, 2), second.subarray(2)],
    // An empty frame, a small one, one larger than 64 KiB with its header (the largest allowed).
    several: Buffer.concat([frame(''), frame('x'), frame(bytesOf(40_000, 1)), frame(bytesOf(65_536, 2)), frame('end')]),
  };
}

const EXPECTED_COMM: Record<PeerKind, string> = { netty: 'java', go: 'echo' };

for (const kind of ['netty', 'go'] as const) {
  const toolchain = peerToolchain(kind);
  // Without the toolchain the tests are registered as skipped (never passed) and their titles say why.
  const maybe = toolchain.ok ? it : it.skip;
  const setup = toolchain.ok ? 'toolchain found' : `skipped: ${toolchain.reason}`;
  if (!toolchain.ok) console.warn(`peers spec: ${kind} skipped: ${toolchain.reason}`);

  describe(`${kind} echo peer [${setup}]`, () => {
    let outDir = '';
    let argv: string[] = [];

    beforeAll(() => {
      if (!toolchain.ok) return;
      outDir = fs.mkdtempSync(path.join(os.tmpdir(), `rxnet-peer-${kind}-`));
      argv = buildPeer(kind, outDir);
    }, TIMEOUT);

    afterAll(() => {
      if (outDir !== '') fs.rmSync(outDir, { recursive: true, force: true });
    });

    maybe('builds once: a second build reuses the output newer than the source', () => {
      const built = kind === 'go' ? path.join(outDir, 'echo') : path.join(outDir, 'EchoServer.class');
      const before = fs.statSync(built).mtimeMs;
      expect(buildPeer(kind, outDir)).toEqual(argv);
      expect(fs.statSync(built).mtimeMs).toBe(before);
    });

    const cases: ['lines' | 'length', PeerReply][] = [];
    for (const framing of ['lines', 'length'] as const)
      for (const reply of ['cut', 'new', 'string'] as const) cases.push([framing, reply]);

    maybe.each(cases)(
      '%s with %s replies echoes a split message and several in one write, byte for byte',
      async (framing, reply) => {
        const peer = await startPeer(argv, framing, reply);
        let client: Client | undefined;
        try {
          client = await Client.connect(peer.port);
          const { first, split, several } = exchange(framing);
          client.write(Buffer.concat([first, split[0]]));
          expect(await client.received(first.length)).toEqual(first);
          client.write(split[1]);
          const sent = Buffer.concat([first, ...split, several]);
          client.write(several);
          const echoed = await client.received(sent.length);
          expect(echoed.length).toBe(sent.length);
          expect(echoed.equals(sent)).toBe(true);
        } finally {
          client?.destroy();
          await peer.stop();
        }
      },
      TIMEOUT,
    );

    maybe.each(['lines', 'length'] as const)(
      '%s: an oversized message closes its connection only',
      async (framing) => {
        const peer = await startPeer(argv, framing, 'cut');
        const clients: Client[] = [];
        try {
          const bad = await Client.connect(peer.port);
          clients.push(bad);
          const good = await Client.connect(peer.port);
          clients.push(good);
          bad.write(framing === 'lines' ? Buffer.alloc(70_000, 'x') : frame(Buffer.alloc(70_000)));
          await bad.closed;
          const message = framing === 'lines' ? Buffer.from('still here\n') : frame('still here');
          good.write(message);
          expect(await good.received(message.length)).toEqual(message);
        } finally {
          for (const client of clients) client.destroy();
          await peer.stop();
        }
      },
      TIMEOUT,
    );

    maybe(
      'reports the server process itself, its CPU time and faults, until it has stopped',
      async () => {
        const peer = await startPeer(argv, 'lines', 'cut');
        let stopped = false;
        try {
          // The pid is the server's own: the shell that raised the fd limit exec'd into it.
          expect(fs.readFileSync(`/proc/${peer.pid}/comm`, 'utf8').trim()).toBe(EXPECTED_COMM[kind]);
          const sample = processCpu(peer.pid);
          expect(sample).toBeDefined();
          expect(sample!.cpu).toBeGreaterThanOrEqual(0);
          expect(sample!.faults).toBeGreaterThan(0);
          await peer.stop();
          stopped = true;
          expect(processCpu(peer.pid)).toBeUndefined();
        } finally {
          if (!stopped) await peer.stop();
        }
      },
      TIMEOUT,
    );
  });
}

describe('processCpu', () => {
  it('counts up the CPU time of a live process as it works', () => {
    const before = processCpu(process.pid)!;
    const start = process.cpuUsage();
    // Busy for 50 ms of CPU: several clock ticks.
    let spin = 0;
    while (process.cpuUsage(start).user < 50_000) spin++;
    const after = processCpu(process.pid)!;
    expect(spin).toBeGreaterThan(0);
    expect(after.cpu).toBeGreaterThan(before.cpu);
    expect(after.faults).toBeGreaterThanOrEqual(before.faults);
  });
});
