// The chat demo over real sockets: three clients, nicknames, notices, idle and long-line disconnects, shutdown, the client demo.
import { ChildProcess, spawn } from 'child_process';
import * as net from 'net';
import * as path from 'path';
import { PassThrough } from 'stream';
import { ReplaySubject, Subject, VirtualTimeScheduler, firstValueFrom, lastValueFrom, toArray } from 'rxjs';
import type { Subscription } from 'rxjs';
import { chatClient } from '../../demos/chat-client';
import { chatServer } from '../../demos/chat';
import type { ChatServerOptions } from '../../demos/chat';
import { serverMetrics } from '../../lib/observe/metrics';
import { LineClient } from '../support/lineClient';
import { expectTcpHandlesBackTo, tcpHandleCount } from '../support/net';

const ROOT = path.resolve(__dirname, '../..');
const SEEDS = path.resolve(__dirname, '../fixtures/seed-programs');

interface Chat {
  port: number;
  subscription: Subscription;
  log: string[];
  /** Resolves when the server Observable completes; rejects on its error. */
  done: Promise<void>;
}

async function startChat(options: Partial<ChatServerOptions> = {}): Promise<Chat> {
  const bound = new ReplaySubject<number>(1);
  const log: string[] = [];
  let subscription!: Subscription;
  const done = new Promise<void>((resolve, reject) => {
    subscription = chatServer({
      port: 0,
      host: '127.0.0.1',
      log: (l) => log.push(l),
      listening: (a) => typeof a !== 'string' && bound.next(a.port),
      ...options,
    }).subscribe({ complete: resolve, error: reject });
  });
  return { port: await firstValueFrom(bound), subscription, log, done };
}

/** Connects a line client and waits for its welcome; resolves with the client and its guest name. */
async function join(chat: Chat): Promise<{ client: LineClient; guest: string }> {
  const client = await LineClient.connect(chat.port);
  const welcome = await client.next(/^\* welcome, /);
  return { client, guest: /welcome, (guest\d+)!/.exec(welcome)![1] };
}

/** Joins and takes a nickname; the others present see the change. */
async function joinAs(chat: Chat, nick: string, others: LineClient[]): Promise<LineClient> {
  const { client, guest } = await join(chat);
  for (const o of others) await o.next(`* ${guest} joined`);
  client.say(`/nick ${nick}`);
  await client.next(`* you are now ${nick}`);
  for (const o of others) await o.next(`* ${guest} is now ${nick}`);
  return client;
}

let baseline = 0;
beforeEach(() => {
  baseline = tcpHandleCount();
});
afterEach(() => expectTcpHandlesBackTo(baseline));

