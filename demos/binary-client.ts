// Reactive twin of the seed's "send binary data with Buffer" client (003): writes 01 02 03 to port 8000 and ends.
import { Observable, ignoreElements, merge, mergeMap, of, tap } from 'rxjs';
import { connect, sendTo } from '../lib';
import { Log, consoleLog, demoArgs, stopOnSignal } from './support';

/** The seed's three bytes, built the same way. */
export function seedBytes(): Buffer {
  const buffer = Buffer.alloc(3);
  buffer.writeUInt8(0x01, 0);
  buffer.writeUInt8(0x02, 1);
  buffer.writeUInt8(0x03, 2);
  return buffer;
}

/** Connects, writes the bytes, ends (as seed-binary-client.js does), completes once the connection has closed. */
export function binaryClient(port: number, host: string, log: Log = consoleLog): Observable<never> {
  return connect({ port, host }).pipe(
    mergeMap((conn) => {
      log(`connected to ${conn.remoteAddress}:${conn.remotePort}`);
      const bytes = seedBytes();
      const write = of(bytes).pipe(
        sendTo(conn),
        tap({ complete: () => log(`sent ${bytes.length} byte(s): ${bytes.toString('hex')}`) }),
      );
      return merge(write, conn.data$.pipe(ignoreElements()));
    }),
    tap({ complete: () => log('connection closed') }),
  );
}

export async function main(argv: string[]): Promise<void> {
  const { port, values } = demoArgs(argv, 8000, { host: { type: 'string', default: '127.0.0.1' } });
  const subscription = binaryClient(port, values.host as string).subscribe({
    error: (error) => {
      console.error('error:', error.code ?? '', error.message);
      process.exitCode = 1;
    },
  });
  stopOnSignal(subscription);
}

if (require.main === module) void main(process.argv.slice(2));
