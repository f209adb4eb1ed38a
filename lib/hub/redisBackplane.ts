// redisBackplane(): hubs in several processes or machines as one room over Redis pub/sub (ioredis, an optional peer).
import { Buffer } from 'buffer';
import { randomBytes } from 'crypto';
import { hostname } from 'os';
import { Subject } from 'rxjs';
import type RedisClient from 'ioredis';
import type { RedisOptions } from 'ioredis';
import { checkBackplaneOptions } from './backplane';
import type { Backplane, BackplaneEvent, BackplaneMessage, BackplaneOptions } from './backplane';
import { backoffDelay } from '../util/backoff';
import type { BackoffOptions } from '../util/backoff';
import { InvalidArgumentError } from '../errors';
import type { Chunk } from '../types';
import { toBuffer } from '../util/toBuffer';

/**
 * Options of {@link redisBackplane}.
 *
 * @example
 * ```ts
 * import { redisBackplane, type RedisBackplaneOptions } from 'rxnet';
 *
 * const options: RedisBackplaneOptions = {
 *   url: 'redis://:secret@redis.internal:6379/0',
 *   channel: 'chat:lobby',
 *   backoff: { initialDelay: 200, maxDelay: 10_000 },
 *   highWaterMark: 2048,
 * };
 * const backplane = redisBackplane(options);
 * ```
 */
export interface RedisBackplaneOptions extends BackplaneOptions {
  /** `redis://[user:pass@]host:port[/db]` (default `redis://127.0.0.1:6379`). */
  readonly url?: string;
  /** The pub/sub channel: one room per channel (default `'rxnet:hub'`). */
  readonly channel?: string;
  /** This server's id (default `host:pid:random`); must differ between servers. */
  readonly serverId?: string;
  /** Reconnect delays, as `backoff()` computes them (default 100 ms doubling to 5 s, jittered). */
  readonly backoff?: Pick<BackoffOptions, 'initialDelay' | 'maxDelay' | 'factor' | 'jitter'>;
  /** Publishes sent and not yet acknowledged by Redis before more wait in the queue (default 256). */
  readonly maxInFlight?: number;
  /**
   * Extra ioredis `RedisOptions` (TLS, password ...), applied to both connections. Typed loosely
   * so that rxnet's declarations do not need ioredis installed (it is an optional peer).
   */
  readonly redis?: Readonly<Record<string, unknown>>;
}

/**
 * A {@link Backplane} over Redis pub/sub: every server publishes its members' messages on one
 * channel and subscribes to it, so hubs on many processes and machines are one room.
 *
 * ```
 * frame on the channel: [u8 id length][server id, UTF-8][u48 BE seq][payload]
 * server A: publish(m) ──► Redis ──► B, C: messages$ {origin:'A', seq, m}    (A drops its own echo)
 * Redis away:  events$ degraded ── publishes queue (bounded) ── back {downtime, flushed}
 * ```
 *
 * Two connections (Redis needs one for subscribing), reconnecting with the `backoff()` policy
 * (exponential, capped, jittered); while either is down the backplane is degraded and queues. Order per sender holds because one connection publishes,
 * in order, and the queue is flushed before anything newer. Limits: at most `highWaterMark`
 * messages wait while Redis is away or slow (past `maxInFlight` unacknowledged publishes), then
 * `overflow` drops one and tells `dropped`; messages in flight when a connection fails, or
 * published while this server's subscriber was away, are lost (at-most-once; receivers see
 * `gap`). Nothing is persisted. Needs the `ioredis` package (an optional peer dependency).
 *
 * @example
 * ```ts
 * import { Hub, redisBackplane } from 'rxnet';
 *
 * const backplane = redisBackplane({ url: 'redis://127.0.0.1:6379', channel: 'chat' });
 * const hub = new Hub<Buffer>({ backplane });
 * backplane.events$.subscribe((e) => console.log('backplane', e.type));
 * // on shutdown: await backplane.close();
 * ```
 */
export function redisBackplane(options: RedisBackplaneOptions = {}): Backplane {
  return new RedisBackplane(options);
}

const MAX_SEQ = 2 ** 48;

class RedisBackplane implements Backplane {
  readonly serverId: string;
  private readonly channel: string;
  private readonly id: Buffer;
  private readonly highWaterMark: number;
  private readonly overflow: 'drop-oldest' | 'drop-newest';
  private readonly maxInFlight: number;
  private readonly pub: RedisClient;
  private readonly sub: RedisClient;
  private readonly messages = new Subject<BackplaneMessage>();
  private readonly events = new Subject<BackplaneEvent>();
  readonly messages$ = this.messages.asObservable();
  readonly events$ = this.events.asObservable();
  private readonly queue: Buffer[] = [];
  private inFlight = 0;
  private seq = 0;
  private dropped = 0;
  private readonly lastSeq = new Map<string, number>();
  private pubReady = false;
  private subReady = false;
  private degradedSince: number | undefined = undefined;
  private closing: Promise<void> | undefined = undefined;