describe('chat demo with three clients', () => {
  it('announces joins, relays each line to the other two under its nickname, answers /who, announces leaves', async () => {
    const chat = await startChat();
    const alice = await joinAs(chat, 'alice', []);
    const bob = await joinAs(chat, 'bob', [alice]);
    const carol = await joinAs(chat, 'carol', [alice, bob]);
    try {
      alice.socket.write('hello, both of you\r\n');
      expect(await bob.next()).toBe('<alice> hello, both of you');
      expect(await carol.next()).toBe('<alice> hello, both of you');

      bob.say('/me waves');
      expect(await alice.next()).toBe('* bob waves');
      expect(await carol.next()).toBe('* bob waves');

      carol.say('/who');
      expect(await carol.next()).toBe('* 3 online: alice, bob, carol');

      // Nobody heard their own words back.
      expect(alice.unread()).toEqual([]);
      expect(bob.unread()).toEqual([]);

      bob.say('/quit');
      expect(await bob.next()).toBe('* bye');
      expect(await bob.closed).toEqual({ hadError: false });
      expect(await alice.next()).toBe('* bob left (quit)');
      expect(await carol.next()).toBe('* bob left (quit)');

      carol.end();
      await carol.closed;
      expect(await alice.next()).toBe('* carol left');
      expect(chat.log).toEqual(expect.arrayContaining(['bob left (quit)', 'carol left']));
    } finally {
      for (const c of [alice, bob, carol]) c.destroy();
      await Promise.all([alice, bob, carol].map((c) => c.closed));
      chat.subscription.unsubscribe();
    }
  });

  it('refuses a nickname that is taken or malformed, and answers an unknown command', async () => {
    const chat = await startChat();
    const alice = await joinAs(chat, 'alice', []);
    const { client: other } = await join(chat);
    try {
      other.say('/nick ALICE');
      expect(await other.next()).toBe('* ALICE is taken');
      other.say('/nick no spaces please');
      expect(await other.next()).toBe('* a nickname is 1 to 20 letters, digits, _ or -');
      other.say('/dance');
      expect(await other.next()).toBe('* unknown command /dance; /help lists them');
      other.say('');
      other.say('still a guest');
      expect(await alice.next(/still a guest/)).toMatch(/^<guest\d+> still a guest$/);
    } finally {
      for (const c of [alice, other]) c.destroy();
      await Promise.all([alice.closed, other.closed]);
      chat.subscription.unsubscribe();
    }
  });

  it('disconnects a member silent for the idle time, telling it and the others, while the talking ones stay', async () => {
    const clock = new VirtualTimeScheduler();
    /** Moves the idle clock to `frame`, running the timers due by then. */
    const advanceTo = (frame: number) => {
      clock.schedule(() => {}, frame - clock.now());
      clock.maxFrames = frame;
      clock.flush();
    };
    const chat = await startChat({ idle: 1000, scheduler: clock });
    const sleepy = await joinAs(chat, 'sleepy', []);
    const bob = await joinAs(chat, 'bob', [sleepy]);
    const carol = await joinAs(chat, 'carol', [sleepy, bob]);
    try {
      advanceTo(600);
      bob.say('still here');
      carol.say('me too');
      await sleepy.next('<bob> still here');
      await sleepy.next('<carol> me too');
      advanceTo(1000);
      expect(await sleepy.next()).toBe('* idle for 1 s, disconnecting');
      await sleepy.closed;
      expect(sleepy.ended).toBe(true);
      expect(await bob.next(/^\* sleepy/)).toBe('* sleepy left (idle)');
      expect(await carol.next(/^\* sleepy/)).toBe('* sleepy left (idle)');
      bob.say('/who');
      expect(await bob.next(/online/)).toBe('* 2 online: bob, carol');
    } finally {
      for (const c of [sleepy, bob, carol]) c.destroy();
      await Promise.all([sleepy, bob, carol].map((c) => c.closed));
      chat.subscription.unsubscribe();
    }
  });

  it('disconnects a member that sends a line over the limit and goes on with the others', async () => {
    const chat = await startChat({ maxLineLength: 64 });
    const alice = await joinAs(chat, 'alice', []);
    const bob = await joinAs(chat, 'bob', [alice]);
    const carol = await joinAs(chat, 'carol', [alice, bob]);
    try {
      bob.say('x'.repeat(100));
      expect(await bob.next()).toBe('* line longer than 64 bytes, disconnecting');
      await bob.closed;
      expect(await alice.next()).toBe('* bob left (line too long)');
      expect(await carol.next()).toBe('* bob left (line too long)');
      carol.say('as I was saying');
      expect(await alice.next()).toBe('<carol> as I was saying');
    } finally {
      for (const c of [alice, bob, carol]) c.destroy();
      await Promise.all([alice, bob, carol].map((c) => c.closed));
      chat.subscription.unsubscribe();
    }
  });

  it('shuts down gracefully: every member is told goodbye and ended, then the server completes', async () => {
    const shutdown = new Subject<void>();
    const metrics = serverMetrics();
    const chat = await startChat({ shutdown, metrics });
    const alice = await joinAs(chat, 'alice', []);
    const bob = await joinAs(chat, 'bob', [alice]);
    const carol = await joinAs(chat, 'carol', [alice, bob]);
    alice.say('one last thing');
    await bob.next('<alice> one last thing');
    await carol.next('<alice> one last thing');
    shutdown.next();
    for (const c of [alice, bob, carol]) {
      expect(await c.next()).toBe('* server shutting down, bye');
      expect(await c.closed).toEqual({ hadError: false });
      expect(c.ended).toBe(true);
      // No leave notices for one another on the way out.
      expect(c.unread()).toEqual([]);
    }
    await chat.done;
    expect(metrics.snapshot()).toMatchObject({ accepted: 3, open: 0, shuttingDown: true, framesIn: 4 });
    // In: three /nick and alice's line. Out: alice 7 (welcome, 2 joins, 2 renames, her own rename,
    // goodbye), bob 6 (welcome, his rename, carol's join and rename, alice's line, goodbye), carol 4.
    expect(chat.log.at(-1)).toBe('chat server closed: 3 connection(s), 4 line(s) in, 17 line(s) out');
  });
});

