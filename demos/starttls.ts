// STARTTLS both ways: a small SMTP-like server that switches to TLS on STARTTLS (as `openssl s_client -starttls smtp`
// expects), and a client that does the same dialogue with upgradeTls on its side.
import { readFileSync } from 'fs';
import * as path from 'path';
import { EMPTY, Observable, concat, concatWith, defer, ignoreElements, lastValueFrom, map, mergeMap, of } from 'rxjs';
import { takeWhile, tap } from 'rxjs';
import { connect, decodeLines, listen, sendTo, serveEach, upgradeTls } from '../lib';
import type { BoundAddress, Connection, UpgradeTlsClientOptions, UpgradeTlsServerOptions } from '../lib';
import { Log, consoleLog, demoArgs, stopOnSignal } from './support';

/** The demo's own certificate (self-signed, for localhost; see demos/certs/README.md). */
const DEMO_KEY = path.join(__dirname, 'certs', 'localhost.key');
const DEMO_CERT = path.join(__dirname, 'certs', 'localhost.crt');

/** What the server does after a reply: read on, switch to TLS, or say goodbye. */
type Next = 'more' | 'starttls' | 'quit';

interface Answer {
  readonly reply: string;
  readonly next: Next;
}

/** The server's answer to one command line; `secure` once TLS is on (STARTTLS is then neither offered nor taken). */
export function answer(line: string, name: string, secure: boolean): Answer {
  const [verb = '', argument] = line.trim().split(/\s+/, 2);
  switch (verb.toUpperCase()) {
    case 'EHLO': {
      const hello = `250-${name} greets ${argument ?? 'you'}\r\n`;
      return { reply: hello + (secure ? '' : '250-STARTTLS\r\n') + '250 8BITMIME\r\n', next: 'more' };
    }
    case 'HELO':
      return { reply: `250 ${name}\r\n`, next: 'more' };
    case 'STARTTLS':
      return secure
        ? { reply: '503 5.5.1 TLS already active\r\n', next: 'more' }
        : { reply: '220 2.0.0 Ready to start TLS\r\n', next: 'starttls' };
    case 'NOOP':
    case 'RSET':
      return { reply: '250 2.0.0 OK\r\n', next: 'more' };
    case 'QUIT':
      return { reply: '221 2.0.0 Bye\r\n', next: 'quit' };
    default:
      return { reply: '502 5.5.2 Command not recognized\r\n', next: 'more' };
  }
}

/**
 * Answers `conn`'s commands until one asks for TLS or says QUIT, or the peer ends; emits what
 * comes next ('more' when the peer ended) once the replies are written. Stops reading at once
 * after STARTTLS, so that no byte after it is taken as plain text.
 */
function converse(conn: Connection, name: string, secure: boolean): Observable<Next> {
  return defer(() => {
    let next: Next = 'more';
    return conn.data$.pipe(
      // RFC 5321: a command line is at most 1,000 bytes with its CRLF.
      decodeLines({ maxLength: 998 }),
      map((line) => answer(line.toString('latin1'), name, secure)),
      takeWhile((a) => a.next === 'more', true),
      tap((a) => (next = a.next)),
      map((a) => a.reply),
      sendTo(conn, { end: false }),
      concatWith(defer(() => of(next))),
    );
  });
}

export interface StartTlsDemoOptions {
  port: number;
  host?: string;
  /** The server's key and certificate (PEM); the demo's own by default. */
  key?: string | Buffer;
  cert?: string | Buffer;
  /** The name in the greeting and EHLO reply. */
  name?: string;
  /** ms a client gets to finish its handshake after STARTTLS (default 10 000). */
  handshakeTimeout?: number;
  log?: Log;
  listening?: (address: BoundAddress) => void;
}

/** The server: greets in clear, offers STARTTLS after EHLO, and goes on over TLS after it. */
export function startTlsServer(options: StartTlsDemoOptions): Observable<never> {
  const name = options.name ?? 'rxnet.localhost';
  const log = options.log ?? consoleLog;
  // One options object for every upgrade: the key and certificate are read once.
  const tls: UpgradeTlsServerOptions = {
    isServer: true,
    key: options.key ?? readFileSync(DEMO_KEY),
    cert: options.cert ?? readFileSync(DEMO_CERT),
    handshakeTimeout: options.handshakeTimeout,
  };
  const session = (conn: Connection): Observable<unknown> => {
    conn.write(`220 ${name} ESMTP rxnet starttls demo\r\n`);
    return converse(conn, name, false).pipe(
      mergeMap((next) => {
        if (next !== 'starttls') {
          conn.end();
          return EMPTY;
        }
        return upgradeTls(conn, tls).pipe(
          mergeMap((secure) => {
            log(`${conn.remoteAddress}:${conn.remotePort} switched to ${secure.tls?.protocol}`);
            return converse(secure, name, true).pipe(tap({ complete: () => secure.end() }));
          }),
        );
      }),
    );
  };
  return listen({
    port: options.port,
    host: options.host,
    // The server speaks first: a client owes no first byte.
    firstByteTimeout: 0,
    listening: (address) => {
      log('starttls server listening: ' + JSON.stringify(address));
      options.listening?.(address);
    },
  }).pipe(
    serveEach(session, {
      onError: (error: any, conn) => log(`${conn.remoteAddress}:${conn.remotePort} ${error.code ?? error.message}`),
    }),
  );
}

