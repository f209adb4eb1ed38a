// demos/cluster.ts as a process: two workers share port 0, echo to several clients, and end on SIGINT.
import { ChildProcess, spawn } from 'child_process';
import * as net from 'net';
import * as path from 'path';
import { closed, plainConnect } from '../support/net';

const ROOT = path.resolve(__dirname, '../..');

/** Sends `text` and resolves with everything the server sent back once it contains `expected`. */
function exchange(socket: net.Socket, text: string, expected: string): Promise<string> {
  return new Promise((resolve, reject) => {
    let received = '';
    socket.setEncoding('utf8');
    socket.on('data', (chunk: string) => {
      received += chunk;
      if (received.includes(expected)) resolve(received);
    });
    socket.once('error', reject);
    socket.once('close', () => reject(new Error(`closed after ${JSON.stringify(received)}`)));
    socket.write(text);
  });
}

describe('demo cluster', () => {
  let child: ChildProcess | undefined;
  const sockets: net.Socket[] = [];

  afterEach(() => {
    for (const socket of sockets) socket.destroy();
    // Workers exit by themselves when the primary's IPC channel goes away.
    if (child && child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
  });

  it('runs the echo server in two workers on one port and ends them all on SIGINT', async () => {
    const proc = spawn(
      process.execPath,
      [
        '-r',
        'ts-node/register/transpile-only',
        'demos/cluster.ts',
        '--port',
        '0',
        '--host',
        '127.0.0.1',
        '--workers',
        '2',
      ],
      { cwd: ROOT, stdio: ['ignore', 'pipe', 'pipe'] },
    );
    child = proc;
    let out = '';
    proc.stdout.on('data', (c) => (out += c));
    proc.stderr.on('data', (c) => (out += c));
    const exit = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) =>
      proc.once('exit', (code, signal) => resolve({ code, signal })),
    );
    const listening = await new Promise<{ port: number }>((resolve, reject) => {
      const check = () => {
        const m = /Cluster listening: (\{.*?\}) \(2 workers\)/.exec(out);
        if (m) resolve(JSON.parse(m[1]) as { port: number });
      };
      proc.stdout.on('data', check);
      proc.once('exit', () => reject(new Error(`exited before listening:\n${out}`)));
    });
    expect(listening.port).toBeGreaterThan(0);

    // One client stays connected through the shutdown; the others each get their echo.
    const idle = await plainConnect(listening.port);
    sockets.push(idle);
    idle.on('error', () => undefined); // a reset at shutdown is as good as a FIN here
    const replies = await Promise.all(
      Array.from({ length: 6 }, async (_, i) => {
        const socket = await plainConnect(listening.port);
        sockets.push(socket);
        const reply = await exchange(socket, `message ${i}`, `Sending: message ${i}`);
        socket.end();
        await closed(socket);
        return reply;
      }),
    );
    expect(replies).toEqual(Array.from({ length: 6 }, (_, i) => `Sending: message ${i}`));

    proc.kill('SIGINT');
    await closed(idle); // the worker that held it destroyed it when it stopped
    expect(await exit).toEqual({ code: 0, signal: null });
    expect(out).toMatch(/worker 1 exited \(0\)/);
    expect(out).toMatch(/worker 2 exited \(0\)/);
    expect(out).toContain('Server Terminated');
    expect(out).not.toMatch(/Error/);
  }, 60_000);
});
