// A small Redis on rxnet's public API: PING, ECHO, SET, GET, DEL, INCR, and what redis-cli and redis-benchmark ask on connect.
import { EMPTY, Observable, catchError, concatWith, defer, ignoreElements, map, of, takeWhile, throwError } from 'rxjs';
import {
  RespError,
  RespLimitError,
  RespProtocolError,
  RespPush,
  RespVerbatim,
  TruncatedFrameError,
  decodeWith,
  encodeResp,
  listen,
  respServer,
  sendTo,
  serveEach,
} from '../lib';
import type { BoundAddress, Connection, RespValue } from '../lib';
import { Log, consoleLog, demoArgs, stopOnSignal } from './support';

export interface RespServerDemoOptions {
  port: number;
  host?: string;
  /** Longest bulk string (a value) in bytes; default 512 MiB, as redis-server's `proto-max-bulk-len`. */
  maxBulkLength?: number;
  log?: Log;
  listening?: (address: BoundAddress) => void;
  /** The key space, to look into from a spec (a new one per subscription when omitted). */
  keys?: KeySpace;
}

/** A key and its value, and the next entry whose key has the same hash. */
interface Entry {
  readonly key: Buffer;
  /** The value as its whole bulk reply: `$3\r\nabc\r\n`. */
  reply: Buffer;
  next: Entry | undefined;
}

/**
 * The values by key, shared by every connection of one server. Keys are bytes, found by a hash of
 * their bytes (no string is made per command); each value is kept as its whole bulk reply, copied
 * once out of the chunk SET read it from, so that GET answers with the stored bytes and allocates
 * nothing.
 */
export class KeySpace {
  private readonly buckets = new Map<number, Entry>();
  private count = 0;

  /** Number of keys. */
  get size(): number {
    return this.count;
  }

  /** The value of `key` (a string is taken as latin1), or undefined: a view of the stored reply. */
  value(key: string | Uint8Array): Buffer | undefined {
    const reply = this.reply(typeof key === 'string' ? Buffer.from(key, 'latin1') : key);
    return reply === undefined ? undefined : reply.subarray(reply.indexOf(10) + 1, reply.length - 2);
  }

  /** The bulk reply holding the value of `key`, or undefined. */
  reply(key: Uint8Array): Buffer | undefined {
    return this.find(key, hashOf(key))?.reply;
  }

  /** Stores a copy of `value` under `key` (copied too when new). */
  set(key: Uint8Array, value: Uint8Array): void {
    const reply = encodeResp(value as Buffer);
    const hash = hashOf(key);
    const entry = this.find(key, hash);
    if (entry !== undefined) entry.reply = reply;
    else {
      this.buckets.set(hash, { key: Buffer.from(key), reply, next: this.buckets.get(hash) });
      this.count++;
    }
  }

  /** Removes `key`; false if it was not there. */
  delete(key: Uint8Array): boolean {
    const hash = hashOf(key);
    let previous: Entry | undefined;
    for (let entry = this.buckets.get(hash); entry !== undefined; previous = entry, entry = entry.next) {
      if (!sameBytes(entry.key, key)) continue;
      if (previous !== undefined) previous.next = entry.next;
      else if (entry.next !== undefined) this.buckets.set(hash, entry.next);
      else this.buckets.delete(hash);
      this.count--;
      return true;
    }
    return false;
  }

  private find(key: Uint8Array, hash: number): Entry | undefined {
    let entry = this.buckets.get(hash);
    while (entry !== undefined && !sameBytes(entry.key, key)) entry = entry.next;
    return entry;
  }
}

/** FNV-1a of the bytes, as a small integer (a fast Map key). */
function hashOf(bytes: Uint8Array): number {
  let hash = 0x811c9dc5;
  for (let i = 0; i < bytes.length; i++) hash = Math.imul(hash ^ bytes[i], 0x01000193);
  return hash | 0;
}

function sameBytes(a: Uint8Array, b: Uint8Array): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}

