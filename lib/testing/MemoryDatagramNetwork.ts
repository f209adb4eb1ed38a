// MemoryDatagramNetwork: an in-memory UDP network whose sockets satisfy UdpSocket, with the test's latency and faults.
import { Buffer } from 'buffer';
import { isIP, isIPv6 } from 'net';
import { Observable, asyncScheduler } from 'rxjs';
import type { SchedulerLike } from 'rxjs';
import { InvalidArgumentError } from '../errors';
import type { DatagramTarget, UdpSocket } from '../types';
import { checkInteger, checkLimit, checkOptions, checkScheduler } from '../util/validate';
import { checkFaults, delaysOf } from './datagramFaults';
import type { DatagramFaults, NetworkDatagram } from './datagramFaults';
import { MemoryUdpSocket, checkTarget } from './MemoryUdpSocket';
import type { DatagramLink } from './MemoryUdpSocket';
import { bindInUseError, wrongFamilyError } from './netErrors';

/** The default `traceLimit` of a {@link MemoryDatagramNetwork}: entries its trace keeps. */
const DEFAULT_TRACE_LIMIT = 10_000;

/**
 * Options of a {@link MemoryDatagramNetwork}.
 *
 * @example
 * ```ts
 * import { MemoryDatagramNetwork, type MemoryDatagramNetworkOptions } from 'rxnet/testing';
 *
 * // 5 virtual ms per hop, datagrams over 1200 B refused, the second datagram lost.
 * const options: MemoryDatagramNetworkOptions = { latency: 5, maxDatagramSize: 1200, faults: { 1: 'drop' } };
 * const network = new MemoryDatagramNetwork(options);
 * ```
 */
export interface MemoryDatagramNetworkOptions {
  /**
   * Scheduler of every delivery; `asyncScheduler` by default, which is virtual time inside
   * `TestScheduler.run()` and real time outside it.
   */
  readonly scheduler?: SchedulerLike;
  /** Virtual ms from a send to the arrival, an integer (default 1: a hop shows as one frame in a marble). */
  readonly latency?: number;
  /**
   * The largest datagram, in bytes, below each family's own limit (65,507 B on udp4, 65,527 B on
   * udp6, which apply without it, as the kernel's do); a larger one is refused with `EMSGSIZE`.
   */
  readonly maxDatagramSize?: number;
  /**
   * The most entries `trace` keeps (default 10,000; `Infinity` keeps all, 0 none): past it the
   * oldest are dropped, so a long fuzz run holds bounded memory.
   */
  readonly traceLimit?: number;
  /** What happens to each datagram (default: every one delivered once, after `latency`). */
  readonly faults?: DatagramFaults;
}

/**
 * Where a memory socket binds: the options of `bindUdp` that mean something in memory.
 *
 * @example
 * ```ts
 * import { MemoryDatagramNetwork, type MemoryBindOptions } from 'rxnet/testing';
 *
 * const client: MemoryBindOptions = { address: '127.0.0.1', connect: { address: '127.0.0.1', port: 53 } };
 * new MemoryDatagramNetwork().bind(client).subscribe((socket) => void socket.send('query'));
 * ```
 */
export interface MemoryBindOptions {
  /** The local address (default the wildcard, `0.0.0.0` or `::`); `localhost` reads as loopback. */
  readonly address?: string;
  /** The local port, an integer in [0, 65535]; 0 (the default) lets the network pick a free one from 49152 up. */
  readonly port?: number;
  /** The family (default `udp4`). The two are apart, as with Node's `ipv6Only`: `::` covers IPv6 addresses only. */
  readonly type?: 'udp4' | 'udp6';
  /** The peer: `send` without a target goes there, and only its datagrams are received. */
  readonly connect?: DatagramTarget;
}

/**
 * What the network counts, across all its sockets; read them any time.
 *
 * @example
 * ```ts
 * import { MemoryDatagramNetwork, type MemoryDatagramStats } from 'rxnet/testing';
 *
 * const network = new MemoryDatagramNetwork();
 * const { sent, delivered, dropped, unreachable }: MemoryDatagramStats = network.stats;
 * ```
 */
export interface MemoryDatagramStats {
  /** Datagrams the network took (sends that resolved). */
  sent: number;
  /** Copies handed to a `messages$` that had a subscriber. */
  delivered: number;
  /** Copies that reached a socket whose `messages$` nobody read (dropped, counted in its `stats.unread`). */
  unread: number;
  /** Datagrams lost by the faults. */
  dropped: number;
  /** Extra copies made by the faults (`'duplicate'` or a list of delays). */
  duplicated: number;
  /** Copies that found no socket bound at their target when they arrived (or only a socket connected elsewhere). */
  unreachable: number;
}

