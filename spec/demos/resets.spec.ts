// Every demo server, run as a process, outlives six peers that reset and then serves a new client; a cluster replaces a killed worker.
import { NodeChild, Peer, cTestData, exchange, pool, resetPeers, runReporting, transpileTree } from '../docs/peers';

/** A line over every demo's line limit (and decodeLines()'s default one). */
const LONG_LINE = 'x'.repeat(70_000);

const count = (output: string, pattern: RegExp) => output.match(pattern)?.length ?? 0;
/** The lines of `output` that match `pattern`: short failure messages. */
const linesOf = (output: string, pattern: RegExp) => output.split('\n').filter((line) => pattern.test(line));

/** A demo server: how to start it, what the resetting peers send, and how to tell it still serves. */
interface DemoServer {
  name: string;
  args: string[];
  /** Printed once it listens, with the bound address (JSON) as group 1. */
  listening: RegExp;
  /** What half the resetting peers write first: a request the demo acts on. */
  attack: string | Buffer;
  /** What the other half write: bytes the demo's framing refuses (over its limit, or cut short). */
  hostile: string | Buffer;
  /** Logged once per connection when it is gone (a `g` pattern), if the demo logs that. */
  gone?: RegExp;
  /** Resolves once a new client was served; `n` (1, 2) makes each probe distinct. */
  serve(port: number, child: NodeChild, n: number): Promise<void>;
}

/** Sends `request`, expects a reply matching `reply`. */
const answers = (request: string | undefined, reply: RegExp) => async (port: number) => {
  await exchange(port, request, `a reply matching ${reply}`, (r) => reply.test(r.toString('latin1')));
};

const SERVERS: DemoServer[] = [
  {
    name: 'echo-server',
    args: ['--host', '127.0.0.1'],
    listening: /Server listening: (\{.*\})/,
    attack: 'More Axes',
    hostile: LONG_LINE,
    gone: /^Client disconnected$/gm,
    serve: (port, _, n) => answers(`More Axes ${n}`, new RegExp(`^Sending: More Axes ${n}$`))(port),
  },
  {
    name: 'hello',
    args: [],
    listening: /listening on (\{.*\})/,
    attack: 'hi\n',
    hostile: LONG_LINE,
    // Nothing is logged per connection: the second probe comes after the server has seen the resets.
    serve: answers(undefined, /^\[tcp\/ip\] hello world!\n$/),
  },
  {
    name: 'idle-server',
    args: ['--host', '127.0.0.1'],
    listening: /idle server listening on (\{.*?\})/,
    attack: 'still here\n',
    hostile: LONG_LINE,
    gone: / disconnected$/gm,
    serve: (port, _, n) => answers(`still here ${n}\n`, new RegExp(`^still here ${n}\\n$`))(port),
  },
  {
    name: 'struct-server',
    args: ['--host', '127.0.0.1'],
    listening: /struct server listening: (\{.*\})/,
    attack: cTestData(1),
    hostile: cTestData(1).subarray(0, 5),
    gone: / (disconnected|error: .*)$/gm,
    async serve(port, child, n) {
      // It answers nothing: it logs what it read.
      const peer = await Peer.connect(port);
      try {
        peer.write(cTestData(4000 + n));
        await child.printed(new RegExp(`^int b : ${4000 + n}$`, 'm'));
      } finally {
        await peer.close();
      }
    },
  },
  {
    name: 'line-server',
    args: ['--host', '127.0.0.1'],
    listening: /line server listening: (\{.*\})/,
    attack: 'hello\n',
    hostile: LONG_LINE,
    gone: / (disconnected after \d+ line\(s\)|error: .*)$/gm,
    serve: (port, _, n) => answers(`hello ${n}\n`, new RegExp(`^1: hello ${n}\\n$`))(port),
  },
  {
    name: 'resp-server',
    args: ['--host', '127.0.0.1'],
    listening: /resp server listening: (\{.*\})/,
    attack: 'SET k v\r\n',
    // An inline command over its 64 KiB limit: a protocol error.
    hostile: LONG_LINE,
    serve: (port, _, n) => answers(`ECHO probe${n}\r\n`, new RegExp(`^\\$6\\r\\nprobe${n}\\r\\n$`))(port),
  },
  {
    name: 'starttls',
    // The transpiled tree has no demos/certs: the demo's own certificate, by its path in the repository.
    args: ['--host', '127.0.0.1', '--key', 'demos/certs/localhost.key', '--cert', 'demos/certs/localhost.crt'],
    listening: /starttls server listening: (\{.*\})/,
    // Reset while the server waits for the handshake.
    attack: 'EHLO x\r\nSTARTTLS\r\n',
    hostile: LONG_LINE,
    serve: (port, _, n) =>
      answers(`EHLO probe${n}\r\n`, new RegExp(`greets probe${n}\r\n250-STARTTLS\r\n250 8BITMIME\r\n$`))(port),
  },
  {
    name: 'chat',
    args: ['--host', '127.0.0.1'],
    listening: /chat server listening on (\{.*\})/,
    attack: 'hello all\n',
    hostile: LONG_LINE,
    gone: /^guest\d+ left\b/gm,
    serve: answers(undefined, /^\* welcome, guest\d+! \d+ online\./),
  },
];

