// The resp-server demo driven by Redis's own programs: redis-cli (commands, --pipe) and redis-benchmark (-P 16), the
// demo in this process on 127.0.0.1:0, the programs as child processes.
import { spawn } from 'child_process';
import { ReplaySubject, firstValueFrom, type Subscription } from 'rxjs';
import { KeySpace, respServerDemo } from '../../demos/resp-server';
import { requester } from '../../lib/client/requester';
import { respClient } from '../../lib/codec/resp/resp';
import { encodeRespCommand } from '../../lib/codec/resp/encodeResp';
import { open } from '../../lib/core/open';
import { closed } from '../support/net';
import { findProgram } from '../support/proxies';

const redisCli = findProgram('redis-cli');
const redisBenchmark = findProgram('redis-benchmark');
const MISSING = 'redis-cli or redis-benchmark not found (Debian: apt-get install redis-tools; .ci/run installs it)';
// Without the programs the tests are registered as skipped (never passed) and the title says why.
const found = redisCli !== undefined && redisBenchmark !== undefined;
const describeWithTools = found ? describe : describe.skip;
const SETUP = found ? `${redisCli}, ${redisBenchmark}` : `skipped: ${MISSING}`;
if (!found) console.warn(`resp-server-redis-tools spec skipped: ${MISSING}`);

/** Each program gets this long before it is killed and its test fails. */
const PROGRAM_LIMIT_MS = 20_000;

interface Finished {
  code: number | null;
  stdout: string;
  stderr: string;
}

/** Runs `program args`, writing `input` to its stdin (then closing it); resolves once it has exited. */
function run(program: string, args: string[], input?: Buffer): Promise<Finished> {
  return new Promise((resolve, reject) => {
    const child = spawn(program, args, { stdio: ['pipe', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.setEncoding('latin1').on('data', (text: string) => (stdout += text));
    child.stderr.setEncoding('latin1').on('data', (text: string) => (stderr += text));
    const guard = setTimeout(() => child.kill('SIGKILL'), PROGRAM_LIMIT_MS);
    child.once('error', (error) => {
      clearTimeout(guard);
      reject(error);
    });
    child.once('close', (code, signal) => {
      clearTimeout(guard);
      if (signal !== null) reject(new Error(`${program} ${args.join(' ')}: ${signal}\n${stdout}${stderr}`));
      else resolve({ code, stdout, stderr });
    });
    child.stdin.on('error', () => undefined); // a program that exits before reading it all
    child.stdin.end(input);
  });
}

describeWithTools(`resp-server demo with redis-cli and redis-benchmark [${SETUP}]`, () => {
  let port: number;
  let subscription: Subscription;
  const keys = new KeySpace();
  const cli = async (...args: string[]) => {
    const { code, stdout, stderr } = await run(redisCli!, ['-h', '127.0.0.1', '-p', String(port), ...args]);
    expect({ code, stderr }).toEqual({ code: 0, stderr: '' });
    return stdout;
  };

  beforeAll(async () => {
    const bound = new ReplaySubject<number>(1);
    subscription = respServerDemo({
      port: 0,
      host: '127.0.0.1',
      keys,
      log: () => undefined,
      listening: (address) => typeof address !== 'string' && bound.next(address.port),
    }).subscribe({ error: (error) => bound.error(error) });
    port = await firstValueFrom(bound);
  });

  afterAll(() => subscription?.unsubscribe());

  it('redis-cli PING prints PONG', async () => {
    expect(await cli('PING')).toBe('PONG\n');
  });

  it('redis-cli SET, GET, INCR three times, DEL and ECHO print what redis-server would', async () => {
    expect(await cli('SET', 'cli:k', 'some value')).toBe('OK\n');
    expect(await cli('GET', 'cli:k')).toBe('some value\n');
    expect(await cli('INCR', 'cli:n')).toBe('1\n');
    expect(await cli('INCR', 'cli:n')).toBe('2\n');
    expect(await cli('incr', 'cli:n')).toBe('3\n');
    expect(await cli('DEL', 'cli:k', 'cli:n', 'cli:none')).toBe('2\n');
    expect(await cli('GET', 'cli:k')).toBe('\n');
    expect(await cli('ECHO', 'hello world')).toBe('hello world\n');
  });

  it("redis-cli prints an unknown command's error in redis-server's words", async () => {
    // Not on a terminal, redis-cli prints an error raw, then an empty line (as it does for redis-server's).
    expect(await cli('FLUSHALL', 'ASYNC')).toBe(
      "ERR unknown command 'FLUSHALL', with args beginning with: 'ASYNC' \n\n",
    );
  });

  it('redis-cli --pipe of 5,000 SET commands reports errors: 0, replies: 5000', async () => {
    const n = 5000;
    const input = Buffer.concat(
      Array.from({ length: n }, (_, i) => encodeRespCommand(['SET', `pipe:${i}`, `value ${i}`])),
    );
    const { code, stdout } = await run(redisCli!, ['-h', '127.0.0.1', '-p', String(port), '--pipe'], input);
    expect(code).toBe(0);
    expect(stdout).toContain(`errors: 0, replies: ${n}`);
    expect(keys.value('pipe:0')?.toString()).toBe('value 0');
    expect(keys.value(`pipe:${n - 1}`)?.toString()).toBe(`value ${n - 1}`);
  });

  it('redis-benchmark -t ping,set,get -P 16 -n 20000 -c 10 -q exits 0 with figures for every test and no error', async () => {
    const args = ['-h', '127.0.0.1', '-p', String(port), '-t', 'ping,set,get', '-P', '16', '-n', '20000', '-c', '10'];
    const { code, stdout, stderr } = await run(redisBenchmark!, [...args, '-q']);
    expect({ code, stderr }).toEqual({ code: 0, stderr: '' });
    // -q rewrites a progress line with \r; the last figure of each test ends with a newline.
    const figures = new Map(
      stdout
        .split(/[\r\n]/)
        .map((line) => /^(\w+): ([\d.]+) requests per second/.exec(line.trim()))
        .filter((m): m is RegExpExecArray => m !== null)
        .map((m) => [m[1], Number(m[2])]),
    );
    expect([...figures.keys()]).toEqual(['PING_INLINE', 'PING_MBULK', 'SET', 'GET']);
    for (const rps of figures.values()) expect(rps).toBeGreaterThan(0);
    // What it SET (its key, a value of -d 3 bytes) is in the store, and rxnet's own client reads it back.
    const conn = await open({ host: '127.0.0.1', port });
    try {
      const redis = requester(conn, respClient());
      const value = await firstValueFrom(redis.request(['GET', 'key:__rand_int__']));
      expect(Buffer.isBuffer(value) && value.length).toBe(3);
      expect(keys.value('key:__rand_int__')!.equals(value as Buffer)).toBe(true);
    } finally {
      conn.destroy();
      if (conn.socket) await closed(conn.socket);
    }
  }, 30_000);
});
