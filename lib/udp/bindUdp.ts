// bindUdp(): a cold Observable of one bound datagram socket; unsubscribing closes it.
import * as dgram from 'dgram';
import { Observable, asyncScheduler } from 'rxjs';
import type { NextObserver, SchedulerLike } from 'rxjs';
import { InvalidArgumentError } from '../errors';
import type { DatagramTarget, UdpSocket } from '../types';
import { addListeners } from '../util/listeners';
import { checkBoolean, checkInteger, checkLimit, checkObserver, checkRate, checkScheduler } from '../util/validate';
import { DgramUdpSocket, closeQuietly } from './DgramUdpSocket';
import { SourceRateLimit } from './SourceRateLimit';

/** The default `rateLimit.maxSources` of {@link bindUdp}: sender addresses tracked at once. */
const DEFAULT_MAX_SOURCES = 16_384;

/**
 * A multicast group to join: with `source`, a source-specific membership (only datagrams from
 * that sender are received; groups 232.0.0.0/8 and ff3x::/32).
 *
 * @example
 * ```ts
 * import { bindUdp, type MulticastGroup } from 'rxnet';
 *
 * const feed: MulticastGroup = { group: '232.1.1.1', source: '10.0.0.5', interface: '10.0.0.2' };
 * bindUdp({ type: 'udp4', port: 5000, address: '0.0.0.0', multicast: { groups: [feed] } }).subscribe();
 * ```
 */
export interface MulticastGroup {
  /** The group's address (`239.1.2.3`, `ff15::1`). */
  readonly group: string;
  /** The local interface to join on (its IPv4 address, or `::%eth0`); the `multicast.interface` option, else the kernel's choice. */
  readonly interface?: string;
  /** The one sender whose datagrams to the group are received (source-specific multicast). */
  readonly source?: string;
}

/**
 * Multicast settings of {@link bindUdp}, applied once the socket is bound.
 *
 * @example
 * ```ts
 * import { bindUdp, type MulticastOptions } from 'rxnet';
 *
 * // Hear the group, and hear our own datagrams to it, on the loopback interface.
 * const multicast: MulticastOptions = { groups: ['239.1.2.3'], interface: '127.0.0.1', loopback: true, ttl: 1 };
 * bindUdp({ type: 'udp4', port: 0, address: '0.0.0.0', multicast }).subscribe();
 * ```
 */
export interface MulticastOptions {
  /** Groups to join (`addMembership`, or `addSourceSpecificMembership` where a `source` is given). */
  readonly groups?: ReadonlyArray<string | MulticastGroup>;
  /** Hops a datagram sent to a group may travel (`setMulticastTTL`, 0 to 255; the kernel's default is 1). */
  readonly ttl?: number;
  /** Whether datagrams sent to a group come back to this host's members (`setMulticastLoopback`). */
  readonly loopback?: boolean;
  /** The interface datagrams to a group leave by, and groups are joined on (`setMulticastInterface`). */
  readonly interface?: string;
}

/**
 * A per-source receive rate of {@link bindUdp}: `burst` datagrams at once from one address, then
 * `perSecond`; the rest are dropped and counted in `stats.rateLimited`.
 *
 * @example
 * ```ts
 * import { bindUdp, type UdpRateLimit } from 'rxnet';
 *
 * const rateLimit: UdpRateLimit = { burst: 20, perSecond: 10 };
 * bindUdp({ type: 'udp4', port: 0, rateLimit }).subscribe((socket) => socket.messages$.subscribe());
 * ```
 */
export interface UdpRateLimit {
  /** Datagrams one address may send at once after a quiet spell: an integer >= 1. */
  readonly burst: number;
  /** Datagrams per second one address may send after its burst: a finite number > 0. */
  readonly perSecond: number;
  /**
   * Addresses tracked at once (default 16,384): past it the one heard from least recently is
   * forgotten and starts again with a full burst, so a flood of spoofed sources costs bounded
   * memory and does not reset a busy source's bucket.
   */
  readonly maxSources?: number;
}

