// Reactive twin of the seed's idle-disconnect example (003): echoes, and ends connections idle for 6 s with "idle timeout..".
import { Observable, filter, finalize, merge, tap } from 'rxjs';
import type { SchedulerLike } from 'rxjs';
import { endOnIdle, idleWatch, listen, sendTo, serveEach } from '../lib';
import type { BoundAddress, Connection } from '../lib';
import { consoleLog, demoArgs, stopOnSignal } from './support';
import type { Log } from './support';

/** The seed's timeout: `var timeout=6000; socket.setTimeout(timeout);`. */
export const DEFAULT_IDLE_MS = 6000;

export interface IdleAppOptions {
  /** Idle time (nothing read, nothing written) after which a connection is ended; default 6000 ms. */
  idle?: number;
  log?: Log;
  /** Scheduler of the idle timers (a TestScheduler in specs); asyncScheduler by default. */
  scheduler?: SchedulerLike;
}

/**
 * The server's behaviour over any stream of connections (`listen()`, or the test kit's memory server):
 * keep-alive and noDelay as in the seed, echo what arrives, and after `idle` ms without traffic
 * write `idle timeout..` and end, as the seed's `socket.on('timeout', ...)` handler does.
 */
export function idleApp(conns$: Observable<Connection>, options: IdleAppOptions = {}): Observable<unknown> {
  const idle = options.idle ?? DEFAULT_IDLE_MS;
  const log = options.log ?? consoleLog;
  const peerOf = (conn: Connection) => `${conn.remoteAddress}:${conn.remotePort}`;
  return conns$.pipe(
    serveEach(
      (conn) => {
        const peer = peerOf(conn);
        // socket.setKeepAlive(true, 10000); socket.setNoDelay(true);
        conn.setKeepAlive(true, 10000).setNoDelay(true);
        log(`${peer} connected`);
        return merge(
          conn.data$.pipe(
            // After our goodbye there is nobody left to answer.
            filter(() => !conn.writeEnded),
            sendTo(conn, { pauseSource: conn }),
          ),
          conn.events$.pipe(
            idleWatch({ allIdle: idle, scheduler: options.scheduler }),
            endOnIdle(conn, { goodbye: 'idle timeout..' }),
            tap((event) => log(`${peer} idle for ${event.idleFor} ms: idle timeout..`)),
          ),
        ).pipe(finalize(() => log(`${peer} disconnected`)));
      },
      // One connection's failure ends that connection (serveEach destroys it), not the server.
      { onError: (error: any, conn) => log(`${peerOf(conn)} error: ${error.code ?? error.message}`) },
    ),
  );
}

export interface IdleServerOptions extends IdleAppOptions {
  port: number;
  /** Bind address; all addresses when omitted. */
  host?: string;
  listening?: (address: BoundAddress) => void;
}

/** {@link idleApp} on a real TCP server. */
export function idleServer(options: IdleServerOptions): Observable<unknown> {
  const log = options.log ?? consoleLog;
  const conns$ = listen({
    port: options.port,
    host: options.host,
    listening: (address) => {
      log(`idle server listening on ${JSON.stringify(address)}, idle timeout ${options.idle ?? DEFAULT_IDLE_MS} ms`);
      options.listening?.(address);
    },
  });
  return idleApp(conns$, options);
}

/** `npm run demo -- idle-server [--port 8108] [--host H] [--idle MS]`; Ctrl-C stops it. */
export async function main(argv: string[]): Promise<void> {
  const { port, values } = demoArgs(argv, 8108, { host: { type: 'string' }, idle: { type: 'string' } });
  const idle = values.idle === undefined ? DEFAULT_IDLE_MS : Number(values.idle);
  if (!Number.isInteger(idle) || idle < 1)
    throw new Error(`--idle must be an integer >= 1 (ms), got ${String(values.idle)}`);
  const subscription = idleServer({ port, host: values.host as string | undefined, idle }).subscribe({
    error: (error) => {
      console.error('Server Error: ', error.code ?? '', error.message);
      process.exitCode = 1;
    },
  });
  stopOnSignal(subscription, () => console.log('server closed'));
}

if (require.main === module) void main(process.argv.slice(2));
