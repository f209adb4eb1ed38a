// The connections a listen() server accepted: counted, told when they close, and their close timers.
import type { Socket } from 'net';
import type { SchedulerLike, Subscription } from 'rxjs';
import { SocketConnection } from './SocketConnection';
import type { ReadDeadlines } from '../time/ReadDeadline';
import type { SocketGate } from './SocketGate';

/**
 * What a `SocketConnection` tells the server that accepted it: one object for all of a server's
 * connections, so that it keeps count without a listener and closure per connection.
 *
 * @internal
 */
export interface ConnectionOwner {
  /** The server's address when it listens on a specific one (every accepted socket has it); else undefined. */
  readonly localAddress: string | undefined;
  /** The server's port, with `localAddress`. */
  readonly localPort: number | undefined;
  /**
   * Our FIN went out while the peer's had not come: the owner may start a close timer, and
   * returns true to be told of each chunk read from then on ({@link connectionRead}).
   */
  connectionFinished(connection: SocketConnection): boolean;
  /** A chunk was read after `connectionFinished` returned true. */
  connectionRead(connection: SocketConnection): void;
  /** The socket has closed; the connection's Observables have completed. */
  connectionClosed(connection: SocketConnection, hadError: boolean): void;
  /**
   * The connection's socket now carries TLS (`upgradeTls`), after a handshake of `handshakeMs`: returns the
   * connection over `secure`, counted in its place.
   */
  connectionUpgraded(connection: SocketConnection, secure: Socket, handshakeMs: number): SocketConnection;
}

/** A connection's close timer: its action, and when the peer last sent something. */
interface CloseTimer {
  lastRead: number;
  action: Subscription | undefined;
}

/**
 * The open connections of one `listen` subscription, and the close timers of those whose FIN went
 * out before the peer's (`closeTimeout`).
 *
 * @internal
 */
export class ServerConnections implements ConnectionOwner {
  /** The connections open now. */
  readonly open = new Set<SocketConnection>();
  localAddress: string | undefined = undefined;
  localPort: number | undefined = undefined;
  /** The first-byte and frame deadlines every accepted connection gets, when listen asks for any. */
  deadlines: ReadDeadlines<SocketConnection> | undefined = undefined;
  /** Close timers; made on first use. */
  private closeTimers: Map<SocketConnection, CloseTimer> | undefined = undefined;

  /**
   * @param closeTimeout ms a connection may stay open after our FIN while the peer is silent; 0 waits forever.
   * @param subscription The `listen` subscription: once it is closed, no timer starts.
   * @param closed Told when a connection has closed, after it left {@link open}.
   * @param upgraded Told when a connection switched to TLS: the TLS connection, in its place.
   */
  constructor(
    private readonly closeTimeout: number,
    private readonly scheduler: SchedulerLike,
    private readonly subscription: Pick<Subscription, 'closed'>,
    private readonly closed: (connection: SocketConnection, hadError: boolean) => void,
    private readonly upgraded?: (connection: SocketConnection, previous: SocketConnection, handshakeMs: number) => void,
  ) {}

  connectionUpgraded(connection: SocketConnection, secure: Socket, handshakeMs: number): SocketConnection {
    this.closeTimers?.get(connection)?.action?.unsubscribe();
    this.closeTimers?.delete(connection);
    this.open.delete(connection);
    const successor = this.accept(secure);
    // One connection to logs and metrics from the `upgrade` event on: the plain one's id.
    (successor as { id: number }).id = connection.id;
    this.upgraded?.(successor, connection, handshakeMs);
    return successor;
  }

  /** Wraps a socket the server accepted and counts it as open. */
  accept(socket: Socket): SocketConnection {
    const connection = new SocketConnection(socket, this);
    this.open.add(connection);
    const deadlines = this.deadlines;
    if (deadlines !== undefined) {
      // A socket connection's data$ is its read gate, which tells the deadlines what they watch.
      const gate = connection.data$ as SocketGate;
      gate.watch = deadlines.watch(connection, gate);
    }
    return connection;
  }

  connectionFinished(connection: SocketConnection): boolean {
    const { closeTimeout, scheduler } = this;
    if (closeTimeout === 0 || this.subscription.closed) return false;
    const timer: CloseTimer = { lastRead: scheduler.now(), action: undefined };
    const timers = (this.closeTimers ??= new Map());
    // Counted from the last chunk the peer sent: one still uploading after our FIN is not cut off.
    timer.action = scheduler.schedule(function () {
      const left = timer.lastRead + closeTimeout - scheduler.now();
      if (left > 0) {
        this.schedule(undefined, left);
        return;
      }
      timers.delete(connection);
      connection.destroy();
    }, closeTimeout);
    timers.set(connection, timer);
    return true;
  }

  connectionRead(connection: SocketConnection): void {
    const timer = this.closeTimers?.get(connection);
    if (timer !== undefined) timer.lastRead = this.scheduler.now();
  }

  connectionClosed(connection: SocketConnection, hadError: boolean): void {
    const timers = this.closeTimers;
    if (timers !== undefined) {
      timers.get(connection)?.action?.unsubscribe();
      timers.delete(connection);
    }
    this.open.delete(connection);
    this.closed(connection, hadError);
  }

  /** Destroys every open connection and stops every timer (the subscription ended). */
  destroyAll(): void {
    this.deadlines?.clear();
    for (const connection of this.open) connection.destroy();
    this.open.clear();
    const timers = this.closeTimers;
    if (timers !== undefined) {
      for (const timer of timers.values()) timer.action?.unsubscribe();
      timers.clear();
    }
  }
}
