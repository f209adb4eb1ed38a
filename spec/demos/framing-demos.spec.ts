// The issue-4 demos: struct server and clients (TypeScript, the seed's binary client), line server; in process and as processes.
import { ChildProcess, spawn } from 'child_process';
import * as net from 'net';
import * as path from 'path';
import { ReplaySubject, Subject, filter, firstValueFrom, lastValueFrom } from 'rxjs';
import { binaryClient } from '../../demos/binary-client';
import { lineServer } from '../../demos/line-server';
import { structClient } from '../../demos/struct-client';
import { CTestData, structServer } from '../../demos/struct-server';
import { closed, plainConnect, readAll } from '../support/net';

const ROOT = path.resolve(__dirname, '../..');
const SEEDS = path.resolve(__dirname, '../fixtures/seed-programs');

/** A demo server's log: the lines so far, and each new line as it is written. */
class Log {
  readonly lines: string[] = [];
  private readonly added = new Subject<string>();
  readonly write = (line: string) => {
    this.lines.push(line);
    this.added.next(line);
  };
  /** Resolves once a line matching `pattern` was logged (the server may log after the client is done). */
  async waitFor(pattern: RegExp): Promise<void> {
    if (this.lines.some((l) => pattern.test(l))) return;
    await firstValueFrom(this.added.pipe(filter((l) => pattern.test(l))));
  }
  filter(pattern: RegExp): string[] {
    return this.lines.filter((l) => pattern.test(l));
  }
}

/** Starts a demo server on 127.0.0.1:0; resolves with its port and its log. */
async function start(
  make: (listening: (port: number) => void, log: (line: string) => void) => { unsubscribe(): void },
) {
  const bound = new ReplaySubject<number>(1);
  const log = new Log();
  const subscription = make((port) => bound.next(port), log.write);
  return { port: await firstValueFrom(bound), log, subscription };
}

