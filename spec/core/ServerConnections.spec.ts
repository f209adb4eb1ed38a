// ServerConnections, the open connections of one listen() subscription: counting them, and the close timer of a
// connection whose FIN went out before the peer's (closeTimeout), in virtual time on fake connections. The same
// rules over real sockets: spec/integration/deadlines.spec.ts.
import { Socket } from 'net';
import { asyncScheduler } from 'rxjs';
import { TestScheduler } from 'rxjs/testing';
import { ServerConnections } from '../../lib/core/ServerConnections';
import type { SocketConnection } from '../../lib/core/SocketConnection';

const marbles = () => new TestScheduler((actual, expected) => expect(actual).toEqual(expected));
/** Runs `work` at `frame` of the current TestScheduler.run (asyncScheduler is virtual there). */
const at = (frame: number, work: () => void) => asyncScheduler.schedule(work, frame);

/** A connection that only records when it was destroyed (in virtual ms). */
function fakeConnection(name: string, destroyed: string[]): SocketConnection {
  return { destroy: () => destroyed.push(`${name} at ${asyncScheduler.now()}`) } as unknown as SocketConnection;
}

/** ServerConnections on the virtual asyncScheduler, telling `closed` what closed. */
function serverConnections(closeTimeout: number, subscription = { closed: false }) {
  const closed: string[] = [];
  const connections = new ServerConnections(closeTimeout, asyncScheduler, subscription, (_, hadError) =>
    closed.push(`closed ${hadError}`),
  );
  return { connections, closed };
}

describe('ServerConnections', () => {
  it('destroys a connection closeTimeout ms after our FIN went out, when the peer stayed silent', () => {
    marbles().run(() => {
      const destroyed: string[] = [];
      const { connections } = serverConnections(10);
      const conn = fakeConnection('a', destroyed);
      at(2, () => expect(connections.connectionFinished(conn)).toBe(true));
      at(20, () => expect(destroyed).toEqual(['a at 12']));
    });
  });

  it('counts the wait from the last chunk the peer sent after our FIN', () => {
    marbles().run(() => {
      const destroyed: string[] = [];
      const { connections } = serverConnections(10);
      const conn = fakeConnection('a', destroyed);
      at(0, () => connections.connectionFinished(conn));
      at(4, () => connections.connectionRead(conn));
      at(9, () => connections.connectionRead(conn));
      at(30, () => expect(destroyed).toEqual(['a at 19']));
    });
  });

  it('starts no timer with closeTimeout 0, nor once the listen subscription is closed', () => {
    marbles().run(() => {
      const destroyed: string[] = [];
      const forever = serverConnections(0).connections;
      const ended = serverConnections(10, { closed: true }).connections;
      at(0, () => {
        expect(forever.connectionFinished(fakeConnection('a', destroyed))).toBe(false);
        expect(ended.connectionFinished(fakeConnection('b', destroyed))).toBe(false);
        // A read without a timer changes nothing.
        forever.connectionRead(fakeConnection('a', destroyed));
      });
      at(1000, () => expect(destroyed).toEqual([]));
    });
  });

  it('stops the timer of a connection that closed, forgets it and tells the server how it closed', () => {
    marbles().run(() => {
      const destroyed: string[] = [];
      const { connections, closed } = serverConnections(10);
      const conn = fakeConnection('a', destroyed);
      connections.open.add(conn);
      at(0, () => connections.connectionFinished(conn));
      at(5, () => connections.connectionClosed(conn, true));
      at(30, () => {
        expect(destroyed).toEqual([]);
        expect(connections.open.size).toBe(0);
        expect(closed).toEqual(['closed true']);
      });
    });
  });

  it('destroys every open connection and stops every timer when the subscription ends', () => {
    marbles().run(() => {
      const destroyed: string[] = [];
      const { connections } = serverConnections(10);
      const [a, b] = [fakeConnection('a', destroyed), fakeConnection('b', destroyed)];
      connections.open.add(a).add(b);
      at(0, () => connections.connectionFinished(a));
      at(3, () => connections.destroyAll());
      at(30, () => {
        expect(destroyed).toEqual(['a at 3', 'b at 3']);
        expect(connections.open.size).toBe(0);
      });
    });
  });

  it("accepts a socket as a SocketConnection it counts, whose local address is the server's", async () => {
    const { connections, closed } = serverConnections(10);
    connections.localAddress = '127.0.0.1';
    connections.localPort = 8080;
    // A socket that was never connected: no handle is opened.
    const socket = new Socket();
    const conn = connections.accept(socket);
    expect([...connections.open]).toEqual([conn]);
    expect([conn.localAddress, conn.localPort]).toEqual(['127.0.0.1', 8080]);
    conn.destroy();
    await new Promise((resolve) => socket.once('close', resolve));
    // Forgotten once closed, and the server told once (a socket never connected closes without hadError).
    expect(connections.open.size).toBe(0);
    expect(closed).toHaveLength(1);
  });
});