/**
 * Options of {@link bindUdp}.
 *
 * @example
 * ```ts
 * import { bindUdp, type BindUdpOptions } from 'rxnet';
 *
 * const options: BindUdpOptions = {
 *   type: 'udp4',
 *   port: 0,
 *   address: '127.0.0.1',
 *   maxDatagramSize: 1472,
 *   bound: (a) => console.log(`udp on ${a.address}:${a.port}`),
 * };
 * bindUdp(options).subscribe();
 * ```
 */
export interface BindUdpOptions {
  /** `'udp4'` or `'udp6'` (required). */
  readonly type: 'udp4' | 'udp6';
  /** The port to bind (default 0: a free one, told through `bound`). */
  readonly port?: number;
  /** The address to bind (default: every interface, `0.0.0.0` or `::`); a name is looked up. */
  readonly address?: string;
  /** Let other sockets bind the same address and port (`SO_REUSEADDR`), as multicast listeners do. */
  readonly reuseAddr?: boolean;
  /** `udp6` only: receive IPv6 datagrams only, not IPv4 ones mapped to IPv6. */
  readonly ipv6Only?: boolean;
  /** The kernel's receive buffer (`SO_RCVBUF`), in bytes: what may wait before datagrams are dropped. */
  readonly recvBufferSize?: number;
  /** The kernel's send buffer (`SO_SNDBUF`), in bytes. */
  readonly sendBufferSize?: number;
  /**
   * Connect the socket to one peer once bound: `remote` is set, `send(data)` without a target
   * goes there, only its datagrams are received (others', queued before the connect, are dropped
   * and counted in `stats.strangers`), and its refusals (`ECONNREFUSED`) are reported. A connect
   * that fails (`ENOTFOUND`, `EINVAL` for an address of the other family) fails the bind.
   */
  readonly connect?: DatagramTarget;
  /** Allow sending to broadcast addresses (`setBroadcast`); without it such a send fails with `EACCES`. */
  readonly broadcast?: boolean;
  /** Multicast groups to join and multicast sending settings. */
  readonly multicast?: MulticastOptions;
  /** Received datagrams larger than this (in bytes) are dropped and counted in `stats.oversize` (default none). */
  readonly maxDatagramSize?: number;
  /** A receive rate per source address; datagrams over it are dropped and counted in `stats.rateLimited`. */
  readonly rateLimit?: UdpRateLimit;
  /** Told the bound address (the real port when 0 was asked for) once bound, just before the socket is emitted. */
  readonly bound?: ((address: UdpSocket['local']) => void) | NextObserver<UdpSocket['local']>;
  /** The clock of `rateLimit` (default `asyncScheduler`; a virtual one in tests). */
  readonly scheduler?: SchedulerLike;
}

/**
 * Binds a datagram socket; each subscription binds its own and emits it once bound (and
 * connected, with `connect`). The Observable does not complete while the socket is open.
 *
 * ```
 * subscribe ──bind──socket─────────────────── … ──unsubscribe
 *                   (told via options.bound)        socket closed, messages$ completes
 * bind error ──#    (EADDRINUSE, EACCES, EADDRNOTAVAIL, ENOTFOUND: Node's error with its `code`;
 *                    a failed `connect` likewise: ENOTFOUND, EINVAL for an address of the other family)
 * socket error ─────socket────#                    (messages$ errors with it too)
 * ```
 *
 * Received datagrams go through `maxDatagramSize`, then `rateLimit`, then to `messages$`; each
 * drop is counted in `stats` (`oversize`, `rateLimited`, `unread` while nobody listens, and on a
 * connected socket `strangers`, what others sent before the connect). UDP has
 * no flow control: what the kernel's receive buffer cannot hold is dropped there, uncounted.
 * A refusal reported for an earlier datagram on a connected socket (`ECONNREFUSED` when nobody
 * listens at the peer's port) rejects the `send()` it surfaced on or is counted in
 * `stats.refused`; it never ends the socket.
 *
 * @throws InvalidArgumentError at call time for a missing `type` or a bad option.
 * @example
 * ```ts
 * import { bindUdp, sendDatagrams } from 'rxnet';
 * import { mergeMap } from 'rxjs';
 *
 * // An echo server: each datagram goes back to its sender; unsubscribe to close it.
 * const echo = bindUdp({ type: 'udp4', port: 0, address: '127.0.0.1', bound: (a) => console.log(a.port) })
 *   .pipe(mergeMap((socket) => socket.messages$.pipe(sendDatagrams(socket))))
 *   .subscribe();
 * // later: echo.unsubscribe();
 * ```
 */
