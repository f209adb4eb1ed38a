// whenClosed: how rxnet's own datagram sockets tell sendDatagrams that they closed, kept off the public UdpSocket contract.
import type { UdpSocket } from '../types';

/** The key of the hook: a symbol, so that it is no name of the public interface. @internal */
export const WHEN_CLOSED = Symbol('rxnet.udp.whenClosed');

/** A socket that tells when it closes: bindUdp's and MemoryDatagramNetwork's. @internal */
export interface ClosingSocket {
  /** Calls `listener` once when the socket closes; returns what removes it. Not called for a socket already closed. */
  [WHEN_CLOSED](listener: () => void): () => void;
}

/**
 * Calls `listener` once when `socket` closes, if it is one of rxnet's (a UdpSocket of your own has
 * no hook: undefined is returned, and its close is noticed at its next send). Returns what removes
 * the listener.
 *
 * @internal
 */
export function whenClosed(socket: UdpSocket, listener: () => void): (() => void) | undefined {
  const hook = (socket as Partial<ClosingSocket>)[WHEN_CLOSED];
  return typeof hook === 'function' ? hook.call(socket, listener) : undefined;
}

/**
 * The listeners of one socket: `add` one, `fire` them all once at close. @internal
 */
export class CloseListeners {
  private listeners: Set<() => void> | undefined = undefined;

  /** Adds `listener`; returns what removes it. */
  add(listener: () => void): () => void {
    (this.listeners ??= new Set()).add(listener);
    return () => this.listeners?.delete(listener);
  }

  /** Calls every listener once, in the order added, and forgets them. */
  fire(): void {
    const listeners = this.listeners;
    if (listeners === undefined) return;
    this.listeners = undefined;
    for (const listener of listeners) listener();
  }
}