  constructor(options: RedisBackplaneOptions) {
    const { highWaterMark, overflow } = checkBackplaneOptions(options);
    this.highWaterMark = highWaterMark;
    this.overflow = overflow;
    this.maxInFlight = options.maxInFlight ?? 256;
    this.channel = options.channel ?? 'rxnet:hub';
    this.serverId = options.serverId ?? `${hostname()}:${process.pid}:${randomBytes(4).toString('hex')}`;
    this.id = Buffer.from(this.serverId, 'utf8');
    if (this.id.length === 0 || this.id.length > 255)
      throw new InvalidArgumentError('serverId', 'expected 1 to 255 bytes of UTF-8');
    if (this.channel.length === 0) throw new InvalidArgumentError('channel', 'expected a non-empty string');
    const b = options.backoff ?? {};
    const initialDelay = b.initialDelay ?? 100;
    const maxDelay = b.maxDelay ?? 5000;
    const factor = b.factor ?? 2;
    const jitter = b.jitter ?? 0.5;
    const retryStrategy = (times: number) => backoffDelay(times, initialDelay, maxDelay, factor, jitter, Math.random);
    // ioredis is loaded only when a Redis backplane is made: rxnet does not depend on it otherwise.
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    const Redis = (require('ioredis') as { default: typeof RedisClient }).default;
    const url = options.url ?? 'redis://127.0.0.1:6379';
    const common: RedisOptions = {
      ...(options.redis as RedisOptions | undefined),
      retryStrategy,
      maxRetriesPerRequest: null,
      lazyConnect: false,
    };
    // Our own bounded queue replaces ioredis's unbounded offline queue for publishing.
    this.pub = new Redis(url, { ...common, enableOfflineQueue: false, connectionName: `rxnet-pub:${this.serverId}` });
    this.sub = new Redis(url, { ...common, autoResubscribe: false, connectionName: `rxnet-sub:${this.serverId}` });
    this.pub.on('ready', () => this.setReady('pub', true));
    // The subscriber counts as ready once Redis acknowledged SUBSCRIBE, not at connect.
    this.sub.on('ready', () => {
      this.sub.subscribe(this.channel).then(
        () => this.setReady('sub', true),
        () => undefined,
      );
    });
    for (const [name, client] of [
      ['pub', this.pub],
      ['sub', this.sub],
    ] as const) {
      client.on('close', () => this.setReady(name, false));
      // ioredis reports every failed attempt here; the degraded/back events say what matters.
      client.on('error', noop);
    }
    this.sub.on('messageBuffer', (_channel: Buffer, frame: Buffer) => this.receive(frame));
  }

  get connected(): boolean {
    return this.pubReady && this.subReady;
  }

  publish(payload: Chunk): void {
    if (this.closing) return;
    const body = toBuffer(payload);
    this.seq = this.seq >= MAX_SEQ - 1 ? 1 : this.seq + 1;
    const frame = Buffer.allocUnsafe(1 + this.id.length + 6 + body.length);
    frame[0] = this.id.length;
    this.id.copy(frame, 1);
    frame.writeUIntBE(this.seq, 1 + this.id.length, 6);
    body.copy(frame, 1 + this.id.length + 6);
    if (this.queue.length >= this.highWaterMark) {
      this.dropped++;
      if (this.overflow === 'drop-newest') {
        this.events.next({ type: 'dropped', dropped: this.dropped });
        return;
      }
      this.queue.shift();
      this.events.next({ type: 'dropped', dropped: this.dropped });
    }
    this.queue.push(frame);
    this.flush();
  }

  close(): Promise<void> {
    if (this.closing) return this.closing;
    const quit = (client: RedisClient) =>
      client.status === 'end'
        ? Promise.resolve()
        : client.quit().then(
            () => undefined,
            () => client.disconnect(),
          );
    this.closing = Promise.all([quit(this.pub), quit(this.sub)]).then(() => {
      this.queue.length = 0;
      this.messages.complete();
      this.events.complete();
    });
    return this.closing;
  }

  /**
   * Writes queued frames while both connections are up (a half-connected backplane is degraded
   * and queues) and the publisher is not too far ahead of Redis.
   */
  private flush(): void {
    while (this.queue.length > 0 && this.connected && this.inFlight < this.maxInFlight) {
      const frame = this.queue.shift()!;
      this.inFlight++;
      const settled = () => {
        this.inFlight--;
        this.flush();
      };
      this.pub.publish(this.channel, frame).then(settled, settled);
    }
  }

  private receive(frame: Buffer): void {
    if (frame.length < 7 || frame.length < 1 + frame[0] + 6) return;
    const n = frame[0];
    // Our own messages come back from Redis: they were delivered locally already.
    if (n === this.id.length && frame.compare(this.id, 0, n, 1, 1 + n) === 0) return;
    const origin = frame.toString('utf8', 1, 1 + n);
    const seq = frame.readUIntBE(1 + n, 6);
    const last = this.lastSeq.get(origin);
    this.lastSeq.set(origin, seq);
    if (last !== undefined && seq > last + 1) this.events.next({ type: 'gap', origin, missed: seq - last - 1 });
    this.messages.next({ origin, seq, payload: frame.subarray(1 + n + 6) });
  }

  private setReady(which: 'pub' | 'sub', ready: boolean): void {
    const was = this.connected;
    if (which === 'pub') this.pubReady = ready;
    else this.subReady = ready;
    if (this.closing) return;
    if (was && !this.connected) {
      this.degradedSince = Date.now();
      this.events.next({
        type: 'degraded',
        reason: `lost the ${which === 'pub' ? 'publishing' : 'subscribing'} connection to Redis`,
      });
    } else if (!was && this.connected && this.degradedSince !== undefined) {
      const downtime = Date.now() - this.degradedSince;
      this.degradedSince = undefined;
      const flushed = this.queue.length;
      this.flush();
      this.events.next({ type: 'back', downtime, flushed });
    } else if (!was && this.connected) {
      this.flush();
      this.events.next({ type: 'connected' });
    }
  }
}

function noop(): void {}
