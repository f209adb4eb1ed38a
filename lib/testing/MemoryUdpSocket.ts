// MemoryUdpSocket: one socket of a MemoryDatagramNetwork, satisfying the UdpSocket contract that bindUdp's sockets keep.
import { Buffer } from 'buffer';
import { isIP, isIPv6 } from 'net';
import { Subject } from 'rxjs';
import type { Observable } from 'rxjs';
import { nextConnectionId } from '../core/SocketConnection';
import { InvalidArgumentError, UdpSendError } from '../errors';
import type { Chunk, Datagram, DatagramTarget, UdpSocket, UdpStats } from '../types';
import { zeroUdpStats } from '../udp/DgramUdpSocket';
import { CloseListeners, WHEN_CLOSED } from '../udp/whenClosed';
import type { ClosingSocket } from '../udp/whenClosed';
import { checkInteger } from '../util/validate';
import { sendError } from './netErrors';
import type { NetError } from './netErrors';

/** The most a datagram holds, per family, as the kernel refuses more (65,535 less the headers). */
const FAMILY_LIMIT = { IPv4: 65_507, IPv6: 65_527 } as const;

/** What a socket needs of its network. @internal */
export interface DatagramLink {
  /** The largest datagram the test allows, in bytes (`Infinity`: the family's own limit only). */
  readonly maxDatagramSize: number;
  /** Takes a datagram on its way (the bytes are the socket's own copy); throws what the faults throw. */
  carry(from: MemoryUdpSocket, data: Buffer, to: DatagramTarget): void;
}

/**
 * A socket of a `MemoryDatagramNetwork`, made by its `bind()`: the `UdpSocket` contract in
 * memory. A send takes its copy of the bytes and hands it to the network at once (the Promise
 * then settles on the microtask queue); arrivals are emitted by `messages$` while it has a
 * subscriber, and counted as `unread` and dropped otherwise.
 *
 * ```
 * send('a', target)   ──► network (latency, faults) ──► receiver.messages$:  -a
 * closed:   send() rejects with UdpSendError reason 'closed'; messages$ has completed
 * ```
 *
 * It refuses what bindUdp's socket refuses, with the same errors, so a test sees the failures
 * production code will (see {@link send}); `spec/support/udpContract.ts` holds both to that.
 *
 * @example
 * ```ts
 * import { MemoryDatagramNetwork } from 'rxnet/testing';
 *
 * new MemoryDatagramNetwork().bind().subscribe((socket) => {
 *   void socket.send('ping', { address: '127.0.0.1', port: 9 }); // nobody there: lost, counted by the network
 * });
 * ```
 * @internal
 */
export class MemoryUdpSocket implements UdpSocket, ClosingSocket {
  /** Process-unique, from the same counter as every connection's. */
  readonly id = nextConnectionId();
  /** Counters, as a real socket keeps them. */
  // oversize, rateLimited and refused are kept by bindUdp's options, which memory sockets do not take, and
  // the network never delivers a stranger's datagram to a connected socket: those stay 0.
  readonly stats: UdpStats = zeroUdpStats();
  /** No `dgram.Socket` behind it. */
  readonly socket = undefined;
  /** Arrivals while read; completes at close. */
  readonly messages$: Observable<Datagram>;

  private readonly inbox = new Subject<Datagram>();
  private isClosed = false;
  private readonly closeListeners = new CloseListeners();
  /** The family's limit, lowered by the network's `maxDatagramSize`. */
  private readonly maxDatagramSize: number;

  /** Made by `MemoryDatagramNetwork.bind()`, once its address is reserved. */
  constructor(
    /** The bound address, family and port. */
    readonly local: { readonly address: string; readonly family: 'IPv4' | 'IPv6'; readonly port: number },
    /** The peer of a connected socket. */
    readonly remote: DatagramTarget | undefined,
    private readonly link: DatagramLink,
  ) {
    this.messages$ = this.inbox.asObservable();
    this.maxDatagramSize = Math.min(link.maxDatagramSize, FAMILY_LIMIT[local.family]);
  }

  /** True once the subscription that bound it has ended. */
  get closed(): boolean {
    return this.isClosed;
  }

  /** Whether `messages$` has a subscriber, so that an arrival is read rather than dropped. */
  get reading(): boolean {
    return this.inbox.observed;
  }

