// Reactive twin of the seed's binary parsing (003): reads `struct CTestData { char a; int b; char c[15]; }` from clients, on 8000.
import { EMPTY, Observable, catchError, ignoreElements, tap, throwError } from 'rxjs';
import { TruncatedFrameError, decodeStruct, field, listen, sendTo, serveEach, struct } from '../lib';
import type { BoundAddress, Connection } from '../lib';
import { Log, consoleLog, demoArgs, stopOnSignal } from './support';

/**
 * The seed's C struct with the layout a C compiler gives it on x86-64 and arm64: `a` at 0, three
 * bytes of padding, `b` (little-endian int32) at 4, `c` at 8..22, one byte of tail padding; 24
 * bytes in all. The seed's own parser sliced `a` as four bytes, read `b` with `readUInt8()` (its
 * low byte only) and `c` as sixteen.
 */
export const CTestData = struct({ a: field.char(1), b: 'int32', c: field.char(15) }, { byteOrder: 'LE' });

export interface StructServerOptions {
  port: number;
  host?: string;
  log?: Log;
  listening?: (address: BoundAddress) => void;
}

const hex = (chunk: Buffer) => chunk.toString('hex').replace(/(..)(?!$)/g, '$1 ');
const peerOf = (conn: Connection) => `${conn.remoteAddress}:${conn.remotePort}`;

/**
 * Logs every CTestData each client sends, whatever the chunking: bytes are framed into 24-byte
 * records (`decodeStruct`), so a struct split over two TCP segments, or two structs in one, come
 * out right. A client that ends mid-struct (the seed's 3-byte binary client does) is told about
 * in the log; the server ends its side when the client has ended, and goes on serving others.
 */
export function structServer(options: StructServerOptions): Observable<never> {
  const log = options.log ?? consoleLog;
  return listen({
    port: options.port,
    host: options.host,
    listening: (address) => {
      log('struct server listening: ' + JSON.stringify(address));
      options.listening?.(address);
    },
  }).pipe(
    serveEach(
      (conn: Connection) => {
        const who = peerOf(conn);
        log(`${who} connected`);
        return conn.data$.pipe(
          tap((chunk) => log(`${who} sent ${chunk.length} byte(s): ${hex(chunk)}`)),
          decodeStruct(CTestData),
          tap(({ a, b, c }) => {
            log(`char a : ${a}`);
            log(`int b : ${b}`);
            log(`char c : ${c}`);
          }),
          ignoreElements(),
          catchError((error: Error) => {
            if (!(error instanceof TruncatedFrameError)) return throwError(() => error);
            log(`${who} ended inside a struct: ${error.buffered} of ${CTestData.size} byte(s) dropped`);
            return EMPTY;
          }),
          // Nothing to send: the sink only ends our side once the client is done.
          sendTo(conn),
          tap({ complete: () => log(`${who} disconnected`) }),
        );
      },
      // Any other failure ends that connection (serveEach destroys it); the server goes on.
      { onError: (error: any, conn) => log(`${peerOf(conn)} error: ${error.message}`) },
    ),
  );
}

export async function main(argv: string[]): Promise<void> {
  const { port, values } = demoArgs(argv, 8000, { host: { type: 'string' } });
  const subscription = structServer({ port, host: values.host as string | undefined }).subscribe({
    error: (error) => {
      console.error('server error:', error.code ?? '', error.message);
      process.exitCode = 1;
    },
  });
  stopOnSignal(subscription, () => console.log('struct server stopped'));
}

if (require.main === module) void main(process.argv.slice(2));