describe('chat-client demo', () => {
  it('sends its input lines to the chat server and prints what the others say, then leaves on end of input', async () => {
    const chat = await startChat();
    const alice = await joinAs(chat, 'alice', []);
    const input = new PassThrough();
    const printed: string[] = [];
    const seen = new Subject<string>();
    const done = lastValueFrom(
      chatClient({
        port: chat.port,
        host: '127.0.0.1',
        input,
        nick: 'bob',
        log: (l) => (printed.push(l), seen.next(l)),
      }).pipe(toArray()),
    );
    try {
      await alice.next(/^\* guest\d+ is now bob$/);
      alice.say('hi bob');
      await printedLine({ printed, seen }, '<alice> hi bob');
      input.write('hi alice\nhow are you?\n');
      expect(await alice.next()).toBe('<bob> hi alice');
      expect(await alice.next()).toBe('<bob> how are you?');
      input.end();
      await done;
      expect(await alice.next()).toBe('* bob left');
      expect(printed[0]).toBe(`* connected to 127.0.0.1:${chat.port}`);
      expect(printed).toContain('* you are now bob');
      expect(printed.at(-1)).toBe('* disconnected');
    } finally {
      alice.destroy();
      await alice.closed;
      chat.subscription.unsubscribe();
    }
  });

  it("talks through the seed's own chat server: a line from one client reaches the other", async () => {
    const seed = await startSeedChat();
    const printer = () => ({ input: new PassThrough(), printed: [] as string[], seen: new Subject<string>() });
    const run = (c: ReturnType<typeof printer>) =>
      lastValueFrom(
        chatClient({
          port: seed.port,
          host: '127.0.0.1',
          input: c.input,
          log: (l) => (c.printed.push(l), c.seen.next(l)),
        }).pipe(toArray()),
      );
    try {
      // One after the other: the seed then accepts (registers) a before it reads b's first line,
      // and has registered b once it relayed that line.
      const a = printer();
      const doneA = run(a);
      await printedLine(a, `* connected to 127.0.0.1:${seed.port}`);
      const b = printer();
      const doneB = run(b);
      await printedLine(b, `* connected to 127.0.0.1:${seed.port}`);
      b.input.write('hello from b\n');
      await printedLine(a, 'hello from b');
      a.input.write('hello from a\r\n');
      await printedLine(b, 'hello from a');
      // The seed's sockets end when their peer does (no allowHalfOpen): both clients complete.
      a.input.end();
      b.input.end();
      await Promise.all([doneA, doneB]);
      expect(a.printed).toEqual([`* connected to 127.0.0.1:${seed.port}`, 'hello from b', '* disconnected']);
      expect(b.printed).toEqual([`* connected to 127.0.0.1:${seed.port}`, 'hello from a', '* disconnected']);
    } finally {
      await seed.stop();
    }
  });
});

/** Resolves once `line` was printed by a chat client (at once if it already was). */
async function printedLine(c: { printed: string[]; seen: Subject<string> }, line: string): Promise<void> {
  while (!c.printed.includes(line)) await firstValueFrom(c.seen);
}

describe('chat demo as a process', () => {
  it('npm run demo -- chat --port 0 tells its members goodbye on Ctrl-C and exits 0', async () => {
    const child = spawn(
      process.execPath,
      ['-r', 'ts-node/register/transpile-only', 'demos/run.ts', 'chat', '--port', '0'],
      {
        cwd: ROOT,
        stdio: ['ignore', 'pipe', 'pipe'],
      },
    );
    let out = '';
    child.stdout!.on('data', (c) => (out += c));
    child.stderr!.on('data', (c) => (out += c));
    const exit = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
    try {
      const port = await new Promise<number>((resolve, reject) => {
        const check = () => {
          const m = /listening on .*"port":(\d+)/.exec(out);
          if (m) resolve(Number(m[1]));
        };
        child.stdout!.on('data', check);
        child.once('exit', () => reject(new Error('chat exited: ' + out)));
      });
      const client = await LineClient.connect(port);
      await client.next(/^\* welcome/);
      child.kill('SIGINT');
      expect(await client.next()).toBe('* server shutting down, bye');
      await client.closed;
      expect(await exit).toBe(0);
      expect(out).toContain('chat server closed: 1 connection(s)');
    } finally {
      child.kill('SIGKILL');
      await exit;
    }
  });
});

/** The seed's chat server on a free port (it prints nothing, so we pick the port). */
async function startSeedChat(): Promise<{ port: number; stop(): Promise<void> }> {
  const port = await new Promise<number>((resolve) => {
    const probe = net.createServer().listen(0, '127.0.0.1', () => {
      const p = (probe.address() as net.AddressInfo).port;
      probe.close(() => resolve(p));
    });
  });
  const child: ChildProcess = spawn(process.execPath, [path.join(SEEDS, 'seed-chat-server.js')], {
    env: { ...process.env, PORT: String(port) },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  // Up once it accepts a connection.
  for (let i = 0; i < 200; i++) {
    const ok = await new Promise<boolean>((resolve) => {
      const s = net.connect({ port, host: '127.0.0.1' }, () => {
        s.destroy();
        resolve(true);
      });
      s.once('error', () => resolve(false));
    });
    if (ok) break;
    await new Promise((resolve) => setTimeout(resolve, 25));
  }
  return {
    port,
    stop: async () => {
      if (child.exitCode === null && child.signalCode === null) child.kill();
      await exited;
    },
  };
}