/** The replies that need no allocation, written once. */
const OK = Buffer.from('+OK\r\n');
const PONG = Buffer.from('+PONG\r\n');
const NULL_BULK = Buffer.from('$-1\r\n');
const EMPTY_ARRAY = Buffer.from('*0\r\n');
/** QUIT's reply: +OK, as its own object so the pipeline can tell it ends the connection. */
const QUIT_OK = Buffer.from('+OK\r\n');
const INTEGERS = Array.from({ length: 1024 }, (_, n) => Buffer.from(`:${n}\r\n`));
/** What `CONFIG GET` tells redis-benchmark (it reads the second element of each reply): no persistence. */
const CONFIG: Record<string, Buffer> = {
  save: encodeResp([Buffer.from('save'), Buffer.from('')]),
  appendonly: encodeResp([Buffer.from('appendonly'), Buffer.from('no')]),
};
const HELLO_REPLY = encodeResp([
  ...['server', 'redis', 'version', '7.0.0', 'proto'].map((s) => Buffer.from(s)),
  2,
  ...['mode', 'standalone', 'role', 'master', 'modules'].map((s) => Buffer.from(s)),
  [],
]);

/** A command's handler: its arguments (the name first, each a Buffer) to the bytes of its reply. */
type Run = (args: Buffer[]) => Buffer;

/** A command: its lower-case name, its arity as Redis counts it (the name included; -n: at least n). */
interface Command {
  readonly name: string;
  readonly bytes: Buffer;
  readonly arity: number;
  readonly run: Run;
}

/** An error reply in Redis's words; CR and LF become spaces, as redis-server does. */
function errorReply(text: string): Buffer {
  return encodeResp(new RespError(text.replace(/[\r\n]/g, ' ')));
}

function integerReply(n: number | bigint): Buffer {
  return typeof n === 'number' && n >= 0 && n < INTEGERS.length ? INTEGERS[n] : Buffer.from(`:${n}\r\n`, 'latin1');
}

/** `$<length>\r\n<bytes>\r\n` in one new buffer: copies `bytes` out of the chunk they are a view of. */
function bulkReply(bytes: Uint8Array): Buffer {
  return encodeResp(bytes as Buffer);
}

/** `'x' 'y' ` as Redis quotes arguments in an error: each at most 128 characters, 128 in all. */
function quoted(args: Buffer[], from: number): string {
  let out = '';
  for (let i = from; i < args.length && out.length < 128; i++) out += `'${args[i].toString('latin1', 0, 128)}' `;
  return out;
}

const INT64_MIN = -(2n ** 63n);
const INT64_MAX = 2n ** 63n - 1n;
const INTEGER_TEXT = /^(0|-?[1-9][0-9]{0,19})$/;
const NOT_AN_INTEGER = errorReply('ERR value is not an integer or out of range');
const OVERFLOW = errorReply('ERR increment or decrement would overflow');

/**
 * The commands over one key space. Names are matched without regard to case and without making
 * a string: by length, then byte by byte.
 */
