// connectionPair(): two in-memory connections wired to each other, each writing through its own MemoryWire.
import { asyncScheduler } from 'rxjs';
import type { SchedulerLike } from 'rxjs';
import { MemoryConnection } from './MemoryConnection';
import type { MemoryAddresses } from './MemoryConnection';
import { MemoryWire } from './MemoryWire';
import type { MemoryWireOptions } from './MemoryWire';

/**
 * Options of {@link connectionPair}; the wire options apply to both directions.
 *
 * @example
 * ```ts
 * import { connectionPair, createTestScheduler, type ConnectionPairOptions } from 'rxnet/testing';
 *
 * createTestScheduler().run(() => {
 *   // Plain Node's half-close behaviour, TCP-like merging of what has arrived.
 *   const options: ConnectionPairOptions = { allowHalfOpen: false, chunking: 'merge' };
 *   const [client, server] = connectionPair(options);
 * });
 * ```
 */
export interface ConnectionPairOptions extends MemoryWireOptions {
  /**
   * Scheduler of every delivery and timer; `asyncScheduler` by default, which is virtual time
   * inside `TestScheduler.run()` and real time outside it.
   */
  readonly scheduler?: SchedulerLike;
  /**
   * Keep a side's write half open after the peer's FIN (default true, as rxnet's `listen` and
   * `connect` do); false ends that side as soon as it has read the peer's FIN, as plain Node does.
   */
  readonly allowHalfOpen?: boolean;
}

/**
 * Creates two in-memory connections wired to each other: what one writes, the other's `data$`
 * emits, with the chunking, latency, buffering and stalls the test chooses; deterministic under
 * `TestScheduler.run()`.
 *
 * ```
 * const [client, server] = connectionPair();
 * client.write('ab'); client.write('c'); client.end();
 * server.data$:  (ab)(c)|           chunking 'writes' (default), latency 0: same frame
 * with { chunking: 1 }:  (a)(b)(c)| byte by byte
 * with { latency: 3 }:   ---(ab)(c)|
 * ```
 *
 * Nothing is read until a side's `data$` is subscribed; a side closes once both FINs went
 * through (`close` on `events$`, `writable$` completes), or at once on `destroy()`/`reset()`.
 *
 * @param options Wire options for both directions (change one direction later through
 * `conn.outbound`), the scheduler, and `allowHalfOpen`.
 * @returns `[a, b]`; conventionally `[client, server]`.
 * @throws InvalidArgumentError for a bad option.
 * @example
 * ```ts
 * import { decodeLines, sendTo } from 'rxnet';
 * import { asText, bytes, connectionPair, createTestScheduler } from 'rxnet/testing';
 *
 * createTestScheduler().run(({ cold, expectObservable }) => {
 *   const [client, server] = connectionPair({ chunking: 2 });
 *   cold('-a--b|', bytes({ a: 'hel', b: 'lo\n' })).pipe(sendTo(client)).subscribe();
 *   expectObservable(server.data$.pipe(decodeLines(), asText())).toBe('----a|', { a: 'hello' });
 * });
 * ```
 */
export function connectionPair(options: ConnectionPairOptions = {}): [MemoryConnection, MemoryConnection] {
  const scheduler = options.scheduler ?? asyncScheduler;
  const allowHalfOpen = options.allowHalfOpen ?? true;
  const port = nextEphemeralPort();
  return pairOf(scheduler, options, allowHalfOpen, port, 1);
}

/** @internal The pair with its ports: a's port is `aPort`, b's is `bPort`. */
export function pairOf(
  scheduler: SchedulerLike,
  wire: MemoryWireOptions,
  allowHalfOpen: boolean,
  aPort: number,
  bPort: number,
  bAllowHalfOpen = allowHalfOpen,
): [MemoryConnection, MemoryConnection] {
  const a = new MemoryConnection(scheduler, new MemoryWire(scheduler, wire), addresses(aPort, bPort), allowHalfOpen);
  const b = new MemoryConnection(scheduler, new MemoryWire(scheduler, wire), addresses(bPort, aPort), bAllowHalfOpen);
  MemoryConnection.join(a, b);
  return [a, b];
}

function addresses(localPort: number, remotePort: number): MemoryAddresses {
  return { localAddress: 'memory', localPort, remoteAddress: 'memory', remotePort };
}

let lastEphemeralPort = 49151;

/** @internal A client port, as an operating system would pick one. */
export function nextEphemeralPort(): number {
  lastEphemeralPort = lastEphemeralPort >= 65535 ? 49152 : lastEphemeralPort + 1;
  return lastEphemeralPort;
}

/** @deprecated The former name of {@link ConnectionPairOptions}, kept so that code written for 0.1 compiles. */
export type PairOptions = ConnectionPairOptions;
