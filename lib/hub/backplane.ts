// Backplane: how hubs in several processes become one room; the interface and its in-process implementation.
import { Buffer } from 'buffer';
import { Subject } from 'rxjs';
import type { Observable } from 'rxjs';
import { InvalidArgumentError } from '../errors';
import type { Chunk } from '../types';
import { toBuffer } from '../util/toBuffer';
import { checkInteger } from '../util/validate';

/**
 * A message from another server's hub: who sent it, its number in that sender's order, its bytes.
 *
 * @example
 * ```ts
 * import { redisBackplane, type BackplaneMessage } from 'rxnet';
 *
 * const backplane = redisBackplane({ channel: 'chat' });
 * backplane.messages$.subscribe((m: BackplaneMessage) => console.log(`${m.origin}#${m.seq}: ${m.payload.length} B`));
 * ```
 */
export interface BackplaneMessage {
  /** The sending server's id ({@link Backplane.serverId} there). */
  readonly origin: string;
  /** 1, 2, 3 … per origin, in the order it was published; a gap means messages were lost. */
  readonly seq: number;
  /** The bytes published (a string as UTF-8), not copied: over Redis a view into the received frame. */
  readonly payload: Buffer;
}

/**
 * What happens to a backplane: it reached its engine the first time (`connected`), it lost it and queues (`degraded`), it is back and flushed
 * its queue (`back`), its bounded queue dropped a message (`dropped`), or messages of another
 * server were lost on the way (`gap`, seen from the sequence numbers). An {@link InProcessBus}
 * backplane never emits any.
 *
 * ```
 * connected──────degraded──dropped──dropped──back{downtime, flushed}──gap{origin, missed}
 * ```
 *
 * @example
 * ```ts
 * import { redisBackplane, type BackplaneEvent } from 'rxnet';
 *
 * const log = (e: BackplaneEvent) => {
 *   if (e.type === 'degraded') console.warn('backplane down:', e.reason);
 *   else if (e.type === 'back') console.info(`backplane back after ${e.downtime} ms, ${e.flushed} sent`);
 *   else if (e.type === 'gap') console.warn(`lost ${e.missed} message(s) from ${e.origin}`);
 * };
 * redisBackplane().events$.subscribe(log);
 * ```
 */
export type BackplaneEvent =
  /** Reached the engine for the first time; what was published before starts to be sent. */
  | {
      /** Tag of this variant. */
      readonly type: 'connected';
    }
  /** Lost the engine (a connection to it dropped): publishes wait in the bounded queue until `back`. */
  | {
      /** Tag of this variant. */
      readonly type: 'degraded';
      /** Which link was lost, in words (for logs). */
      readonly reason: string;
    }
  /** The engine is reachable again after `degraded`; the queue starts to be sent, oldest first. */
  | {
      /** Tag of this variant. */
      readonly type: 'back';
      /** How long it was degraded, in ms (wall clock). */
      readonly downtime: number;
      /** Messages waiting in the queue when the engine came back, now being sent. */
      readonly flushed: number;
    }
  /** The outbound queue was full (`highWaterMark`): the `overflow` policy dropped one message. */
  | {
      /** Tag of this variant. */
      readonly type: 'dropped';
      /** Messages this backplane has dropped so far, this one included. */
      readonly dropped: number;
    }
  /** A message of another server arrived with a sequence number past the next expected: some were lost. */
  | {
      /** Tag of this variant. */
      readonly type: 'gap';
      /** The server whose messages were lost (its `serverId`). */
      readonly origin: string;
      /** How many of its messages were lost. */
      readonly missed: number;
    };

/**
 * The type tags of {@link BackplaneEvent}.
 *
 * @example
 * ```ts
 * import { filter } from 'rxjs';
 * import { redisBackplane, type BackplaneEventType } from 'rxnet';
 *
 * const health: BackplaneEventType[] = ['degraded', 'back'];
 * redisBackplane()
 *   .events$.pipe(filter((e) => health.includes(e.type)))
 *   .subscribe((e) => console.log('backplane', e.type));
 * ```
 */
export type BackplaneEventType = BackplaneEvent['type'];

/**
 * What a backplane does when its outbound queue holds `highWaterMark` messages: drop one, as a hub's drop policies.
 *
 * @example
 * ```ts
 * import { redisBackplane, type BackplaneOverflow } from 'rxnet';
 *
 * // Keep what was said first while Redis is away (a log, say), rather than the latest.
 * const overflow: BackplaneOverflow = 'drop-newest';
 * const backplane = redisBackplane({ highWaterMark: 10_000, overflow });
 * ```
 */
export type BackplaneOverflow = 'drop-oldest' | 'drop-newest';