function commandTable(keys: KeySpace): Command[][] {
  const unknownSubcommand = (args: Buffer[]) =>
    errorReply(
      `ERR unknown subcommand '${args[1].toString('latin1', 0, 128)}'. Try ${args[0].toString('latin1').toUpperCase()} HELP.`,
    );
  const is = (arg: Buffer, word: string) => arg.length === word.length && arg.toString('latin1').toLowerCase() === word;

  const incr = (args: Buffer[]): Buffer => {
    const old = keys.value(args[1]);
    let next: number | bigint = 1;
    if (old !== undefined) {
      const text = old.toString('latin1');
      if (!INTEGER_TEXT.test(text)) return NOT_AN_INTEGER;
      if (text.length <= 15) next = Number(text) + 1;
      else {
        const n = BigInt(text);
        if (n < INT64_MIN || n > INT64_MAX) return NOT_AN_INTEGER;
        if (n === INT64_MAX) return OVERFLOW;
        next = n + 1n;
      }
    }
    keys.set(args[1], Buffer.from(String(next), 'latin1'));
    return integerReply(next);
  };

  const commands: Omit<Command, 'bytes'>[] = [
    { name: 'ping', arity: -1, run: (args) => (args.length === 1 ? PONG : bulkReply(args[1])) },
    { name: 'echo', arity: 2, run: (args) => bulkReply(args[1]) },
    {
      name: 'set',
      arity: -3,
      run: (args) => {
        if (args.length > 3)
          return errorReply(
            `ERR unsupported SET option '${args[3].toString('latin1', 0, 128)}': this server takes SET key value`,
          );
        keys.set(args[1], args[2]);
        return OK;
      },
    },
    { name: 'get', arity: 2, run: (args) => keys.reply(args[1]) ?? NULL_BULK },
    {
      name: 'del',
      arity: -2,
      run: (args) => {
        let deleted = 0;
        for (let i = 1; i < args.length; i++) if (keys.delete(args[i])) deleted++;
        return integerReply(deleted);
      },
    },
    { name: 'incr', arity: 2, run: incr },
    {
      // redis-cli 7 asks for COMMAND DOCS (then COMMAND) to complete and explain commands; it does without.
      name: 'command',
      arity: -1,
      run: (args) => (args.length === 1 || is(args[1], 'docs') ? EMPTY_ARRAY : unknownSubcommand(args)),
    },
    {
      // redis-benchmark asks CONFIG GET save and CONFIG GET appendonly, and warns when the reply is no pair.
      name: 'config',
      arity: -2,
      run: (args) => {
        if (!is(args[1], 'get')) return unknownSubcommand(args);
        if (args.length !== 3) return errorReply("ERR wrong number of arguments for 'config|get' command");
        return CONFIG[args[2].toString('latin1').toLowerCase()] ?? EMPTY_ARRAY;
      },
    },
    {
      // RESP2 only: HELLO [2] answers as redis-server does, HELLO 3 gets NOPROTO (clients then stay on RESP2).
      name: 'hello',
      arity: -1,
      run: (args) => {
        if (args.length === 1 || (args.length === 2 && args[1].toString('latin1') === '2')) return HELLO_REPLY;
        if (args.length === 2) return errorReply('NOPROTO unsupported protocol version');
        return errorReply(`ERR Syntax error in HELLO option '${args[2].toString('latin1', 0, 128)}'`);
      },
    },
    {
      name: 'client',
      arity: -2,
      run: (args) => (is(args[1], 'setname') || is(args[1], 'setinfo') ? OK : unknownSubcommand(args)),
    },
    {
      name: 'select',
      arity: 2,
      run: (args) => (args[1].toString('latin1') === '0' ? OK : errorReply('ERR DB index is out of range')),
    },
    { name: 'quit', arity: -1, run: () => QUIT_OK },
  ];
  const byLength: Command[][] = [];
  for (const command of commands)
    (byLength[command.name.length] ??= []).push({ ...command, bytes: Buffer.from(command.name) });
  return byLength;
}

/** The command named `name` (any case), or undefined. */
function lookup(table: Command[][], name: Buffer): Command | undefined {
  const candidates = table[name.length];
  if (candidates === undefined) return undefined;
  for (const command of candidates) {
    const bytes = command.bytes;
    let i = 0;
    // `| 0x20` lower-cases an ASCII letter, and makes no other byte a lower-case letter.
    while (i < bytes.length && (name[i] | 0x20) === bytes[i]) i++;
    if (i === bytes.length) return command;
  }
  return undefined;
}

/** Why `value`, sent in place of a bulk string, is a protocol error: in redis-server's words, naming its type byte. */
function notBulk(value: RespValue): string {
  return value === null ? 'invalid bulk length' : `expected '$', got '${typeByte(value)}'`;
}