export function bindUdp(options: BindUdpOptions): Observable<UdpSocket> {
  const settings = checkBindUdpOptions(options);
  const { type, port, address, reuseAddr, ipv6Only, recvBufferSize, sendBufferSize, connect, bound } = settings;
  return new Observable<UdpSocket>((subscriber) => {
    const raw = dgram.createSocket({ type, reuseAddr, ipv6Only, recvBufferSize, sendBufferSize });
    const { rateLimit } = settings;
    const limits = {
      maxDatagramSize: settings.maxDatagramSize,
      rateLimit: rateLimit && new SourceRateLimit(rateLimit.burst, rateLimit.perSecond, rateLimit.maxSources),
      scheduler: settings.scheduler,
    };
    let udp: DgramUdpSocket | undefined;

    const ready = (): void => {
      if (subscriber.closed || udp === undefined) return;
      if (connect !== undefined) udp.connected();
      if (bound !== undefined) {
        try {
          if (typeof bound === 'function') bound(udp.local);
          else bound.next(udp.local);
        } catch (error) {
          subscriber.error(error);
          return;
        }
      }
      subscriber.next(udp);
    };
    const removeSetup = addListeners(raw, {
      // Bind errors (and those of the settings below) fail the subscription; teardown closes the socket.
      error: (error: Error) => subscriber.error(error),
      listening: () => {
        try {
          configure(raw, settings);
        } catch (error) {
          subscriber.error(error);
          return;
        }
        // From here the socket's own listeners count what arrives, before anyone can subscribe.
        udp = new DgramUdpSocket(raw, limits, (error) => (error ? subscriber.error(error) : subscriber.complete()));
        removeSetup();
        if (connect === undefined) return ready();
        // A failed connect (a name not found, an address of the other family) comes to the callback,
        // not as an 'error' event: it fails the subscription, whose teardown closes the socket.
        raw.connect(connect.port, connect.address, (error?: Error) => (error ? subscriber.error(error) : ready()));
      },
    });
    raw.bind({ port, address });

    return () => {
      if (udp !== undefined) {
        udp.close();
        return;
      }
      // Not bound yet (its address still being looked up) or failed to bind: Node closes it either way.
      removeSetup();
      raw.on('error', noop);
      closeQuietly(raw);
    };
  });
}

/** The checked options of {@link bindUdp}, defaults filled in. */
interface BindUdpSettings extends BindUdpOptions {
  readonly port: number;
  readonly maxDatagramSize: number;
  readonly rateLimit: Required<UdpRateLimit> | undefined;
  readonly scheduler: SchedulerLike;
}

/** Checks every option of bindUdp at call time. */
function checkBindUdpOptions(options: BindUdpOptions): BindUdpSettings {
  if (options === null || typeof options !== 'object') {
    throw new InvalidArgumentError(
      'options',
      `expected an options object with type 'udp4' or 'udp6', got ${String(options)}`,
    );
  }
  const { type } = options;
  if (type !== 'udp4' && type !== 'udp6') {
    throw new InvalidArgumentError('type', `expected 'udp4' or 'udp6', got ${String(type)}`);
  }
  const port = options.port === undefined ? 0 : checkInteger('port', options.port, 0, 65535);
  checkText('address', options.address);
  checkBoolean('reuseAddr', options.reuseAddr, false);
  if (checkBoolean('ipv6Only', options.ipv6Only, false) && type !== 'udp6') {
    throw new InvalidArgumentError('ipv6Only', "applies to type 'udp6' only");
  }
  if (options.recvBufferSize !== undefined) checkInteger('recvBufferSize', options.recvBufferSize, 1, 2 ** 31 - 1);
  if (options.sendBufferSize !== undefined) checkInteger('sendBufferSize', options.sendBufferSize, 1, 2 ** 31 - 1);
  if (options.connect !== undefined) checkTarget('connect', options.connect);
  checkBoolean('broadcast', options.broadcast, false);
  if (options.multicast !== undefined) checkMulticast(options.multicast);
  const maxDatagramSize = checkLimit('maxDatagramSize', options.maxDatagramSize, Infinity, 0);
  checkObserver('bound', options.bound);
  const scheduler = checkScheduler(options.scheduler, asyncScheduler);
  return { ...options, port, maxDatagramSize, rateLimit: checkRateLimit(options.rateLimit), scheduler };
}

