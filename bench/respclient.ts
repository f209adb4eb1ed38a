// Child-process entry of the `resp` workload's client runs: INCR issued all at once on one connection, by rxnet or ioredis.
import { firstValueFrom } from 'rxjs';
import Redis from 'ioredis';
import { requester } from '../lib/client/requester';
import { respClient } from '../lib/codec/resp/resp';
import { open } from '../lib/core/open';

/**
 * The clients compared: rxnet's `requester` with `respClient()` (`maxInFlight` 1024; `rxnet` without
 * request timeouts, as ioredis has none by default; `rxnet-timeout` with the default 30 s timeout,
 * a timer per request), and ioredis 5 with every command issued without awaiting (`ioredis`: one
 * socket write each; `ioredis-auto`: `enableAutoPipelining`, the commands of one tick in one write).
 */
export const RESP_CLIENTS = ['rxnet', 'rxnet-timeout', 'ioredis', 'ioredis-auto'] as const;
export type RespClientKind = (typeof RESP_CLIENTS)[number];

export interface RespClientOptions {
  client: RespClientKind;
  port: number;
  /** INCR commands measured; as many again, first, to warm up. */
  ops: number;
  key: string;
}

/** What the child prints, as one JSON line. */
export interface RespClientResult {
  client: RespClientKind;
  ops: number;
  seconds: number;
  opsPerSec: number;
  /** The client process's CPU time (user + system) per command over the measured batch. */
  cpuUsPerOp: number;
}

/** Issues `n` INCR of `key` at once and resolves with the replies (the counter after each). */
type Batch = (n: number) => Promise<unknown[]>;

async function rxnetClient(options: RespClientOptions): Promise<{ batch: Batch; close(): void }> {
  const conn = await open({ host: '127.0.0.1', port: options.port, noDelay: true });
  const redis = requester(conn, respClient(), {
    maxInFlight: 1024,
    maxQueued: Infinity,
    ...(options.client === 'rxnet' ? { timeout: 0 } : {}),
  });
  const command = ['INCR', options.key];
  return {
    batch: (n) => Promise.all(Array.from({ length: n }, () => firstValueFrom(redis.request(command)))),
    close: () => conn.destroy(),
  };
}

async function ioredisClient(options: RespClientOptions): Promise<{ batch: Batch; close(): void }> {
  const redis = new Redis({
    host: '127.0.0.1',
    port: options.port,
    lazyConnect: true,
    enableAutoPipelining: options.client === 'ioredis-auto',
  });
  await redis.connect();
  return {
    batch: (n) => Promise.all(Array.from({ length: n }, () => redis.incr(options.key))),
    close: () => redis.disconnect(),
  };
}

export async function runRespClient(options: RespClientOptions): Promise<RespClientResult> {
  const client = options.client.startsWith('rxnet') ? await rxnetClient(options) : await ioredisClient(options);
  try {
    await client.batch(options.ops);
    const cpu = process.cpuUsage();
    const start = process.hrtime.bigint();
    const replies = await client.batch(options.ops);
    const seconds = Number(process.hrtime.bigint() - start) / 1e9;
    const used = process.cpuUsage(cpu);
    // The counter went up by one per command, in order: the last reply is the total.
    const last = Number(replies[replies.length - 1]);
    if (last !== 2 * options.ops)
      throw new Error(`${options.client}: last INCR gave ${last}, expected ${2 * options.ops}`);
    return {
      client: options.client,
      ops: options.ops,
      seconds,
      opsPerSec: options.ops / seconds,
      cpuUsPerOp: (used.user + used.system) / options.ops,
    };
  } finally {
    client.close();
  }
}

if (require.main === module) {
  runRespClient(JSON.parse(process.argv[2]) as RespClientOptions).then(
    (result) => console.log(JSON.stringify(result)),
    (error: Error) => {
      console.error(error.stack ?? error.message);
      process.exitCode = 1;
    },
  );
}
