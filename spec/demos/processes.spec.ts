// The demos as processes: `npm start` exits 0 with the conversation; servers end cleanly on Ctrl-C.
import { spawn } from 'child_process';
import * as path from 'path';

const ROOT = path.resolve(__dirname, '../..');

function runTs(args: string[]) {
  const child = spawn(process.execPath, ['-r', 'ts-node/register/transpile-only', ...args], {
    cwd: ROOT,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  child.stdout.on('data', (c) => (out += c));
  child.stderr.on('data', (c) => (out += c));
  const exit = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) =>
    child.once('exit', (code, signal) => resolve({ code, signal })),
  );
  const printed = (pattern: RegExp) =>
    new Promise<RegExpExecArray>((resolve, reject) => {
      const check = () => {
        const m = pattern.exec(out);
        if (m) {
          child.stdout.removeListener('data', check);
          resolve(m);
        }
      };
      child.stdout.on('data', check);
      child.once('exit', () => reject(new Error(`exited before printing ${pattern}: ${out}`)));
      check();
    });
  return { child, exit, printed, output: () => out };
}

describe('demo processes', () => {
  it('npm start (the showcase) prints the three replies and exits 0', async () => {
    const run = runTs(['demos/showcase.ts']);
    const { code } = await run.exit;
    expect(code).toBe(0);
    expect(run.output()).toMatch(/Dwarves\s+<- Sending: More Axes/);
    expect(run.output()).toMatch(/Elves\s+<- Sending: More Arrows/);
    expect(run.output()).toMatch(/Hobbits\s+<- Sending: More Pipe Weed/);
  });

  it.each([
    ['echo-server', /Server listening/],
    ['hello', /listening on/],
    ['resp-server', /resp server listening/],
    ['starttls', /starttls server listening/],
  ])('npm run demo -- %s --port 0 ends with exit code 0 on Ctrl-C', async (name, ready) => {
    const run = runTs(['demos/run.ts', name, '--port', '0']);
    await run.printed(ready);
    run.child.kill('SIGINT');
    const { code, signal } = await run.exit;
    expect({ code, signal }).toEqual({ code: 0, signal: null });
  });

  it('npm run demo with an unknown name lists the demos and fails', async () => {
    const run = runTs(['demos/run.ts', 'no-such-demo']);
    const { code } = await run.exit;
    expect(code).toBe(2);
    expect(run.output()).toContain('echo-server');
  });
});