function checkRateLimit(value: UdpRateLimit | undefined): Required<UdpRateLimit> | undefined {
  if (value === undefined) return undefined;
  if (value === null || typeof value !== 'object') {
    throw new InvalidArgumentError('rateLimit', `expected { burst, perSecond }, got ${String(value)}`);
  }
  return {
    burst: checkInteger('rateLimit.burst', value.burst, 1),
    perSecond: checkRate('rateLimit.perSecond', value.perSecond),
    maxSources:
      value.maxSources === undefined ? DEFAULT_MAX_SOURCES : checkInteger('rateLimit.maxSources', value.maxSources, 1),
  };
}

function checkMulticast(value: MulticastOptions): void {
  if (value === null || typeof value !== 'object') {
    throw new InvalidArgumentError('multicast', `expected an object, got ${String(value)}`);
  }
  if (value.groups !== undefined && !Array.isArray(value.groups)) {
    throw new InvalidArgumentError(
      'multicast.groups',
      'expected an array of addresses or { group, interface, source }',
    );
  }
  for (const entry of value.groups ?? []) {
    if (typeof entry === 'string') {
      checkText('multicast.groups', entry);
      continue;
    }
    if (entry === null || typeof entry !== 'object' || typeof entry.group !== 'string' || entry.group === '') {
      throw new InvalidArgumentError(
        'multicast.groups',
        `expected an address or { group, interface, source }, got ${String(entry)}`,
      );
    }
    checkText('multicast.groups.interface', entry.interface);
    checkText('multicast.groups.source', entry.source);
  }
  if (value.ttl !== undefined) checkInteger('multicast.ttl', value.ttl, 0, 255);
  checkBoolean('multicast.loopback', value.loopback, false);
  checkText('multicast.interface', value.interface);
}

function checkTarget(name: string, value: DatagramTarget): void {
  if (value === null || typeof value !== 'object') {
    throw new InvalidArgumentError(name, `expected { address, port }, got ${String(value)}`);
  }
  if (typeof value.address !== 'string' || value.address === '') {
    throw new InvalidArgumentError(`${name}.address`, `expected a non-empty string, got ${String(value.address)}`);
  }
  checkInteger(`${name}.port`, value.port, 1, 65535);
}

/** An optional string option: absent, or a non-empty string. */
function checkText(name: string, value: unknown): void {
  if (value === undefined) return;
  if (typeof value !== 'string' || value === '') {
    throw new InvalidArgumentError(name, `expected a non-empty string, got ${String(value)}`);
  }
}

/** Applies the settings that need a bound socket; Node throws (with a `code`) for one the kernel refuses. */
function configure(raw: dgram.Socket, settings: BindUdpSettings): void {
  if (settings.broadcast !== undefined) raw.setBroadcast(settings.broadcast);
  const multicast = settings.multicast;
  if (multicast === undefined) return;
  if (multicast.interface !== undefined) raw.setMulticastInterface(multicast.interface);
  if (multicast.ttl !== undefined) raw.setMulticastTTL(multicast.ttl);
  if (multicast.loopback !== undefined) raw.setMulticastLoopback(multicast.loopback);
  for (const entry of multicast.groups ?? []) {
    const {
      group,
      interface: via = multicast.interface,
      source,
    }: MulticastGroup = typeof entry === 'string' ? { group: entry } : entry;
    if (source !== undefined) raw.addSourceSpecificMembership(source, group, via);
    else raw.addMembership(group, via);
  }
}

function noop(): void {}