function typeByte(value: RespValue): string {
  if (typeof value === 'number') return ':';
  if (typeof value === 'bigint') return '(';
  if (typeof value === 'string') return '+';
  if (typeof value === 'boolean') return '#';
  if (value instanceof RespError) return '-';
  if (value instanceof RespVerbatim) return '=';
  if (value instanceof RespPush) return '>';
  if (value instanceof Map) return '%';
  return value instanceof Set ? '~' : '*';
}

/** One command to the bytes of its reply; an argument that is no bulk string is a protocol error (thrown). */
function execute(table: Command[][], request: RespValue[]): Buffer {
  for (let i = 0; i < request.length; i++) {
    if (!(request[i] instanceof Uint8Array)) {
      throw new RespProtocolError(notBulk(request[i]), 0);
    }
  }
  const args = request as Buffer[];
  const command = lookup(table, args[0]);
  if (command === undefined) {
    return errorReply(
      `ERR unknown command '${args[0].toString('latin1', 0, 128)}', with args beginning with: ${quoted(args, 1)}`,
    );
  }
  const arity = command.arity;
  if (arity > 0 ? args.length !== arity : args.length < -arity) {
    return errorReply(`ERR wrong number of arguments for '${command.name}' command`);
  }
  return command.run(args);
}

const peerOf = (conn: Connection) => `${conn.remoteAddress}:${conn.remotePort}`;

/**
 * A RESP2 server over one key space (shared by every connection of this subscription):
 * each connection's bytes are decoded into commands (arrays of bulk strings, or inline commands),
 * each command answered in order, and the replies of one input chunk written together. A protocol
 * error (bad bytes, a limit exceeded) gets one `-ERR Protocol error: ...` reply, then that
 * connection is ended; a peer that resets, or closes mid-command, ends only its own connection.
 */
export function respServerDemo(options: RespServerDemoOptions): Observable<never> {
  const log = options.log ?? consoleLog;
  const codec = respServer({ maxBulkLength: options.maxBulkLength });
  return defer(() => {
    const table = commandTable(options.keys ?? new KeySpace());
    const run = (request: RespValue[]) => execute(table, request);
    return listen({
      port: options.port,
      host: options.host,
      // As redis-server: replies go out at once, not held back by Nagle's algorithm.
      noDelay: true,
      listening: (address) => {
        log('resp server listening: ' + JSON.stringify(address));
        options.listening?.(address);
      },
    }).pipe(
      serveEach(
        (conn: Connection): Observable<never> => {
          const dropUntilClosed = defer(() =>
            conn.data$.pipe(
              ignoreElements(),
              catchError(() => EMPTY),
            ),
          );
          return conn.data$.pipe(
            decodeWith(codec),
            map(run),
            takeWhile((reply) => reply !== QUIT_OK, true),
            catchError((error: Error) => {
              // A command cut short by the peer's FIN: nobody is left to answer.
              if (error instanceof TruncatedFrameError) return EMPTY;
              if (!(error instanceof RespProtocolError || error instanceof RespLimitError))
                return throwError(() => error);
              log(`${peerOf(conn)} protocol error: ${error.message}; ending the connection`);
              const reason = error instanceof RespProtocolError ? error.reason : error.message;
              return of(errorReply(`ERR Protocol error: ${reason}`));
            }),
            sendTo(conn, { pauseSource: conn }),
            concatWith(dropUntilClosed),
          );
        },
        // Any other failure (a reset) ends that connection only: serveEach destroys it, the server goes on.
        { onError: (error: any, conn) => log(`${peerOf(conn)} error: ${error.code ?? error.message}`) },
      ),
    );
  });
}

export async function main(argv: string[]): Promise<void> {
  const { port, values } = demoArgs(argv, 6380, { host: { type: 'string' } });
  const subscription = respServerDemo({ port, host: values.host as string | undefined }).subscribe({
    error: (error) => {
      console.error('server error:', error.code ?? '', error.message);
      process.exitCode = 1;
    },
  });
  stopOnSignal(subscription, () => console.log('resp server stopped'));
}

if (require.main === module) void main(process.argv.slice(2));
