// The resp-server demo in process, over plain sockets and rxnet's own requester: commands, Redis's error words, the
// handshake of redis-cli and redis-benchmark, pipelining, QUIT, protocol errors and peers that reset.
import * as net from 'net';
import { ReplaySubject, firstValueFrom, type Subscription } from 'rxjs';
import { KeySpace, respServerDemo, type RespServerDemoOptions } from '../../demos/resp-server';
import { requester } from '../../lib/client/requester';
import { respClient } from '../../lib/codec/resp/resp';
import { encodeRespCommand } from '../../lib/codec/resp/encodeResp';
import { open } from '../../lib/core/open';
import type { Connection } from '../../lib/types';
import { Peer } from '../docs/peers';
import { closed, expectTcpHandlesBackTo, plainConnect, readAll, tcpHandleCount } from '../support/net';

/** The bytes of commands as a client sends them: each an array of bulk strings. */
const commands = (...list: (string | Buffer)[][]) => Buffer.concat(list.map((args) => encodeRespCommand(args)));

/** Two keys with the same 32-bit FNV-1a hash (the key space's), found by trying `k0`, `k1`, ... */
function collidingKeys(): [string, string] {
  const seen = new Map<number, string>();
  for (let i = 0; ; i++) {
    const key = `k${i}`;
    let hash = 0x811c9dc5;
    for (let j = 0; j < key.length; j++) hash = Math.imul(hash ^ key.charCodeAt(j), 0x01000193);
    const other = seen.get(hash);
    if (other !== undefined) return [other, key];
    seen.set(hash, key);
  }
}