export interface StartTlsClientOptions extends UpgradeTlsClientOptions {
  port: number;
  host?: string;
}

/**
 * The client: reads the greeting, says EHLO, checks that STARTTLS is offered, asks for it, and
 * once the server says 220 stops reading and runs the handshake; then EHLO and QUIT over TLS.
 * Resolves with every line the server sent and the TLS protocol used.
 */
export async function startTlsClient(options: StartTlsClientOptions): Promise<{ lines: string[]; protocol: string }> {
  const { port, host = '127.0.0.1', ...tls } = options;
  const lines: string[] = [];
  let protocol = '';
  /** One dialogue: `step` is told each line and returns what to write, or false to stop reading. */
  const dialogue = (conn: Connection, step: (line: string) => string | false | undefined) =>
    conn.data$.pipe(
      decodeLines(),
      map((line) => line.toString('latin1')),
      tap((line) => lines.push(line)),
      takeWhile((line) => {
        const write = step(line);
        if (typeof write === 'string') conn.write(write);
        return write !== false;
      }),
      ignoreElements(),
    );
  const expect = (line: string, code: string) => {
    if (!line.startsWith(code)) throw new Error(`expected ${code}, got ${JSON.stringify(line)}`);
  };
  const session = (conn: Connection) => {
    let stage: 'greeting' | 'ehlo' | 'starttls' = 'greeting';
    let offered = false;
    const plain = dialogue(conn, (line) => {
      switch (stage) {
        case 'greeting':
          expect(line, '220 ');
          stage = 'ehlo';
          return 'EHLO rxnet.client\r\n';
        case 'ehlo':
          offered ||= /^250[- ]STARTTLS$/i.test(line);
          if (line.startsWith('250-')) return undefined;
          expect(line, '250 ');
          if (!offered) throw new Error('the server does not offer STARTTLS');
          stage = 'starttls';
          return 'STARTTLS\r\n';
        case 'starttls':
          // The go-ahead: stop reading here, so the next byte read is the server's TLS.
          expect(line, '220');
          return false;
      }
    });
    const secure = defer(() => upgradeTls(conn, { servername: 'localhost', ...tls })).pipe(
      mergeMap((secureConn) => {
        protocol = secureConn.tls?.protocol ?? '';
        secureConn.write('EHLO rxnet.client\r\n');
        let quitting = false;
        return dialogue(secureConn, (line) => {
          if (quitting) {
            expect(line, '221');
            return false;
          }
          if (line.startsWith('250-')) return undefined;
          expect(line, '250 ');
          quitting = true;
          return 'QUIT\r\n';
        }).pipe(tap({ complete: () => secureConn.end() }));
      }),
    );
    return concat(plain, secure);
  };
  await lastValueFrom(connect({ port, host }).pipe(mergeMap(session)), { defaultValue: undefined });
  return { lines, protocol };
}

export async function main(argv: string[]): Promise<void> {
  const { port, values } = demoArgs(argv, 2525, {
    host: { type: 'string' },
    key: { type: 'string' },
    cert: { type: 'string' },
    client: { type: 'boolean' },
  });
  const host = values.host as string | undefined;
  const pem = (file: unknown) => (typeof file === 'string' ? readFileSync(file) : undefined);
  if (values.client) {
    // Trusts the demo's certificate unless told another CA (--cert).
    const result = await startTlsClient({ port, host, ca: pem(values.cert) ?? readFileSync(DEMO_CERT) });
    for (const line of result.lines) console.log('< ' + line);
    console.log(`(${result.protocol})`);
    return;
  }
  const subscription = startTlsServer({ port, host, key: pem(values.key), cert: pem(values.cert) }).subscribe({
    error: (error) => {
      console.error('server error:', error.code ?? '', error.message);
      process.exitCode = 1;
    },
  });
  stopOnSignal(subscription, () => console.log('starttls server stopped'));
}

if (require.main === module) void main(process.argv.slice(2));
