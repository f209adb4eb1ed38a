// DgramUdpSocket: the UdpSocket bindUdp() emits, over one bound dgram.Socket.
import type { RemoteInfo, Socket } from 'dgram';
import { Subject } from 'rxjs';
import type { Observable, SchedulerLike } from 'rxjs';
import { nextConnectionId } from '../core/SocketConnection';
import { InvalidArgumentError, UdpSendError } from '../errors';
import type { Chunk, Datagram, DatagramTarget, UdpSocket, UdpStats } from '../types';
import { addListeners } from '../util/listeners';
import { toBuffer } from '../util/toBuffer';
import type { SourceRateLimit } from './SourceRateLimit';
import { CloseListeners, WHEN_CLOSED } from './whenClosed';
import type { ClosingSocket } from './whenClosed';

/** What the receive side checks before a datagram is handed on. @internal */
export interface ReceiveLimits {
  /** Larger datagrams are dropped and counted as `oversize` (`Infinity`: none). */
  readonly maxDatagramSize: number;
  /** Per-source rates; undefined for none. */
  readonly rateLimit: SourceRateLimit | undefined;
  /** The clock the rates are read against. */
  readonly scheduler: SchedulerLike;
}

/** Every counter of a datagram socket at zero, the optional ones included (shared by the memory socket). @internal */
export function zeroUdpStats(): Required<UdpStats> {
  return {
    received: 0,
    receivedBytes: 0,
    unread: 0,
    sent: 0,
    sentBytes: 0,
    sendFailed: 0,
    oversize: 0,
    rateLimited: 0,
    refused: 0,
    strangers: 0,
  };
}

/**
 * Codes the kernel reports on a connected socket's receive side for an earlier datagram that an
 * ICMP message refused (port, host or network unreachable, fragmentation needed): news about the
 * peer, not a failure of this socket.
 */
const REFUSALS = new Set(['ECONNREFUSED', 'EHOSTUNREACH', 'ENETUNREACH', 'EHOSTDOWN', 'ENOPROTOOPT', 'EMSGSIZE']);

/** Settles one pending send: with the kernel's verdict, or with CLOSED when the socket closed first. */
type Settle = (error: Error | null, bytes: number) => void;

/** What a send still pending at close is settled with (Node never calls back one that awaited its lookup). */
const CLOSED = new Error('closed before the send settled');

/**
 * A {@link UdpSocket} over a bound `dgram.Socket`. Its listeners are attached in one place; the
 * socket's `'error'` event always has one, so no error is ever unhandled: a refusal reported on the
 * receive side is counted in `stats.refused`, anything else fails `messages$` and is handed to
 * `ended`. `close()` (the subscription ending) completes `messages$` without calling `ended`; a
 * close from elsewhere (the `socket` escape hatch) completes both.
 *
 * Every send is pending until settled once: by Node's callback, or at close, since Node never
 * calls back a send still waiting for its address lookup when the handle goes. Once connected,
 * what does not come from the peer (queued by the kernel before the connect) is dropped as
 * `strangers`.
 *
 * @internal
 */
export class DgramUdpSocket implements UdpSocket, ClosingSocket {
  readonly id = nextConnectionId();
  readonly local: UdpSocket['local'];
  readonly stats = zeroUdpStats();
  readonly messages$: Observable<Datagram>;

  private readonly incoming = new Subject<Datagram>();
  private peer: DatagramTarget | undefined = undefined;
  private isClosed = false;
  private readonly removeListeners: () => void;
  /** Sends awaiting their settlement. */
  private readonly pending = new Set<Settle>();
  private readonly closeListeners = new CloseListeners();

  constructor(
    readonly socket: Socket,
    private readonly limits: ReceiveLimits,
    /** Told when the socket failed (with its error) or was closed from elsewhere (without). */
    private readonly ended: (error?: Error) => void,
  ) {
    const { address, family, port } = socket.address();
    this.local = { address, family: family as 'IPv4' | 'IPv6', port };
    this.messages$ = this.incoming.asObservable();
    this.removeListeners = addListeners(socket, {
      message: this.onMessage,
      error: this.onError,
      close: this.onClose,
    });
  }

  get remote(): DatagramTarget | undefined {
    return this.peer;
  }

  get closed(): boolean {
    return this.isClosed;
  }

  /** Records the peer once `connect()` succeeded. */
  connected(): void {
    const { address, port } = this.socket.remoteAddress();
    this.peer = { address, port };
  }

  /** Calls `listener` once when the socket closes (sendDatagrams ends on it). */
  [WHEN_CLOSED](listener: () => void): () => void {
    return this.closeListeners.add(listener);
  }