/**
 * One line of the network's trace: what happened to a datagram, and when.
 *
 * @example
 * ```ts
 * import { MemoryDatagramNetwork, type DatagramTraceEntry } from 'rxnet/testing';
 *
 * const network = new MemoryDatagramNetwork();
 * const third: DatagramTraceEntry[] = network.trace.filter((entry) => entry.datagram.index === 2);
 * ```
 */
export interface DatagramTraceEntry {
  /**
   * `sent` when the network took it; `dropped` when the faults lost it (in the same frame);
   * then for each copy as it arrives: `delivered` (emitted by the receiver's `messages$`),
   * `unread` (the receiver's `messages$` had no subscriber) or `unreachable` (no receiver).
   */
  readonly type: 'sent' | 'dropped' | 'delivered' | 'unread' | 'unreachable';
  /** The scheduler's `now()` (the frame, under `TestScheduler.run()`). */
  readonly at: number;
  /** The datagram. */
  readonly datagram: NetworkDatagram;
  /** The `id` of the socket that sent it (`sent`, `dropped`) or received it (`delivered`, `unread`); undefined for `unreachable`. */
  readonly socketId: number | undefined;
}

/**
 * An in-memory datagram network: `bind()` is shaped like rxnet's `bindUdp()` and emits sockets
 * satisfying the same `UdpSocket` interface, so UDP code runs unchanged inside
 * `TestScheduler.run()`. Deliveries happen on the scheduler after `latency` (default 1 ms), and
 * the test scripts loss, duplication and reordering exactly through `faults`.
 *
 * ```
 * latency 1, faults { 1: 'drop', 2: { delay: 3 } }
 * client.send():        abcd
 * server.messages$:     -a--dc        b lost; c held back 3 ms, overtaken by d
 * network.trace:        0 sent a, 1 sent b, 1 dropped b, 1 delivered a, 2 sent c, 3 sent d, 4 delivered d, 5 delivered c
 * ```
 *
 * Every address is this host: a socket bound to `0.0.0.0` (or `::`) receives what is sent to
 * any address of its family on its port, and its datagrams show loopback as their sender.
 * Datagrams to a port nobody binds are lost silently and counted (`stats.unreachable`), as UDP
 * loses them. Once every socket is unbound, what is held is the deliveries still scheduled and the
 * trace (at most `traceLimit` entries, each with its datagram's bytes).
 *
 * @example
 * ```ts
 * import { map, mergeMap } from 'rxjs';
 * import { MemoryDatagramNetwork, createTestScheduler } from 'rxnet/testing';
 *
 * createTestScheduler().run(({ cold, expectObservable }) => {
 *   const network = new MemoryDatagramNetwork({ faults: { 1: 'drop' } });
 *   network.bind({ port: 7 }).subscribe((server) => server.messages$.subscribe((d) => void server.send(d.data, d)));
 *   network.bind().subscribe((client) => {
 *     cold('a-b-c|').pipe(mergeMap((x) => client.send(x, { address: '127.0.0.1', port: 7 }))).subscribe();
 *     // Indices count every datagram on the network: 1 is the echo of a, lost on its way back.
 *     expectObservable(client.messages$.pipe(map((d) => d.data))).toBe('----b-c', { b: 'b', c: 'c' });
 *   });
 * });
 * ```
 */
export class MemoryDatagramNetwork {
  /** Counters across every socket of the network. */
  readonly stats: MemoryDatagramStats = { sent: 0, delivered: 0, unread: 0, dropped: 0, duplicated: 0, unreachable: 0 };
  /**
   * The `maxDatagramSize` option (`Infinity` without it): a larger datagram rejects with
   * `UdpSendError` reason `EMSGSIZE`, as does one over its family's limit (65,507 B on udp4,
   * 65,527 B on udp6).
   */
  readonly maxDatagramSize: number;
  /** The most entries `trace` keeps; the oldest are dropped past it. */
  readonly traceLimit: number;

  private readonly scheduler: SchedulerLike;
  private latencyMs: number;
  private script: DatagramFaults | undefined;
  private readonly log: DatagramTraceEntry[] = [];
  private readonly ports = new Map<number, MemoryUdpSocket[]>();
  private lastEphemeral = 49151;
  private carried = 0;
  private readonly link: DatagramLink;