/**
 * The link between the hubs of several servers: what a hub's member says is `publish`ed, and
 * what the other servers published arrives on `messages$`, each sender's messages in its order,
 * a server's own never. Implementations: {@link InProcessBus} (one process; the embedded
 * default and the test double) and `redisBackplane` (Redis pub/sub). Another engine (NATS)
 * implements this interface; the hub does not change.
 *
 * Promises: per-sender order; no duplicates; at-most-once delivery: messages published while
 * the engine is away wait in a bounded queue (then `drop-oldest`/`drop-newest`), and messages in
 * flight when it fails may be lost (`gap` events tell receivers). No persistence.
 *
 * @example
 * ```ts
 * import { Hub, type Backplane } from 'rxnet';
 *
 * // One hub per room, all rooms of this server on one backplane each.
 * function room(backplane: Backplane): Hub<Buffer> {
 *   backplane.events$.subscribe((e) => console.log(backplane.serverId, e.type));
 *   return new Hub<Buffer>({ backplane });
 * }
 * ```
 */
export interface Backplane {
  /** This server's id, carried by every message it publishes. */
  readonly serverId: string;
  /** Messages of the other servers; hot, never errors; completes on `close()`. */
  readonly messages$: Observable<BackplaneMessage>;
  /** Degraded/back, drops and gaps; hot; completes on `close()`. */
  readonly events$: Observable<BackplaneEvent>;
  /** True while messages can reach the engine (false: they queue). */
  readonly connected: boolean;
  /** Sends `payload` to the other servers; never throws for the engine's state (it queues). */
  publish(payload: Chunk): void;
  /** Leaves the engine and completes the streams; idempotent. */
  close(): Promise<void>;
}

/**
 * Options shared by backplanes.
 *
 * @example
 * ```ts
 * import { redisBackplane, type BackplaneOptions } from 'rxnet';
 *
 * const queue: BackplaneOptions = { highWaterMark: 4096, overflow: 'drop-oldest' };
 * const backplane = redisBackplane({ ...queue, channel: 'lobby' });
 * ```
 */
export interface BackplaneOptions {
  /** Most messages waiting while the engine is away (default 1024). */
  readonly highWaterMark?: number;
  /** What happens past `highWaterMark` (default `'drop-oldest'`: the room hears the latest). */
  readonly overflow?: BackplaneOverflow;
}

/** Checks {@link BackplaneOptions}; returns them with defaults. */
export function checkBackplaneOptions(options: BackplaneOptions): {
  highWaterMark: number;
  overflow: BackplaneOverflow;
} {
  const highWaterMark = checkInteger('highWaterMark', options.highWaterMark ?? 1024, 1);
  const overflow = options.overflow ?? 'drop-oldest';
  if (overflow !== 'drop-oldest' && overflow !== 'drop-newest') {
    throw new InvalidArgumentError('overflow', `expected 'drop-oldest' or 'drop-newest', got ${String(overflow)}`);
  }
  return { highWaterMark, overflow };
}

/**
 * Backplanes for hubs in one process, e.g. one per `node:cluster`-less server object, or in
 * tests: a message published on one reaches every other backplane of the bus synchronously,
 * in order, exactly once. It never degrades.
 *
 * ```
 * bus.backplane('A').publish(m)   →  B.messages$: {origin:'A', seq:1, m}   C.messages$: same   A: nothing
 * ```
 *
 * @example
 * ```ts
 * import { Hub, InProcessBus } from 'rxnet';
 *
 * const bus = new InProcessBus();
 * const hubA = new Hub<Buffer>({ backplane: bus.backplane('A') });
 * const hubB = new Hub<Buffer>({ backplane: bus.backplane('B') });
 * // A member of hubA saying something reaches hubB's members too.
 * ```
 */
export class InProcessBus {
  private readonly members = new Map<string, InProcessBackplane>();

  /** A backplane on this bus for the server `serverId` (unique on the bus). */
  backplane(serverId: string): Backplane {
    if (this.members.has(serverId)) throw new InvalidArgumentError('serverId', `${serverId} is already on this bus`);
    const backplane = new InProcessBackplane(serverId, this.members);
    this.members.set(serverId, backplane);
    return backplane;
  }
}

class InProcessBackplane implements Backplane {
  readonly connected = true;
  private readonly messages = new Subject<BackplaneMessage>();
  private readonly events = new Subject<BackplaneEvent>();
  readonly messages$ = this.messages.asObservable();
  readonly events$ = this.events.asObservable();
  private seq = 0;

  constructor(
    readonly serverId: string,
    private readonly members: Map<string, InProcessBackplane>,
  ) {}

  publish(payload: Chunk): void {
    if (this.members.get(this.serverId) !== this) return;
    const message: BackplaneMessage = { origin: this.serverId, seq: ++this.seq, payload: toBuffer(payload) };
    for (const other of this.members.values()) if (other !== this) other.messages.next(message);
  }

  close(): Promise<void> {
    if (this.members.get(this.serverId) === this) this.members.delete(this.serverId);
    this.messages.complete();
    this.events.complete();
    return Promise.resolve();
  }
}