function spawnNode(
  args: string[],
  env: Record<string, string> = {},
): { child: ChildProcess; out: () => string; exit: Promise<number | null> } {
  const child = spawn(process.execPath, args, {
    cwd: ROOT,
    env: { ...process.env, ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  child.stdout!.on('data', (c) => (out += c));
  child.stderr!.on('data', (c) => (out += c));
  const exit = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  return { child, out: () => out, exit };
}

describe('struct-server demo', () => {
  const startStructServer = () =>
    start((listening, log) =>
      structServer({
        port: 0,
        host: '127.0.0.1',
        log,
        listening: (a) => typeof a !== 'string' && listening(a.port),
      }).subscribe(),
    );

  it('lays out the seed CTestData as C does: 24 bytes, b at offset 4', () => {
    expect([CTestData.size, CTestData.offsetOf('b'), CTestData.offsetOf('c')]).toEqual([24, 4, 8]);
  });

  it('decodes structs the TypeScript client sends in 5-byte pieces, b read as the whole int32', async () => {
    const server = await startStructServer();
    try {
      const clientLog: string[] = [];
      await lastValueFrom(
        structClient({
          port: server.port,
          host: '127.0.0.1',
          a: 'Q',
          b: 70000,
          c: 'fifteen chars!!',
          count: 2,
          split: 5,
          pause: 1,
          log: (l) => clientLog.push(l),
        }),
        { defaultValue: undefined },
      );
      await server.log.waitFor(/disconnected$/);
      const fields = server.log.filter(/^(char|int) /);
      expect(fields).toEqual([
        'char a : Q',
        'int b : 70000',
        'char c : fifteen chars!!',
        'char a : Q',
        'int b : 70001',
        'char c : fifteen chars!!',
      ]);
      expect(clientLog).toContain('connection closed');
    } finally {
      server.subscription.unsubscribe();
    }
  });

  it("logs the seed's own binary client (01 02 03) as a partial struct and goes on serving", async () => {
    const server = await startStructServer();
    try {
      const seed = spawnNode([path.join(SEEDS, 'seed-binary-client.js')], { PORT: String(server.port) });
      expect(await seed.exit).toBe(0);
      await server.log.waitFor(/ended inside a struct: 3 of 24 byte\(s\) dropped/);
      expect(server.log.filter(/sent 3 byte\(s\): 01 02 03$/)).toHaveLength(1);
      // The reactive twin of that client does the same.
      await lastValueFrom(
        binaryClient(server.port, '127.0.0.1', () => undefined),
        { defaultValue: undefined },
      );
      await server.log.waitFor(/sent 3 byte\(s\): 01 02 03$/);
      expect(server.log.filter(/ended inside a struct/)).toHaveLength(2);
      // And a whole struct is still decoded afterwards.
      const socket = await plainConnect(server.port);
      socket.end(CTestData.encode({ a: 'A', b: 300, c: 'hello' }));
      await readAll(socket);
      await closed(socket);
      await server.log.waitFor(/^int b : 300$/);
    } finally {
      server.subscription.unsubscribe();
    }
  });
});

describe('binary-client demo', () => {
  it('writes 01 02 03 and ends, as the seed client does', async () => {
    const received = new Promise<Buffer>((resolve) => {
      const server = net.createServer((socket) => {
        const chunks: Buffer[] = [];
        socket.on('data', (c) => chunks.push(c));
        socket.on('end', () => {
          socket.end();
          server.close();
          resolve(Buffer.concat(chunks));
        });
      });
      server.listen(0, '127.0.0.1', () => {
        const { port } = server.address() as net.AddressInfo;
        lastValueFrom(
          binaryClient(port, '127.0.0.1', () => undefined),
          { defaultValue: undefined },
        ).catch(() => undefined);
      });
    });
    expect((await received).toString('hex')).toBe('010203');
  });
});

describe('line-server demo', () => {
  const startLineServer = (maxLine: number) =>
    start((listening, log) =>
      lineServer({
        port: 0,
        host: '127.0.0.1',
        maxLine,
        log,
        listening: (a) => typeof a !== 'string' && listening(a.port),
      }).subscribe(),
    );

  it('numbers and answers \\n and \\r\\n lines, decoding UTF-8 split across chunks', async () => {
    const server = await startLineServer(64);
    try {
      const socket = await plainConnect(server.port);
      socket.setNoDelay(true);
      const replies = readAll(socket);
      const firstReply = new Promise((resolve) => socket.once('data', resolve));
      const word = Buffer.from('wörld\n');
      // 'hello' and 'w' plus the first byte of 'ö' in one chunk; the rest only once line 1 was
      // answered, so the character is sure to be split across two reads.
      socket.write(Buffer.concat([Buffer.from('hello\r\n'), word.subarray(0, 2)]));
      await firstReply;
      socket.end(word.subarray(2));
      expect((await replies).toString('utf8')).toBe('1: hello\n2: wörld\n');
      await closed(socket);
      await server.log.waitFor(/disconnected after 2 line\(s\)$/);
    } finally {
      server.subscription.unsubscribe();
    }
  });

  it('answers a line over --max-line with ERR and ends only that connection', async () => {
    const server = await startLineServer(8);
    try {
      const polite = await plainConnect(server.port);
      const rude = await plainConnect(server.port);
      const rudeReplies = readAll(rude);
      rude.write('ok\nthis line is too long\n');
      expect((await rudeReplies).toString()).toBe('1: ok\nERR line longer than 8 bytes\n');
      rude.end();
      await closed(rude);
      const politeReplies = readAll(polite);
      polite.end('still ok\n');
      expect((await politeReplies).toString()).toBe('1: still ok\n');
      await closed(polite);
    } finally {
      server.subscription.unsubscribe();
    }
  });
});

describe('framing demos as processes', () => {
  it.each([
    ['struct-server', /struct server listening: .*"port":(\d+)/],
    ['line-server', /line server listening: .*"port":(\d+)/],
  ])('npm run demo -- %s --port 0 serves, then ends with exit code 0 on Ctrl-C', async (name, ready) => {
    const run = spawnNode(['-r', 'ts-node/register/transpile-only', 'demos/run.ts', name, '--port', '0']);
    try {
      const port = await new Promise<number>((resolve, reject) => {
        const check = () => {
          const m = ready.exec(run.out());
          if (m) resolve(Number(m[1]));
        };
        run.child.stdout!.on('data', check);
        run.child.once('exit', () => reject(new Error(`exited early: ${run.out()}`)));
      });
      const socket = await plainConnect(port);
      const replies = readAll(socket);
      socket.end(name === 'line-server' ? 'hi\n' : CTestData.encode({ a: 'A', b: 1, c: 'x' }));
      await replies;
      await closed(socket);
    } finally {
      run.child.kill('SIGINT');
    }
    expect(await run.exit).toBe(0);
    expect(run.out()).toMatch(name === 'line-server' ? /line 1: hi/ : /int b : 1/);
  });
});