  /**
   * Creates a network with no socket bound.
   * @throws InvalidArgumentError for a bad option.
   */
  constructor(options: MemoryDatagramNetworkOptions = {}) {
    checkOptions(options);
    this.scheduler = checkScheduler(options.scheduler, asyncScheduler);
    this.latencyMs = checkInteger('latency', options.latency ?? 1, 0);
    this.maxDatagramSize = checkLimit('maxDatagramSize', options.maxDatagramSize, Infinity, 0);
    this.traceLimit = checkLimit('traceLimit', options.traceLimit, DEFAULT_TRACE_LIMIT, 0);
    this.script = checkFaults(options.faults);
    this.link = {
      maxDatagramSize: this.maxDatagramSize,
      carry: (from, data, to) => this.carry(from, data, to),
    };
  }

  /** Virtual ms from a send to the arrival (default 1). */
  get latency(): number {
    return this.latencyMs;
  }
  /**
   * Applies to datagrams sent from now on; those under way keep theirs.
   * @throws InvalidArgumentError unless `ms` is an integer ≥ 0.
   */
  set latency(ms: number) {
    this.latencyMs = checkInteger('latency', ms, 0);
  }

  /** The script of what happens to each datagram; undefined delivers every one once. */
  get faults(): DatagramFaults | undefined {
    return this.script;
  }
  /**
   * Applies to datagrams sent from now on; indices keep counting across changes.
   * @throws InvalidArgumentError for something that is neither a function nor fates by index.
   */
  set faults(faults: DatagramFaults | undefined) {
    this.script = checkFaults(faults);
  }

  /**
   * What happened to every datagram, in order: each is `sent`, then `dropped` or, per copy,
   * `delivered`, `unread` or `unreachable`. The last `traceLimit` entries (10,000 by default),
   * bytes included; older ones are dropped.
   */
  get trace(): readonly DatagramTraceEntry[] {
    this.trimTrace(this.traceLimit);
    return this.log;
  }

  /**
   * A memory socket, like rxnet's `bindUdp(options)`: cold, each subscription binding one socket
   * at once and emitting it; unsubscribing closes it (its `messages$` completes, its port is free
   * again). A port already taken errors with Node's `EADDRINUSE` (`code`, `syscall: 'bind'`); an
   * address or a `connect` target of the other family with Node's `EINVAL` (`syscall` `'bind'` or
   * `'connect'`), as bindUdp does.
   *
   * ```
   * bind({ port: 7 }):   a------!     a: the socket; unsubscribe closes it
   * a.messages$:         --x--y-|
   * bind({ port: 7 }):     #          while a is bound: EADDRINUSE
   * ```
   *
   * @param options Address, port (0: a free one), type and `connect`, as `bindUdp` takes them.
   * @throws InvalidArgumentError for a bad option, when called.
   * @example
   * ```ts
   * import { MemoryDatagramNetwork } from 'rxnet/testing';
   *
   * const network = new MemoryDatagramNetwork();
   * const subscription = network.bind({ address: '127.0.0.1', port: 0 }).subscribe((socket) => {
   *   console.log(socket.local.port); // 49152, the first free ephemeral port
   * });
   * subscription.unsubscribe(); // closed, the port free again
   * ```
   */
  bind(options: MemoryBindOptions = {}): Observable<UdpSocket> {
    const { family, address, port, remote } = checkBind(options);
    return new Observable<UdpSocket>((subscriber) => {
      // What Node's dgram answers for an address of the other family: EINVAL from bind, or from connect.
      if (isIP(address) !== 0 && isIPv6(address) !== (family === 'IPv6')) {
        subscriber.error(wrongFamilyError('bind', address, port));
        return;
      }
      if (remote !== undefined && isIP(remote.address) !== 0 && isIPv6(remote.address) !== (family === 'IPv6')) {
        subscriber.error(wrongFamilyError('connect', remote.address, remote.port));
        return;
      }
      const bound = port === 0 ? this.freePort(address) : this.taken(address, port) ? undefined : port;
      if (bound === undefined) {
        subscriber.error(bindInUseError(address, port));
        return;
      }
      const socket = new MemoryUdpSocket({ address, family, port: bound }, remote, this.link);
      const sockets = this.ports.get(bound) ?? [];
      sockets.push(socket);
      this.ports.set(bound, sockets);
      subscriber.next(socket);
      return () => {
        const left = this.ports.get(bound)!.filter((s) => s !== socket);
        if (left.length > 0) this.ports.set(bound, left);
        else this.ports.delete(bound);
        socket.close();
      };
    });
  }

