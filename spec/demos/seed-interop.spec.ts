// The issue-3 demos against the seed documents' own plain-net programs, over loopback.
import { ChildProcess, spawn } from 'child_process';
import * as path from 'path';
import { PassThrough } from 'stream';
import { ReplaySubject, firstValueFrom, lastValueFrom, toArray } from 'rxjs';
import { namedClients } from '../../demos/client';
import { echoServer } from '../../demos/echo-server';
import { GREETING, helloServer } from '../../demos/hello';
import { stdinClient } from '../../demos/stdin-client';
import { closed, plainConnect, readAll } from '../support/net';

const SEEDS = path.resolve(__dirname, '../fixtures/seed-programs');

/** Runs a seed program with PORT set; resolves with its output once it has exited. */
function runSeed(
  file: string,
  port: number,
): { child: ChildProcess; output: Promise<{ code: number | null; out: string }> } {
  const child = spawn(process.execPath, [path.join(SEEDS, file)], {
    env: { ...process.env, PORT: String(port) },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  child.stdout!.on('data', (c) => (out += c));
  child.stderr!.on('data', (c) => (out += c));
  const output = new Promise<{ code: number | null; out: string }>((resolve) =>
    child.once('exit', (code) => resolve({ code, out })),
  );
  return { child, output };
}

async function boundServer(start: (listening: (port: number) => void) => { unsubscribe(): void }) {
  const bound = new ReplaySubject<number>(1);
  const subscription = start((port) => bound.next(port));
  return { port: await firstValueFrom(bound), subscription };
}

describe('echo-server demo', () => {
  it("answers the seed's own three-client program, which prints each reply and exits 0", async () => {
    const lines: string[] = [];
    const { port, subscription } = await boundServer((listening) =>
      echoServer({
        port: 0,
        log: (l) => lines.push(l),
        listening: (a) => typeof a !== 'string' && listening(a.port),
      }).subscribe(),
    );
    try {
      const { code, out } = await runSeed('seed-client.js', port).output;
      expect(code).toBe(0);
      expect(out).toContain('Dwarves From Server: Sending: More Axes');
      expect(out).toContain('Elves From Server: Sending: More Arrows');
      expect(out).toContain('Hobbits From Server: Sending: More Pipe Weed');
      expect(lines).toContain('Remaining Connections: 0');
    } finally {
      subscription.unsubscribe();
    }
  });
});

/** Starts the seed's echo server on a free port (PORT=0) and reads the port from its first line. */
async function startSeedServer(): Promise<{ port: number; stop(): Promise<void> }> {
  const seed = runSeed('seed-server.js', 0);
  const port = await new Promise<number>((resolve, reject) => {
    let seen = '';
    seed.child.stdout!.on('data', (c: Buffer) => {
      seen += c.toString();
      const m = /Server listening: (\{.*\})/.exec(seen);
      if (m) resolve(JSON.parse(m[1]).port);
    });
    seed.child.once('exit', () => reject(new Error('seed server exited: ' + seen)));
  });
  return {
    port,
    stop: async () => {
      seed.child.kill();
      await seed.output;
    },
  };
}

describe('client demo', () => {
  it("talks to the seed's own server and completes when all three connections have closed", async () => {
    const seed = await startSeedServer();
    try {
      const log: string[] = [];
      const replies = await firstValueFrom(namedClients(seed.port, 'localhost', (l) => log.push(l)));
      expect(replies).toEqual({
        Dwarves: 'Sending: More Axes',
        Elves: 'Sending: More Arrows',
        Hobbits: 'Sending: More Pipe Weed',
      });
      expect(log.filter((l) => l === 'Socket Closed')).toHaveLength(3);
    } finally {
      await seed.stop();
    }
  });
});

describe('hello demo', () => {
  it('greets a plain net client and closes after the client ends', async () => {
    const { port, subscription } = await boundServer((listening) =>
      helloServer(0, (a) => typeof a !== 'string' && listening(a.port)).subscribe(),
    );
    try {
      const client = await plainConnect(port);
      const all = readAll(client);
      client.end();
      expect((await all).toString()).toBe(GREETING);
      await closed(client);
    } finally {
      subscription.unsubscribe();
    }
  });
});

describe('stdin-client demo', () => {
  it("forwards its input to the seed's server, prints the replies, and closes on end of input", async () => {
    const seed = await startSeedServer();
    try {
      const input = new PassThrough();
      const log: string[] = [];
      const done = lastValueFrom(stdinClient(seed.port, 'localhost', input, (l) => log.push(l)).pipe(toArray()));
      input.write('line one\n');
      input.end();
      await done;
      const text = log.join('\n');
      expect(log[0]).toBe('client-> connected to server');
      expect(text).toContain('Sending: Who needs a browser to communicate?');
      expect(text).toContain('line one');
      expect(log[log.length - 1]).toBe('client-> connection is closed');
    } finally {
      await seed.stop();
    }
  });
});
