// The idle-server demo: in virtual time on the memory server, and as a process against a seed-style plain client.
import { spawn } from 'child_process';
import * as net from 'net';
import * as path from 'path';
import { idleApp } from '../../demos/idle-server';
import { asText, createTestScheduler, memoryServer } from '../../lib/testing';

const ROOT = path.resolve(__dirname, '../..');
const marbles = () => createTestScheduler({ assertDeepEqual: (actual, expected) => expect(actual).toEqual(expected) });

describe('idle-server demo', () => {
  it('echoes, then says idle timeout.. and ends after 6 s without traffic; keep-alive and noDelay set as in the seed', () => {
    marbles().run(({ cold, expectObservable }) => {
      const server = memoryServer();
      const log: string[] = [];
      idleApp(server.listen(), { log: (line) => log.push(line) }).subscribe();
      const client = server.connect();
      cold('1s a', { a: 'still here' }).subscribe((text) => client.write(text));
      expectObservable(client.data$.pipe(asText())).toBe('1s a 5999ms (z|)', { a: 'still here', z: 'idle timeout..' });
      const accepted = client.peer;
      expect([accepted.keepAlive, accepted.keepAliveInitialDelay, accepted.noDelay]).toEqual([true, 10000, true]);
      cold('8s |').subscribe({
        complete: () =>
          expect(log).toEqual([
            `memory:${client.localPort} connected`,
            `memory:${client.localPort} idle for 6000 ms: idle timeout..`,
          ]),
      });
    });
  });

  it('runs as `npm run demo -- idle-server --port 0 --idle 150`, hangs up on a silent seed-style client, ends on Ctrl-C', async () => {
    const child = spawn(
      process.execPath,
      ['-r', 'ts-node/register/transpile-only', 'demos/run.ts', 'idle-server', '--port', '0', '--idle', '150'],
      {
        cwd: ROOT,
        stdio: ['ignore', 'pipe', 'pipe'],
      },
    );
    let out = '';
    child.stderr.on('data', (c) => (out += c));
    const exit = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) =>
      child.once('exit', (code, signal) => resolve({ code, signal })),
    );
    try {
      const port = await new Promise<number>((resolve, reject) => {
        const onData = (c: Buffer) => {
          out += c;
          const m = /"port":(\d+)/.exec(out);
          if (m) {
            child.stdout.removeListener('data', onData);
            resolve(Number(m[1]));
          }
        };
        child.stdout.on('data', onData);
        child.once('exit', () => reject(new Error(`exited early: ${out}`)));
      });
      child.stdout.on('data', (c) => (out += c));
      // The seed's client style: plain net, utf8, prints what it gets; here it never writes.
      const heard = await new Promise<string>((resolve, reject) => {
        const client = net.connect({ port, host: '127.0.0.1' });
        client.setEncoding('utf8');
        let text = '';
        client.on('data', (data: string) => (text += data));
        client.on('error', reject);
        client.on('close', () => resolve(text));
      });
      expect(heard).toBe('idle timeout..');
    } finally {
      child.kill('SIGINT');
    }
    expect(await exit).toEqual({ code: 0, signal: null });
    expect(out).toMatch(/idle for \d+ ms: idle timeout\.\./);
  });
});