describe('demo servers run as processes', () => {
  let tree: ReturnType<typeof transpileTree> | undefined;
  const children = new Set<NodeChild>();
  let finished = false;

  /** Starts `demos/NAME.ts` (transpiled) with `--port 0` and the given flags. */
  function start(name: string, args: string[]): NodeChild {
    if (finished) throw new Error('not started: the tests have ended');
    const child = new NodeChild([`${tree!.dir}/demos/${name}.js`, '--port', '0', ...args]);
    children.add(child);
    void child.exited.then(() => children.delete(child));
    return child;
  }

  /** Resets six peers on `port` (half with a request, half with refused bytes); resolves with how many connected. */
  const attack = async (port: number, demo: Pick<DemoServer, 'attack' | 'hostile'>) =>
    (await resetPeers(port, (_, i) => (i % 2 === 0 ? demo.attack : demo.hostile))).length;

  async function survives(demo: DemoServer): Promise<void> {
    const child = start(demo.name, demo.args);
    await runReporting(child, async () => {
      const [, address] = await child.printed(demo.listening);
      const { port } = JSON.parse(address) as { port: number };
      const attackers = await attack(port, demo);
      // Before the first probe the demo has logged every reset connection as gone (or has exited).
      const { gone } = demo;
      if (gone)
        await child.waitFor(
          `${attackers} connections logged as gone`,
          (out) => count(out, gone) >= attackers || undefined,
        );
      for (const n of [1, 2]) {
        if (!child.running) throw new Error(`${demo.name} exited after peers reset; its output:\n${child.report}`);
        await demo.serve(port, child, n);
      }
      expect(child.running).toBe(true);
    });
  }

  const results = new Map<string, Promise<PromiseSettledResult<void>>>();

  beforeAll(() => {
    tree = transpileTree();
    // Two at a time: each is a whole Node process.
    const settled = pool(
      SERVERS.map((demo) => () => survives(demo)),
      2,
    );
    SERVERS.forEach((demo, i) => results.set(demo.name, settled[i]));
  });

  afterAll(async () => {
    finished = true;
    await Promise.all([...children].map((child) => child.stop()));
    await Promise.all(results.values());
    tree?.remove();
  });

  it.each(SERVERS.map((demo) => demo.name))(
    '%s serves a new client after six peers wrote (requests, or bytes it refuses) and reset',
    async (name) => {
      const result = await results.get(name)!;
      if (result.status === 'rejected') throw result.reason;
    },
  );

  it('cluster: workers outlive resets; a killed worker is replaced, and after --max-restarts in a minute no more', async () => {
    await Promise.all(results.values()); // the two-at-a-time limit holds for this one too
    const child = start('cluster', ['--host', '127.0.0.1', '--workers', '2', '--max-restarts', '1']);
    try {
      const [, address] = await child.printed(/Cluster listening: (\{.*?\}) \(2 workers\)/);
      const { port } = JSON.parse(address) as { port: number };
      const pidOf = (id: number) =>
        child.printed(new RegExp(`worker ${id} \\(pid (\\d+)\\) listening`)).then(([, pid]) => Number(pid));
      const echo = (text: string) =>
        exchange(port, text, `"Sending: ${text}"`, (r) => r.toString() === `Sending: ${text}`);
      /** Echoes through the cluster until worker `id` has served one (round-robin: the next one or the one after). */
      const servedBy = async (id: number) => {
        for (let i = 0; i < 4; i++) {
          const peer = await Peer.connect(port);
          try {
            const text = `probe ${id}.${i}`;
            peer.write(text);
            await peer.until(`"Sending: ${text}"`, (r) => r.toString() === `Sending: ${text}`);
            const by = await child.printed(
              new RegExp(`^\\[worker (\\d+)\\] Received data from client on port ${peer.localPort}: ${text}$`, 'm'),
            );
            if (Number(by[1]) === id) return;
          } finally {
            await peer.close();
          }
        }
        throw new Error(`worker ${id} served none of 4 connections; output:\n${child.report}`);
      };

      const attackers = await attack(port, { attack: 'More Axes', hostile: LONG_LINE });
      await child.waitFor(
        `${attackers} connections logged as gone`,
        // Not anchored at a line start: a worker's log line of 64 KiB is more than one pipe write, so
        // another worker's short line can land inside it.
        (out) => count(out, /\[worker \d+\] Client disconnected$/gm) >= attackers || undefined,
      );
      await echo('after the resets');
      await echo('and again');
      expect(linesOf(child.output, /exited/)).toEqual([]);

      // A worker dies: the primary replaces it, and the new one serves.
      process.kill(await pidOf(1), 'SIGKILL');
      await child.printed(/worker 1 exited \(SIGKILL\)/);
      expect(await pidOf(3)).toBeGreaterThan(0);
      await servedBy(3);
      await servedBy(2);

      // A second death within the minute passes --max-restarts 1: not replaced; the last worker goes on.
      process.kill(await pidOf(3), 'SIGKILL');
      await child.printed(/not replacing worker 3/);
      await echo('one worker left');
      expect(linesOf(child.output, /worker 4/)).toEqual([]);

      child.process.kill('SIGINT');
      // The primary gave up replacing a worker: it says so with its exit code.
      expect(await child.exited).toEqual({ code: 1, signal: null });
      expect(linesOf(child.output, /exited/)).toContain('worker 2 exited (0)');
      expect(linesOf(child.output, /Terminated/)).toEqual(['Server Terminated']);
    } catch (error) {
      if (error instanceof Error && !error.message.includes('output:')) error.message += `\noutput:\n${child.report}`;
      throw error;
    } finally {
      await child.stop();
    }
  });
});