  send(data: Chunk, target?: DatagramTarget): Promise<number> {
    if (typeof data !== 'string' && !(data instanceof Uint8Array)) {
      return Promise.reject(
        new InvalidArgumentError('data', `expected a Buffer, Uint8Array or string, got ${typeof data}`),
      );
    }
    const buffer = toBuffer(data);
    const size = buffer.length;
    if (this.isClosed) return Promise.reject(new UdpSendError(this.id, size, 'closed'));
    return new Promise<number>((resolve, reject) => {
      const done: Settle = (error, bytes) => {
        if (!this.pending.delete(done)) return; // settled already: at close, or by an earlier callback
        // Pending at close (awaiting a lookup, or in the kernel's queue, to be cancelled): that is the close.
        if (error === CLOSED) return reject(new UdpSendError(this.id, size, 'closed'));
        if (error) {
          this.stats.sendFailed++;
          reject(new UdpSendError(this.id, size, codeOf(error), error));
          return;
        }
        this.stats.sent++;
        this.stats.sentBytes += bytes;
        resolve(bytes);
      };
      this.pending.add(done);
      try {
        if (target === undefined && this.peer === undefined) {
          // Node would take the callback for the port and complain about that instead.
          const error = new Error('no target given, and the socket is not connected');
          return done(Object.assign(error, { code: 'ERR_SOCKET_DGRAM_NOT_CONNECTED' }), 0);
        }
        if (target === undefined) this.socket.send(buffer, done);
        else {
          // A target that is none (null) is refused as Node refuses a missing port, not with a TypeError.
          const { port, address } = (target ?? {}) as Partial<DatagramTarget>;
          this.socket.send(buffer, port, address, done);
        }
      } catch (error) {
        if ((error as NodeJS.ErrnoException).code === 'ERR_SOCKET_DGRAM_NOT_RUNNING') {
          // Closed through the escape hatch in this tick, its 'close' event still to come: close now.
          this.onClose();
          return;
        }
        // Refused before the kernel saw it: a connected socket given a target, a bad port, ...
        done(error as Error, 0);
      }
    });
  }

  /** Closes the socket and completes `messages$` (the subscription that made it has ended). */
  close(): void {
    if (this.isClosed) return;
    this.shut();
    this.incoming.complete();
  }

  private readonly onMessage = (data: Buffer, rinfo: RemoteInfo): void => {
    const { stats, limits, peer } = this;
    const size = rinfo.size;
    if (peer !== undefined && (rinfo.port !== peer.port || rinfo.address !== peer.address)) {
      stats.strangers++;
      return;
    }
    if (size > limits.maxDatagramSize) {
      stats.oversize++;
      return;
    }
    if (limits.rateLimit !== undefined && !limits.rateLimit.allow(rinfo.address, limits.scheduler.now())) {
      stats.rateLimited++;
      return;
    }
    if (!this.incoming.observed) {
      stats.unread++;
      return;
    }
    stats.received++;
    stats.receivedBytes += size;
    const family = rinfo.family as 'IPv4' | 'IPv6';
    this.incoming.next({ data, address: rinfo.address, family, port: rinfo.port, size });
  };

  private readonly onError = (error: NodeJS.ErrnoException): void => {
    if (error.syscall === 'recvmsg' && error.code !== undefined && REFUSALS.has(error.code)) {
      this.stats.refused++;
      return;
    }
    if (this.isClosed) return;
    this.shut();
    this.incoming.error(error);
    this.ended(error);
  };

  private readonly onClose = (): void => {
    if (this.isClosed) return;
    this.isClosed = true;
    this.removeListeners();
    this.socket.on('error', noop);
    this.settlePending();
    this.incoming.complete();
    this.ended();
  };

  /** Marks the socket closed and closes it, leaving a listener so that a late error is never unhandled. */
  private shut(): void {
    this.isClosed = true;
    this.removeListeners();
    this.socket.on('error', noop);
    closeQuietly(this.socket);
    this.settlePending();
  }

  /** Rejects with 'closed' every send still pending, then tells the close listeners. */
  private settlePending(): void {
    for (const done of this.pending) done(CLOSED, 0);
    this.closeListeners.fire();
  }
}

/** Closes a dgram socket that may already be closed (Node then throws ERR_SOCKET_DGRAM_NOT_RUNNING). */
export function closeQuietly(socket: Socket): void {
  try {
    socket.close();
  } catch {
    // Already closed: nothing left to release.
  }
}

function codeOf(error: Error): string {
  const code = (error as NodeJS.ErrnoException).code;
  return typeof code === 'string' ? code : 'unknown';
}

function noop(): void {}