  /**
   * Sends one datagram to `target`, or to the peer of a connected socket: resolves with its size
   * once the network took it, whatever then becomes of it. Refusals reject as bindUdp's socket
   * rejects them: `InvalidArgumentError` for data that is not bytes or a string; `UdpSendError`
   * with reason `'closed'` on a closed socket, and, counted in `stats.sendFailed`, with Node's code
   * for no target on a socket that is not connected (`ERR_SOCKET_DGRAM_NOT_CONNECTED`), a bad port
   * (`ERR_SOCKET_BAD_PORT`), a target on a connected one (`ERR_SOCKET_DGRAM_IS_CONNECTED`), an
   * address of the other family (`EINVAL`) and a datagram over its family's limit (65,507 B on
   * udp4, 65,527 B on udp6) or the network's `maxDatagramSize` (`EMSGSIZE`).
   */
  send(data: Chunk, target?: DatagramTarget): Promise<number> {
    if (typeof data !== 'string' && !(data instanceof Uint8Array)) {
      return Promise.reject(
        new InvalidArgumentError('data', `expected a Buffer, Uint8Array or string, got ${typeof data}`),
      );
    }
    const size = typeof data === 'string' ? Buffer.byteLength(data, 'utf8') : data.byteLength;
    if (this.isClosed) return Promise.reject(new UdpSendError(this.id, size, 'closed'));
    const to = this.destination(target);
    if (to instanceof Error) return this.refuse(size, (to as NetError).code, to);
    if (isIP(to.address) !== 0 && isIPv6(to.address) !== (this.local.family === 'IPv6')) {
      return this.refuse(size, 'EINVAL', sendError('EINVAL', to.address, to.port));
    }
    if (size > this.maxDatagramSize) return this.refuse(size, 'EMSGSIZE', sendError('EMSGSIZE', to.address, to.port));
    // A copy, as the kernel takes one: the caller may reuse its buffer at once.
    const bytes = typeof data === 'string' ? Buffer.from(data, 'utf8') : Buffer.from(data);
    try {
      this.link.carry(this, bytes, to);
    } catch (error) {
      return Promise.reject(error);
    }
    this.stats.sent++;
    this.stats.sentBytes += size;
    return Promise.resolve(size);
  }

  /** Takes an arrival: emitted when read, else counted as unread and dropped. */
  receive(datagram: Datagram): void {
    if (!this.inbox.observed) {
      this.stats.unread++;
      return;
    }
    this.stats.received++;
    this.stats.receivedBytes += datagram.size;
    this.inbox.next(datagram);
  }

  /** Closes it, once its network has unbound it: `messages$` completes. */
  close(): void {
    if (this.isClosed) return;
    this.isClosed = true;
    this.closeListeners.fire();
    this.inbox.complete();
  }

  /** Calls `listener` once when the socket closes (sendDatagrams ends on it). */
  [WHEN_CLOSED](listener: () => void): () => void {
    return this.closeListeners.add(listener);
  }

  /** Where a send goes, or the error Node's dgram throws for the target. */
  private destination(target: DatagramTarget | undefined): DatagramTarget | NetError {
    if (this.remote !== undefined) {
      return target === undefined
        ? this.remote
        : codedError(Error, 'ERR_SOCKET_DGRAM_IS_CONNECTED', 'Already connected');
    }
    if (target === undefined) {
      // As bindUdp's socket says it (Node would complain about the port).
      return codedError(Error, 'ERR_SOCKET_DGRAM_NOT_CONNECTED', 'no target given, and the socket is not connected');
    }
    const port: unknown = typeof target === 'object' && target !== null ? target.port : undefined;
    if (typeof port !== 'number' || !Number.isInteger(port) || port < 1 || port > 65535) {
      return codedError(RangeError, 'ERR_SOCKET_BAD_PORT', `Port should be > 0 and < 65536. Received ${String(port)}.`);
    }
    const address: unknown = target!.address;
    if (typeof address !== 'string') {
      return codedError(TypeError, 'ERR_INVALID_ARG_TYPE', 'The "address" argument must be of type string.');
    }
    return { address: loopbackFor(address, this.local.family), port };
  }

  private refuse(size: number, reason: string, cause?: Error): Promise<number> {
    this.stats.sendFailed++;
    return Promise.reject(new UdpSendError(this.id, size, reason, cause));
  }
}

/**
 * Checks a target option (`{ address, port }`, port in [1, 65535]) and returns a fresh one, its
 * address read as {@link loopbackFor} reads it. @internal
 */
export function checkTarget(name: string, target: DatagramTarget, family: 'IPv4' | 'IPv6'): DatagramTarget {
  if (typeof target !== 'object' || target === null) {
    throw new InvalidArgumentError(name, `expected { address, port }, got ${String(target)}`);
  }
  const { address } = target;
  if (typeof address !== 'string' || address.length === 0) {
    throw new InvalidArgumentError(name, `expected a non-empty address, got ${String(address)}`);
  }
  const port = checkInteger(`${name}.port`, target.port, 1, 65535);
  return { address: loopbackFor(address, family), port };
}

/** A wildcard read as its loopback (as Linux sends to 0.0.0.0), `localhost` or nothing as the loopback of `family`. */
function loopbackFor(address: string, family: 'IPv4' | 'IPv6'): string {
  if (address === '0.0.0.0') return '127.0.0.1';
  if (address === '::') return '::1';
  if (address === 'localhost' || address === '') return family === 'IPv6' ? '::1' : '127.0.0.1';
  return address;
}

/** An error as Node's internal ones are: a class and a `code`. */
function codedError(kind: ErrorConstructor, code: string, message: string): NetError {
  return Object.assign(new kind(message), { code }) as NetError;
}
