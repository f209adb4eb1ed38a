// Reactive twin of the seed's TCP server (000): answers each chunk with "Sending: <data>" on 8107.
import { Observable, finalize, map, tap } from 'rxjs';
import { listen, sendTo, serveEach } from '../lib';
import type { BoundAddress, Connection } from '../lib';
import { Log, consoleLog, demoArgs, stopOnSignal } from './support';

export interface EchoServerOptions {
  port: number;
  /** Bind address; all addresses when omitted, as the seed's `server.listen(PORT)`. */
  host?: string;
  path?: string;
  log?: Log;
  listening?: (address: BoundAddress) => void;
}

/** The seed server's behaviour and log lines, as one Observable pipeline. */
export function echoServer(options: EchoServerOptions): Observable<never> {
  const log = options.log ?? consoleLog;
  let open = 0;
  // Socket errors are logged as the seed logs them; onError logs only the other failures.
  const socketErrors = new WeakSet<object>();
  return listen({
    ...(options.path !== undefined ? { path: options.path } : { port: options.port, host: options.host }),
    listening: (address) => {
      log('Server listening: ' + JSON.stringify(address));
      options.listening?.(address);
    },
  }).pipe(
    serveEach(
      (conn: Connection) => {
        open++;
        log('Client connection: ');
        log(` local = ${conn.localAddress}:${conn.localPort}`);
        log(` remote = ${conn.remoteAddress}:${conn.remotePort}`);
        // Node's own inactivity timer, as the seed sets it; the event shows on events$.
        conn.setTimeout(500);
        const timeouts = conn.events$.subscribe((e) => {
          if (e.type === 'timeout') log('Socket Timed out');
          if (e.type !== 'error') return;
          socketErrors.add(e.error);
          log('Socket Error: ' + JSON.stringify(e.error));
        });
        return conn.data$.pipe(
          map((chunk) => {
            const text = chunk.toString('utf8');
            log(`Received data from client on port ${conn.remotePort}: ${text}`);
            log(' Bytes received: ' + conn.bytesRead);
            return 'Sending: ' + text;
          }),
          sendTo(conn, { pauseSource: conn }),
          tap({ complete: () => log(' Bytes sent: ' + conn.bytesWritten) }),
          finalize(() => {
            timeouts.unsubscribe();
            open--;
            log('Client disconnected');
            log('Remaining Connections: ' + open);
          }),
        );
      },
      // The failing connection is destroyed and the server goes on.
      {
        onError: (error: any) => {
          if (!socketErrors.has(error)) log('Connection Error: ' + (error.code ?? error.message));
        },
      },
    ),
  );
}

export async function main(argv: string[]): Promise<void> {
  const { port, values } = demoArgs(argv, 8107, { host: { type: 'string' }, path: { type: 'string' } });
  const subscription = echoServer({
    port,
    host: values.host as string | undefined,
    path: values.path as string | undefined,
  }).subscribe({
    error: (error) => {
      console.error('Server Error: ', error.code ?? '', error.message);
      process.exitCode = 1;
    },
  });
  stopOnSignal(subscription, () => console.log('Server Terminated'));
}

if (require.main === module) void main(process.argv.slice(2));