  /** Takes a datagram from `from`: numbers it, asks the faults, schedules each copy. Throws what the faults throw. */
  private carry(from: MemoryUdpSocket, data: Buffer, to: DatagramTarget): void {
    const datagram: NetworkDatagram = {
      index: this.carried,
      data,
      size: data.length,
      from: { address: sourceAddress(from.local.address), family: from.local.family, port: from.local.port },
      to,
      sentAt: this.scheduler.now(),
    };
    const delays = delaysOf(this.script, datagram, this.latencyMs);
    this.carried++;
    this.stats.sent++;
    this.record('sent', datagram, from.id);
    if (delays.length === 0) {
      this.stats.dropped++;
      this.record('dropped', datagram, from.id);
      return;
    }
    this.stats.duplicated += delays.length - 1;
    delays.forEach((delay, copy) => {
      // Each receiver gets bytes of its own: a duplicate is a copy.
      const bytes = copy === 0 ? data : Buffer.from(data);
      this.scheduler.schedule(() => this.arrive(datagram, bytes), delay);
    });
  }

  /** A copy arrives: to the socket bound at its target, if any takes it. */
  private arrive(datagram: NetworkDatagram, data: Buffer): void {
    const receiver = this.receiverOf(datagram);
    if (receiver === undefined) {
      this.stats.unreachable++;
      this.record('unreachable', datagram, undefined);
      return;
    }
    const read = receiver.reading;
    if (read) this.stats.delivered++;
    else this.stats.unread++;
    // Recorded first, so that a reply sent from the handler comes after it in the trace.
    this.record(read ? 'delivered' : 'unread', datagram, receiver.id);
    const { address, family, port } = datagram.from;
    receiver.receive({ data, address, family, port, size: data.length });
  }

  /** The socket bound exactly at the target, else one bound to a wildcard covering it; a connected socket only for its peer. */
  private receiverOf({ to, from }: NetworkDatagram): MemoryUdpSocket | undefined {
    const sockets = this.ports.get(to.port);
    if (sockets === undefined) return undefined;
    const socket =
      sockets.find((s) => s.local.address === to.address) ?? sockets.find((s) => covers(s.local.address, to.address));
    const peer = socket?.remote;
    if (peer !== undefined && (peer.port !== from.port || peer.address !== from.address)) return undefined;
    return socket;
  }

  /** Whether binding `address:port` would clash with a socket already bound there. */
  private taken(address: string, port: number): boolean {
    return (this.ports.get(port) ?? []).some(
      (s) => covers(s.local.address, address) || covers(address, s.local.address),
    );
  }

  /** The next ephemeral port free for `address`, as an operating system picks them; undefined when none is. */
  private freePort(address: string): number | undefined {
    for (let tries = 0; tries < 16384; tries++) {
      this.lastEphemeral = this.lastEphemeral >= 65535 ? 49152 : this.lastEphemeral + 1;
      if (!this.taken(address, this.lastEphemeral)) return this.lastEphemeral;
    }
    return undefined;
  }

  private record(type: DatagramTraceEntry['type'], datagram: NetworkDatagram, socketId: number | undefined): void {
    if (this.traceLimit === 0) return;
    this.log.push({ type, at: this.scheduler.now(), datagram, socketId });
    // Trimmed once it holds twice its limit, so dropping the oldest costs O(1) per entry.
    if (this.log.length >= 2 * this.traceLimit) this.trimTrace(this.traceLimit);
  }

  /** Drops the oldest entries past `limit`. */
  private trimTrace(limit: number): void {
    if (this.log.length > limit) this.log.splice(0, this.log.length - limit);
  }
}

/** Whether a socket bound to `bound` receives what is sent to `address`. */
function covers(bound: string, address: string): boolean {
  return bound === address || (bound === '::' ? isIPv6(address) : bound === '0.0.0.0' && !isIPv6(address));
}

/** The address a receiver is told: loopback for a socket bound to a wildcard, as the kernel picks the source. */
function sourceAddress(local: string): string {
  if (local === '0.0.0.0') return '127.0.0.1';
  return local === '::' ? '::1' : local;
}

function checkBind(options: MemoryBindOptions): {
  family: 'IPv4' | 'IPv6';
  address: string;
  port: number;
  remote: DatagramTarget | undefined;
} {
  checkOptions(options);
  const type = options.type ?? 'udp4';
  if (type !== 'udp4' && type !== 'udp6') {
    throw new InvalidArgumentError('type', `expected 'udp4' or 'udp6', got ${String(type)}`);
  }
  const family = type === 'udp6' ? 'IPv6' : 'IPv4';
  const port = checkInteger('port', options.port ?? 0, 0, 65535);
  let address = options.address ?? (family === 'IPv6' ? '::' : '0.0.0.0');
  if (typeof address !== 'string' || address.length === 0) {
    throw new InvalidArgumentError('address', `expected a non-empty string, got ${String(address)}`);
  }
  if (address === 'localhost') address = family === 'IPv6' ? '::1' : '127.0.0.1';
  const remote = options.connect === undefined ? undefined : checkTarget('connect', options.connect, family);
  return { family, address, port, remote };
}
