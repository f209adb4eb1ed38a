// MemoryUdpSocket: the UdpSocket contract in memory: ids, counters, the copy taken at send, argument checks, close.
import { VirtualTimeScheduler } from 'rxjs';
import { nextConnectionId } from '../../lib/core/SocketConnection';
import { InvalidArgumentError, UdpSendError } from '../../lib/errors';
import type { Datagram, UdpSocket } from '../../lib/types';
import { MemoryDatagramNetwork } from '../../lib/testing';
import { MemoryUdpSocket, checkTarget } from '../../lib/testing/MemoryUdpSocket';
import type { NetError } from '../../lib/testing/netErrors';

/** A network on a scheduler the test flushes, and two sockets bound on it (the server on port 7). */
function setUp() {
  const scheduler = new VirtualTimeScheduler();
  const network = new MemoryDatagramNetwork({ scheduler });
  const sockets: UdpSocket[] = [];
  const subscriptions = [network.bind({ port: 7 }), network.bind()].map((s) => s.subscribe((x) => sockets.push(x)));
  const [server, client] = sockets;
  const received: Datagram[] = [];
  server.messages$.subscribe((d) => received.push(d));
  const close = () => subscriptions.forEach((s) => s.unsubscribe());
  return { scheduler, network, server, client, received, close };
}

describe('MemoryUdpSocket', () => {
  it('is what bind() emits, with an id from the connection counter', () => {
    const before = nextConnectionId();
    const { server, client, close } = setUp();
    expect(server).toBeInstanceOf(MemoryUdpSocket);
    expect(server.id).toBeGreaterThan(before);
    expect(client.id).toBe(server.id + 1);
    expect(server.local).toEqual({ address: '0.0.0.0', family: 'IPv4', port: 7 });
    expect(server.remote).toBeUndefined();
    expect(server.socket).toBeUndefined();
    close();
  });

  it('counts what it sends and receives, in datagrams and bytes', async () => {
    const { scheduler, server, client, received, close } = setUp();
    await client.send('hello', { address: '127.0.0.1', port: 7 });
    await client.send(Uint8Array.of(1, 2, 3), { address: '127.0.0.1', port: 7 });
    scheduler.flush();
    expect(received.map((d) => d.size)).toEqual([5, 3]);
    // bindUdp's drop counters are there, at 0: a memory socket has no option that drops.
    const zeros = { oversize: 0, rateLimited: 0, refused: 0, strangers: 0 };
    expect(client.stats).toEqual({
      received: 0,
      receivedBytes: 0,
      unread: 0,
      sent: 2,
      sentBytes: 8,
      sendFailed: 0,
      ...zeros,
    });
    expect(server.stats).toEqual({
      received: 2,
      receivedBytes: 8,
      unread: 0,
      sent: 0,
      sentBytes: 0,
      sendFailed: 0,
      ...zeros,
    });
    close();
  });

  it('takes a copy of the bytes at send, so the caller may reuse its buffer at once', async () => {
    const { scheduler, client, received, close } = setUp();
    const buffer = Buffer.from('abc');
    await client.send(buffer, { address: '127.0.0.1', port: 7 });
    buffer.write('xyz');
    scheduler.flush();
    expect(received[0].data.toString()).toBe('abc');
    close();
  });

  it("rejects as bindUdp does: InvalidArgumentError for data that is not bytes, Node's code for a bad target", async () => {
    const { scheduler, network, client, close } = setUp();
    await expect(client.send(42 as never, { address: '127.0.0.1', port: 7 })).rejects.toBeInstanceOf(
      InvalidArgumentError,
    );
    const reasons = await Promise.all(
      [
        client.send('x'),
        client.send('x', null as never),
        client.send('x', { address: '127.0.0.1', port: 0 }),
        client.send('x', { address: '127.0.0.1', port: 70000 }),
        client.send('x', { address: 7, port: 7 } as never),
      ].map((p) => p.catch((error: UdpSendError) => [error.name, error.reason, (error.cause as NetError).code])),
    );
    expect(reasons).toEqual([
      ['UdpSendError', 'ERR_SOCKET_DGRAM_NOT_CONNECTED', 'ERR_SOCKET_DGRAM_NOT_CONNECTED'],
      ['UdpSendError', 'ERR_SOCKET_BAD_PORT', 'ERR_SOCKET_BAD_PORT'],
      ['UdpSendError', 'ERR_SOCKET_BAD_PORT', 'ERR_SOCKET_BAD_PORT'],
      ['UdpSendError', 'ERR_SOCKET_BAD_PORT', 'ERR_SOCKET_BAD_PORT'],
      ['UdpSendError', 'ERR_INVALID_ARG_TYPE', 'ERR_INVALID_ARG_TYPE'],
    ]);
    expect(client.stats).toMatchObject({ sent: 0, sendFailed: 5 });
    // An empty address is localhost, as for Node.
    await expect(client.send('x', { address: '', port: 7 })).resolves.toBe(1);
    scheduler.flush();
    expect(network.stats.delivered).toBe(1);
    close();
  });

  it("sends a connected socket's datagrams to its peer, and rejects a target given to it with ERR_SOCKET_DGRAM_IS_CONNECTED", async () => {
    const { scheduler, network, received, close } = setUp();
    let connected: UdpSocket | undefined;
    const subscription = network.bind({ connect: { address: 'localhost', port: 7 } }).subscribe((s) => (connected = s));
    expect(connected!.remote).toEqual({ address: '127.0.0.1', port: 7 });
    await expect(connected!.send('to the peer')).resolves.toBe(11);
    const refusal = await connected!.send('x', { address: '127.0.0.1', port: 7 }).catch((error: UdpSendError) => error);
    expect(refusal).toMatchObject({ reason: 'ERR_SOCKET_DGRAM_IS_CONNECTED', cause: { message: 'Already connected' } });
    expect(connected!.stats).toMatchObject({ sent: 1, sendFailed: 1 });
    scheduler.flush();
    expect(received.map((d) => d.data.toString())).toEqual(['to the peer']);
    subscription.unsubscribe();
    close();
  });

  it('completes messages$ once closed, for late subscribers too', () => {
    const { server, close } = setUp();
    const events: string[] = [];
    server.messages$.subscribe({ complete: () => events.push('complete') });
    close();
    expect(server.closed).toBe(true);
    server.messages$.subscribe({ complete: () => events.push('late complete') });
    expect(events).toEqual(['complete', 'late complete']);
  });
});

describe('checkTarget', () => {
  it('returns a fresh target, wildcards and localhost read as loopback', () => {
    const target = { address: '10.0.0.1', port: 53, extra: true };
    expect(checkTarget('target', target, 'IPv4')).toEqual({ address: '10.0.0.1', port: 53 });
    expect(checkTarget('target', { address: '0.0.0.0', port: 1 }, 'IPv4')).toEqual({ address: '127.0.0.1', port: 1 });
    expect(checkTarget('target', { address: '::', port: 1 }, 'IPv6')).toEqual({ address: '::1', port: 1 });
    expect(checkTarget('target', { address: 'localhost', port: 1 }, 'IPv4').address).toBe('127.0.0.1');
    expect(checkTarget('target', { address: 'localhost', port: 1 }, 'IPv6').address).toBe('::1');
  });

  it('refuses a missing address and a port outside [1, 65535], naming the option', () => {
    expect(() => checkTarget('connect', { address: '', port: 1 }, 'IPv4')).toThrow('invalid connect');
    expect(() => checkTarget('connect', { address: 'a', port: 0 }, 'IPv4')).toThrow('invalid connect.port');
  });
});