describe('resp-server demo', () => {
  let server: { port: number; keys: KeySpace; log: string[]; subscription: Subscription } | undefined;
  const peers: Peer[] = [];
  const sockets: net.Socket[] = [];
  const conns: Connection[] = [];
  let handles = 0;

  /** Starts the demo on 127.0.0.1:0 with its own key space and log. */
  async function start(options: Partial<RespServerDemoOptions> = {}) {
    const keys = new KeySpace();
    const log: string[] = [];
    const bound = new ReplaySubject<number>(1);
    const subscription = respServerDemo({
      port: 0,
      host: '127.0.0.1',
      keys,
      log: (line) => log.push(line),
      listening: (address) => typeof address !== 'string' && bound.next(address.port),
      ...options,
    }).subscribe({ error: (error) => bound.error(error) });
    server = { port: await firstValueFrom(bound), keys, log, subscription };
    return server;
  }

  async function connect(): Promise<Peer> {
    const peer = await Peer.connect(server!.port);
    peers.push(peer);
    return peer;
  }

  /** Sends `request` on a new connection and resolves with the reply once it is `expected` long. */
  async function ask(request: string | Buffer, expected: string): Promise<string> {
    const peer = await connect();
    peer.write(request);
    const reply = await peer.until(`${expected.length} bytes`, (r) => r.length >= expected.length);
    return reply.toString('latin1');
  }

  beforeEach(() => {
    handles = tcpHandleCount();
  });

  afterEach(async () => {
    await Promise.all(peers.splice(0).map((peer) => peer.close()));
    for (const socket of sockets.splice(0)) socket.destroy();
    for (const conn of conns.splice(0)) conn.destroy();
    server?.subscription.unsubscribe();
    server = undefined;
    await expectTcpHandlesBackTo(handles);
  });

  it('answers PING, ECHO, SET, GET, DEL and INCR, names in any case, as arrays or inline', async () => {
    await start();
    const request = Buffer.concat([
      commands(['PING']),
      Buffer.from('ping hello\r\n'),
      commands(['ECHO', 'hi there'], ['set', 'k', 'v'], ['GET', 'k'], ['Get', 'missing']),
      commands(['INCR', 'n'], ['incr', 'n'], ['InCr', 'n'], ['DEL', 'k', 'n', 'none'], ['GET', 'k']),
    ]);
    const expected =
      '+PONG\r\n$5\r\nhello\r\n$8\r\nhi there\r\n+OK\r\n$1\r\nv\r\n$-1\r\n:1\r\n:2\r\n:3\r\n:2\r\n$-1\r\n';
    expect(await ask(request, expected)).toBe(expected);
    expect(server!.keys.size).toBe(0);
  });

  it("answers mistakes in redis-server's words and keeps the connection", async () => {
    await start();
    const request = commands(
      ['FOO', 'a', 'b'],
      ['GET'],
      ['SET', 'word', 'abc'],
      ['INCR', 'word'],
      ['SET', 'max', '9223372036854775807'],
      ['INCR', 'max'],
      ['SET', 'k', 'v', 'EX', '10'],
      ['SELECT', '1'],
      ['CONFIG', 'SET', 'save', ''],
      ['PING'],
    );
    const expected = [
      "-ERR unknown command 'FOO', with args beginning with: 'a' 'b' ",
      "-ERR wrong number of arguments for 'get' command",
      '+OK',
      '-ERR value is not an integer or out of range',
      '+OK',
      '-ERR increment or decrement would overflow',
      "-ERR unsupported SET option 'EX': this server takes SET key value",
      '-ERR DB index is out of range',
      "-ERR unknown subcommand 'SET'. Try CONFIG HELP.",
      '+PONG',
      '',
    ].join('\r\n');
    expect(await ask(request, expected)).toBe(expected);
    expect(server!.keys.value('k')).toBeUndefined();
  });

  it('answers what redis-cli and redis-benchmark ask on connect', async () => {
    await start();
    const request = commands(
      ['COMMAND', 'DOCS'],
      ['COMMAND'],
      ['CONFIG', 'GET', 'save'],
      ['config', 'get', 'appendonly'],
      ['CONFIG', 'GET', 'maxmemory'],
      ['HELLO', '3'],
      ['CLIENT', 'SETNAME', 'bench'],
      ['SELECT', '0'],
      ['HELLO'],
    );
    const hello =
      '*12\r\n$6\r\nserver\r\n$5\r\nredis\r\n$7\r\nversion\r\n$5\r\n7.0.0\r\n$5\r\nproto\r\n:2\r\n' +
      '$4\r\nmode\r\n$10\r\nstandalone\r\n$4\r\nrole\r\n$6\r\nmaster\r\n$7\r\nmodules\r\n*0\r\n';
    const expected =
      '*0\r\n*0\r\n*2\r\n$4\r\nsave\r\n$0\r\n\r\n*2\r\n$10\r\nappendonly\r\n$2\r\nno\r\n*0\r\n' +
      '-NOPROTO unsupported protocol version\r\n+OK\r\n+OK\r\n' +
      hello;
    expect(await ask(request, expected)).toBe(expected);
  });

  it('keeps one key space for every connection, each value copied out of the chunk it came in', async () => {
    await start();
    // One write of more than 64 KiB: the small value lies in a large chunk the server read.
    const writer = await connect();
    writer.write(commands(['SET', 'small', 'v1'], ['SET', 'big', Buffer.alloc(100_000, 'b')], ['PING']));
    await writer.until('+OK +OK +PONG', (r) => r.toString() === '+OK\r\n+OK\r\n+PONG\r\n');
    const value = server!.keys.value('small')!;
    expect(value.toString()).toBe('v1');
    expect(value.buffer.byteLength).toBeLessThanOrEqual(Buffer.poolSize);
    expect(server!.keys.value('big')!.equals(Buffer.alloc(100_000, 'b'))).toBe(true);
    expect(await ask(commands(['GET', 'small']), '$2\r\nv1\r\n')).toBe('$2\r\nv1\r\n');
  });

  it('tells apart two keys whose hashes collide, whichever of them is set, read or deleted', async () => {
    await start();
    const [a, b] = collidingKeys();
    const request = commands(
      ['SET', a, '1'],
      ['SET', b, '2'],
      ['GET', a],
      ['DEL', a],
      ['GET', a],
      ['GET', b],
      ['SET', a, '3'],
      ['DEL', a],
      ['GET', b],
      ['SET', a, '4'],
      ['DEL', b],
      ['GET', a],
      ['GET', b],
    );
    const expected =
      '+OK\r\n+OK\r\n$1\r\n1\r\n:1\r\n$-1\r\n$1\r\n2\r\n+OK\r\n:1\r\n$1\r\n2\r\n+OK\r\n:1\r\n$1\r\n4\r\n$-1\r\n';
    expect(await ask(request, expected)).toBe(expected);
    expect(server!.keys.size).toBe(1);
  });

  it('answers 1,000 commands pipelined in one write in order, the replies written together', async () => {
    await start();
    const socket = await plainConnect(server!.port);
    sockets.push(socket);
    let chunks = 0;
    socket.on('data', () => chunks++);
    const replies = readAll(socket);
    const n = 1000;
    socket.end(commands(...Array.from({ length: n }, () => ['INCR', 'counter'])));
    const expected = Array.from({ length: n }, (_, i) => `:${i + 1}\r\n`).join('');
    expect((await replies).toString()).toBe(expected);
    // 1,000 replies written one by one arrive in hundreds of segments; written together, in a few.
    expect(chunks).toBeLessThan(20);
    await closed(socket);
  });

  it('QUIT: answers +OK, reads nothing after it, and ends the connection', async () => {
    await start();
    const socket = await plainConnect(server!.port);
    sockets.push(socket);
    const replies = readAll(socket);
    socket.write(Buffer.concat([commands(['SET', 'a', '1'], ['QUIT'], ['SET', 'b', '2']), Buffer.from('PING\r\n')]));
    expect((await replies).toString()).toBe('+OK\r\n+OK\r\n');
    socket.end();
    await closed(socket);
    expect([server!.keys.value('a')?.toString(), server!.keys.value('b')]).toEqual(['1', undefined]);
  });

  it.each([
    ['bad bytes in a length', Buffer.from('*1\r\n$x\r\n'), 'expected a digit'],
    ['an integer where a bulk string belongs', Buffer.from('*2\r\n$3\r\nGET\r\n:1\r\n'), "expected '$', got ':'"],
    ['a null where a bulk string belongs', Buffer.from('*2\r\n$3\r\nGET\r\n$-1\r\n'), 'invalid bulk length'],
    ['a value over maxBulkLength', commands(['SET', 'k', 'x'.repeat(17)]), 'RESP bulk of 17 over the limit of 16'],
  ])('%s: the commands before it answered, then one -ERR Protocol error reply, then the end', async (_, bad, why) => {
    await start({ maxBulkLength: 16 });
    const socket = await plainConnect(server!.port);
    sockets.push(socket);
    const replies = readAll(socket);
    socket.write(Buffer.concat([Buffer.from('PING\r\n'), bad, commands(['PING'])]));
    expect((await replies).toString()).toBe(`+PONG\r\n-ERR Protocol error: ${why}\r\n`);
    expect(server!.log.some((line) => line.includes('protocol error'))).toBe(true);
    // The server goes on.
    expect(await ask('PING\r\n', '+PONG\r\n')).toBe('+PONG\r\n');
  });

  it('a peer that resets mid-command, or ends mid-command, ends only its own connection', async () => {
    await start();
    const partial = commands(['SET', 'k', 'value']).subarray(0, 20);
    const resetting = await plainConnect(server!.port);
    sockets.push(resetting);
    await new Promise<void>((resolve) => resetting.write(partial, () => resolve()));
    resetting.resetAndDestroy();
    const ending = await plainConnect(server!.port);
    sockets.push(ending);
    const ended = readAll(ending);
    ending.end(partial);
    // The server closes its side too, having nothing to answer.
    expect((await ended).length).toBe(0);
    await closed(ending);
    await closed(resetting);
    expect(await ask('PING\r\n', '+PONG\r\n')).toBe('+PONG\r\n');
    expect(server!.keys.size).toBe(0);
  });

  it("rxnet's requester with respClient: 1,000 pipelined INCR answered 1…1000 in order", async () => {
    await start();
    const conn = await open({ host: '127.0.0.1', port: server!.port });
    conns.push(conn);
    const redis = requester(conn, respClient(), { maxInFlight: 64 });
    const replies = await Promise.all(
      Array.from({ length: 1000 }, () => firstValueFrom(redis.request(['INCR', 'counter']))),
    );
    expect(replies).toEqual(Array.from({ length: 1000 }, (_, i) => i + 1));
    expect(String(await firstValueFrom(redis.request(['GET', 'counter'])))).toBe('1000');
    expect(server!.keys.value('counter')!.toString()).toBe('1000');
    conn.end();
    if (conn.socket) await closed(conn.socket);
  });
});
