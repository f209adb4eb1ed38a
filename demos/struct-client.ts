// Sends the seed's `struct CTestData` to the struct server, with the exact C layout, as a C program would.
import { Observable, concatMap, delay, from, ignoreElements, merge, mergeMap, of, range, tap } from 'rxjs';
import { connect, encodeStruct, sendTo } from '../lib';
import { Log, consoleLog, demoArgs, integerFlag, stopOnSignal } from './support';
import { CTestData } from './struct-server';

export interface StructClientOptions {
  port: number;
  host: string;
  a: string;
  b: number;
  c: string;
  /** How many structs to send (b counts up from the given value). */
  count: number;
  /** Write the bytes in pieces of this size (0: one write per struct), to show that framing does not care. */
  split: number;
  /** Pause between pieces, in ms, so that they arrive as separate segments (default 20). */
  pause?: number;
  log?: Log;
}

/** Connects, writes `count` encoded structs (optionally in small pieces), ends, completes once closed. */
export function structClient(options: StructClientOptions): Observable<never> {
  const log = options.log ?? consoleLog;
  return connect({ port: options.port, host: options.host }).pipe(
    mergeMap((conn) => {
      conn.setNoDelay(true);
      log(`connected to ${conn.remoteAddress}:${conn.remotePort}`);
      const outbound = range(0, options.count).pipe(
        tap((i) =>
          log(`sending { a: '${options.a}', b: ${options.b + i}, c: '${options.c}' } (${CTestData.size} bytes)`),
        ),
        concatMap((i) => from([{ a: options.a, b: options.b + i, c: options.c }]).pipe(encodeStruct(CTestData))),
        concatMap((bytes) => (options.split > 0 ? pieces(bytes, options.split) : [bytes])),
        concatMap((piece) => (options.split > 0 ? of(piece).pipe(delay(options.pause ?? 20)) : of(piece))),
        sendTo(conn),
      );
      // Reading until the server's FIN lets the connection close on both sides.
      return merge(outbound, conn.data$.pipe(ignoreElements()));
    }),
    tap({ complete: () => log('connection closed') }),
  );
}

function pieces(bytes: Buffer, size: number): Buffer[] {
  const out: Buffer[] = [];
  for (let i = 0; i < bytes.length; i += size) out.push(bytes.subarray(i, i + size));
  return out;
}

export async function main(argv: string[]): Promise<void> {
  const { port, values } = demoArgs(argv, 8000, {
    host: { type: 'string', default: '127.0.0.1' },
    a: { type: 'string', default: 'A' },
    b: { type: 'string', default: '300' },
    c: { type: 'string', default: 'hello' },
    count: { type: 'string', default: '1' },
    split: { type: 'string', default: '0' },
  });
  const subscription = structClient({
    port,
    host: values.host as string,
    a: values.a as string,
    b: integerFlag('--b', values.b, -0x80000000, 0x7fffffff),
    c: values.c as string,
    count: integerFlag('--count', values.count, 0),
    split: integerFlag('--split', values.split, 0),
  }).subscribe({
    error: (error) => {
      console.error('error:', error.code ?? '', error.message);
      process.exitCode = 1;
    },
  });
  stopOnSignal(subscription);
}

if (require.main === module) void main(process.argv.slice(2));
