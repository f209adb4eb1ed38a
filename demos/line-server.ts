// A line protocol with decodeLines() and text decoding: numbers each line and answers it; a line over the limit ends that connection.
import { EMPTY, Observable, catchError, concatWith, defer, ignoreElements, map, of, tap, throwError } from 'rxjs';
import { FrameTooLongError, encodeLines, decodeLines, listen, sendTo, serveEach } from '../lib';
import type { BoundAddress, Connection } from '../lib';
import { Log, consoleLog, demoArgs, integerFlag, stopOnSignal } from './support';

const peerOf = (conn: Connection) => `${conn.remoteAddress}:${conn.remotePort}`;

/** Encodings in which `\n` is the byte 0x0a and never part of another character, so lines can be cut before decoding. */
const LINE_SAFE_ENCODINGS = ['utf8', 'utf-8', 'latin1', 'binary', 'ascii'] as const;
export type LineEncoding = (typeof LINE_SAFE_ENCODINGS)[number];

export interface LineServerOptions {
  port: number;
  host?: string;
  /** Longest line in bytes (default 1024); a longer one gets an error reply and the connection is ended. */
  maxLine?: number;
  encoding?: LineEncoding;
  log?: Log;
  listening?: (address: BoundAddress) => void;
}

/**
 * For each connection: split the bytes into lines (`\n` or `\r\n`, whatever the chunking), decode
 * each line as text (a line is never cut inside a character), and answer `N: <line>`. A line over
 * `maxLine` bytes is refused before it is buffered: one `ERR` line, then the connection is ended
 * (and what the client still sends is read and dropped until it closes). Other connections go on.
 */
export function lineServer(options: LineServerOptions): Observable<never> {
  const log = options.log ?? consoleLog;
  const maxLine = options.maxLine ?? 1024;
  const encoding = options.encoding ?? 'utf8';
  if (!LINE_SAFE_ENCODINGS.includes(encoding))
    throw new Error(`--encoding must be one of ${LINE_SAFE_ENCODINGS.join(', ')}`);
  return listen({
    port: options.port,
    host: options.host,
    listening: (address) => {
      log('line server listening: ' + JSON.stringify(address));
      options.listening?.(address);
    },
  }).pipe(
    serveEach(
      (conn: Connection): Observable<never> => {
        const who = peerOf(conn);
        log(`${who} connected`);
        let count = 0;
        const dropUntilClosed = defer(() =>
          conn.data$.pipe(
            ignoreElements(),
            catchError(() => EMPTY),
          ),
        );
        const replies = conn.data$.pipe(
          decodeLines({ maxLength: maxLine }),
          map((line) => line.toString(encoding)),
          tap((text) => log(`${who} line ${++count}: ${text}`)),
          map((text) => `${count}: ${text}`),
          catchError((error: Error) => {
            if (!(error instanceof FrameTooLongError)) return throwError(() => error);
            log(`${who} sent a line over ${error.limit} bytes: ending the connection`);
            return of(`ERR line longer than ${error.limit} bytes`);
          }),
        );
        return replies.pipe(
          encodeLines(),
          sendTo(conn),
          concatWith(dropUntilClosed),
          tap({ complete: () => log(`${who} disconnected after ${count} line(s)`) }),
        );
      },
      // Any other failure ends that connection (serveEach destroys it); the server goes on.
      { onError: (error: any, conn) => log(`${peerOf(conn)} error: ${error.message}`) },
    ),
  );
}

export async function main(argv: string[]): Promise<void> {
  const { port, values } = demoArgs(argv, 3000, {
    host: { type: 'string' },
    'max-line': { type: 'string', default: '1024' },
    encoding: { type: 'string', default: 'utf8' },
  });
  const subscription = lineServer({
    port,
    host: values.host as string | undefined,
    maxLine: integerFlag('--max-line', values['max-line'], 0),
    encoding: values.encoding as LineEncoding,
  }).subscribe({
    error: (error) => {
      console.error('server error:', error.code ?? '', error.message);
      process.exitCode = 1;
    },
  });
  stopOnSignal(subscription, () => console.log('line server stopped'));
}

if (require.main === module) void main(process.argv.slice(2));
