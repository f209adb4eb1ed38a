// A Redis client on rxnet: a reconnecting client counting ticks (it rides through a restart of the server) and a pool for bursts.
import { Observable, catchError, concat, concatMap, defer, finalize, forkJoin, map, of, take, tap, timer } from 'rxjs';
import { pool, reconnectingClient, requester, respClient } from '../lib';
import type { Connection, RespValue } from '../lib';
import { Log, consoleLog, demoArgs, integerFlag, stopOnSignal } from './support';

export interface RedisClientDemoOptions {
  port: number;
  host?: string;
  /** Ticks before it ends (default: until stopped). */
  ticks?: number;
  /** Ms between ticks (default 1000). */
  interval?: number;
  /** SET+GET pairs sent through the pool each tick (default 100). */
  burst?: number;
  /** Most pooled connections (default 4). */
  poolSize?: number;
  /** The key counted (default `rxnet:demo:ticks`); the burst uses `<key>:<n>`. */
  key?: string;
  log?: Log;
}

const codec = respClient();
const message = (error: unknown) => (error instanceof Error ? error.message : String(error));

/** Names the connection in `CLIENT LIST`, with a requester of its own that stops reading once done. */
function nameIt(conn: Connection, name: string): Observable<RespValue> {
  const rpc = requester(conn, codec);
  return rpc.request(['CLIENT', 'SETNAME', name]).pipe(finalize(() => rpc.close()));
}

/**
 * Each tick: one `INCR` through a reconnecting client (requests made while redis is down wait for
 * it to come back, up to their 5 s timeout), then `burst` concurrent SET+GET pairs through a pool
 * of `poolSize` connections, each pair on one connection, checked. Completes after `ticks`.
 */
export function redisClientDemo(options: RedisClientDemoOptions): Observable<never> {
  const { port, host = '127.0.0.1', interval = 1000, burst = 100, poolSize = 4, key = 'rxnet:demo:ticks' } = options;
  const ticks = options.ticks ?? Infinity;
  const log = options.log ?? consoleLog;
  return new Observable<never>((subscriber) => {
    const client = reconnectingClient({
      connect: { host, port, timeout: 2000 },
      backoff: { initialDelay: 100, maxDelay: 2000 },
      handshake: (conn) => nameIt(conn, 'rxnet-demo-ticks'),
    });
    const ticker = requester(client, codec, { timeout: 5000 });
    const conns = pool(
      { host, port, timeout: 2000 },
      {
        max: poolSize,
        acquireTimeout: 5000,
        attach: (conn) => requester(conn, codec, { timeout: 5000 }),
        handshake: (conn) => nameIt(conn, 'rxnet-demo-pool'),
      },
    );

    const count = (tick: number) =>
      ticker.request(['INCR', key]).pipe(
        map((n) => `tick ${tick}: ${key} = ${String(n)}`),
        catchError((error: unknown) => of(`tick ${tick}: INCR failed: ${message(error)}`)),
      );
    const pair = (tick: number, n: number) =>
      conns.use((rpc) =>
        rpc
          .request(['SET', `${key}:${n}`, `${tick}.${n}`])
          .pipe(concatMap(() => rpc.request(['GET', `${key}:${n}`])))
          .pipe(map((value) => String(value) === `${tick}.${n}`)),
      );
    const bursts = (tick: number) =>
      defer(() => {
        const begin = performance.now();
        return forkJoin(Array.from({ length: burst }, (_, n) => pair(tick, n))).pipe(
          map((ok) => {
            const ms = (performance.now() - begin).toFixed(1);
            const matched = ok.every(Boolean) ? 'all read back' : `${ok.filter((x) => !x).length} MISMATCHED`;
            return `tick ${tick}: pool: ${burst} SET+GET in ${ms} ms on ${conns.size} connection(s), ${matched}`;
          }),
          catchError((error: unknown) => of(`tick ${tick}: pool burst failed: ${message(error)}`)),
        );
      });

    const states = client.state$.subscribe((state) => log(`redis ${host}:${port}: ${state}`));
    const work = timer(0, interval)
      .pipe(
        take(ticks),
        concatMap((i) => concat(count(i + 1), burst > 0 ? bursts(i + 1) : [])),
        tap((line) => log(line)),
      )
      .subscribe({ error: (error: unknown) => subscriber.error(error), complete: () => subscriber.complete() });
    return () => {
      work.unsubscribe();
      conns.close();
      client.close();
      states.unsubscribe();
    };
  });
}

export async function main(argv: string[]): Promise<void> {
  const { port, values } = demoArgs(argv, 6379, {
    host: { type: 'string' },
    ticks: { type: 'string' },
    interval: { type: 'string' },
    burst: { type: 'string' },
    pool: { type: 'string' },
  });
  const subscription = redisClientDemo({
    port,
    host: values.host as string | undefined,
    ticks: values.ticks === undefined ? undefined : integerFlag('--ticks', values.ticks, 1),
    interval: values.interval === undefined ? undefined : integerFlag('--interval', values.interval, 1),
    burst: values.burst === undefined ? undefined : integerFlag('--burst', values.burst, 0, 100_000),
    poolSize: values.pool === undefined ? undefined : integerFlag('--pool', values.pool, 1, 1000),
  }).subscribe({
    error: (error: Error) => {
      console.error(error.message);
      process.exitCode = 1;
    },
  });
  stopOnSignal(subscription);
}
