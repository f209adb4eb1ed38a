// MemoryDatagramNetwork: UDP in virtual time: latency, scripted loss/duplication/reordering, binding, teardown, errors.
import { VirtualTimeScheduler, asyncScheduler, map, mergeMap, timer } from 'rxjs';
import type { Observable, OperatorFunction, Subscription } from 'rxjs';
import { InvalidArgumentError, UdpSendError } from '../../lib/errors';
import type { Datagram, DatagramTarget, UdpSocket } from '../../lib/types';
import { MemoryDatagramNetwork, createTestScheduler } from '../../lib/testing';
import type { DatagramFate, DatagramTraceEntry, MemoryBindOptions, NetworkDatagram } from '../../lib/testing';
import { bindInUseError } from '../../lib/testing/netErrors';
import { errorData } from '../support/framing';
import { sendDatagrams } from '../../lib/udp/sendDatagrams';

const marbles = () => createTestScheduler({ assertDeepEqual: (actual, expected) => expect(actual).toEqual(expected) });
const at = (frame: number, work: () => void) => asyncScheduler.schedule(work, frame);
const payloads: OperatorFunction<Datagram, Buffer> = map((d) => d.data);
const SERVER: DatagramTarget = { address: '127.0.0.1', port: 7 };

/** Binds at once (bind() emits synchronously) and returns the socket and the subscription that closes it. */
function bound(network: MemoryDatagramNetwork, options: MemoryBindOptions = {}): [UdpSocket, Subscription] {
  let socket: UdpSocket | undefined;
  const subscription = network.bind(options).subscribe((s) => (socket = s));
  return [socket!, subscription];
}

/** The trace as `frame type #index`, one string per entry. */
const lines = (trace: readonly DatagramTraceEntry[]) => trace.map((e) => `${e.at} ${e.type} #${e.datagram.index}`);

/** The echo of the UdpSocket docs, written against UdpSocket only: every datagram back to its sender. */
const echo = (sockets$: Observable<UdpSocket>) =>
  sockets$.pipe(mergeMap((socket) => socket.messages$.pipe(sendDatagrams(socket))));

describe('MemoryDatagramNetwork', () => {
  it('delivers each datagram after the latency (1 ms by default), in order, telling the sender', () => {
    marbles().run(({ cold, expectObservable }) => {
      const network = new MemoryDatagramNetwork();
      const [server] = bound(network, { port: 7 });
      const [client] = bound(network);
      cold('a-b-c|').subscribe((x) => void client.send(x, SERVER));
      expectObservable(server.messages$.pipe(payloads)).toBe('-a-b-c', { a: 'a', b: 'b', c: 'c' });
      expectObservable(server.messages$, '^-!').toBe('-a', {
        a: { data: 'a', address: '127.0.0.1', family: 'IPv4', port: client.local.port, size: 1 },
      });
    });
  });

  it('takes its latency from the option, and a change applies to what is sent next', () => {
    marbles().run(({ cold, expectObservable }) => {
      const network = new MemoryDatagramNetwork({ latency: 3 });
      const [server] = bound(network, { port: 7 });
      const [client] = bound(network);
      at(2, () => (network.latency = 0));
      cold('ab--c|').subscribe((x) => void client.send(x, SERVER));
      // a sent at 0, b at 1 (3 ms each); c at 4 with no latency: later in that frame, with b.
      expectObservable(server.messages$.pipe(payloads)).toBe('---a(bc)', { a: 'a', b: 'b', c: 'c' });
    });
  });

  it('loses and reorders exactly the datagrams scripted by index, and the trace tells which', () => {
    marbles().run(({ cold, expectObservable }) => {
      const network = new MemoryDatagramNetwork({ faults: { 1: 'drop', 2: { delay: 4 } } });
      const [server] = bound(network, { port: 7 });
      const [client] = bound(network);
      cold('abcd|').subscribe((x) => void client.send(x, SERVER));
      // b lost; c (sent at 2) held back to 6, overtaken by d (sent at 3, arriving at 4).
      expectObservable(server.messages$.pipe(payloads)).toBe('-a--d-c', { a: 'a', c: 'c', d: 'd' });
    });
  });

  it('keeps a trace a test can assert on: datagram 1 was dropped, 2 arrived last', () => {
    const scheduler = new VirtualTimeScheduler();
    const network = new MemoryDatagramNetwork({ scheduler, faults: { 1: 'drop', 2: { delay: 4 } } });
    const [server, serverSubscription] = bound(network, { port: 7 });
    server.messages$.subscribe();
    const [client] = bound(network);
    for (const [frame, x] of [
      [0, 'a'],
      [1, 'b'],
      [2, 'c'],
      [3, 'd'],
    ] as const) {
      scheduler.schedule(() => void client.send(x, SERVER), frame);
    }
    scheduler.flush();
    // b's send was scheduled before a's delivery, so it comes first in frame 1.
    expect(lines(network.trace)).toEqual([
      '0 sent #0',
      '1 sent #1',
      '1 dropped #1',
      '1 delivered #0',
      '2 sent #2',
      '3 sent #3',
      '4 delivered #3',
      '6 delivered #2',
    ]);
    expect(network.trace.filter((e) => e.datagram.index === 1).map((e) => e.type)).toEqual(['sent', 'dropped']);
    const delivered = network.trace.find((e) => e.type === 'delivered')!;
    expect(delivered.socketId).toBe(server.id);
    expect(delivered.datagram).toEqual({
      index: 0,
      data: Buffer.from('a'),
      size: 1,
      from: { address: '127.0.0.1', family: 'IPv4', port: client.local.port },
      to: SERVER,
      sentAt: 0,
    });
    expect(network.stats).toEqual({ sent: 4, delivered: 3, unread: 0, dropped: 1, duplicated: 0, unreachable: 0 });
    serverSubscription.unsubscribe();
  });

  it("duplicates: 'duplicate' twice in the same frame, a list of delays one copy per delay, each its own bytes", () => {
    const copies: Buffer[] = [];
    marbles().run(({ cold, expectObservable }) => {
      const network = new MemoryDatagramNetwork({ faults: { 0: 'duplicate', 1: { delay: [4, 7] } } });
      const [server] = bound(network, { port: 7 });
      const [client] = bound(network);
      server.messages$.subscribe((d) => copies.push(d.data));
      cold('ab|').subscribe((x) => void client.send(x, SERVER));
      expectObservable(server.messages$.pipe(payloads)).toBe('-(aa)b--b', { a: 'a', b: 'b' });
      at(10, () => {
        expect(network.stats).toEqual({ sent: 2, delivered: 4, unread: 0, dropped: 0, duplicated: 2, unreachable: 0 });
        expect(server.stats).toMatchObject({ received: 4, receivedBytes: 4 });
      });
    });
    expect(copies.map(String)).toEqual(['a', 'a', 'b', 'b']);
    expect(copies[0]).not.toBe(copies[1]);
  });

  it('asks a fault function about each datagram, with its index counted across the network', () => {
    const seen: string[] = [];
    marbles().run(({ cold, expectObservable }) => {
      const network = new MemoryDatagramNetwork({
        faults: (datagram, index) => {
          seen.push(`${index}:${datagram.index}:${datagram.data.toString()}->${datagram.to.port}`);
          return datagram.data.toString() === 'x' ? 'drop' : 'deliver';
        },
      });
      const [server] = bound(network, { port: 7 });
      const [client] = bound(network);
      cold('axb|').subscribe((v) => void client.send(v, SERVER));
      expectObservable(server.messages$.pipe(payloads)).toBe('-a-b', { a: 'a', b: 'b' });
    });
    expect(seen).toEqual(['0:0:a->7', '1:1:x->7', '2:2:b->7']);
  });

  it('rejects a send with what a fault function throws, or with InvalidArgumentError for what is not a fate; the index is not used up', async () => {
    const scheduler = new VirtualTimeScheduler();
    const failure = new Error('script bug');
    const network = new MemoryDatagramNetwork({ scheduler, faults: () => 'lose' as never });
    const [client, subscription] = bound(network);
    await expect(client.send('a', SERVER)).rejects.toBeInstanceOf(InvalidArgumentError);
    network.faults = () => {
      throw failure;
    };
    await expect(client.send('a', SERVER)).rejects.toBe(failure);
    network.faults = (_d, index) => (index === 0 ? 'drop' : 'deliver');
    await expect(client.send('a', SERVER)).resolves.toBe(1);
    expect(network.trace.map((e) => e.type)).toEqual(['sent', 'dropped']);
    expect(client.stats).toMatchObject({ sent: 1, sentBytes: 1 });
    subscription.unsubscribe();
  });

  it('loses silently what is sent to nobody, resolving the send and counting it', async () => {
    const scheduler = new VirtualTimeScheduler();
    const network = new MemoryDatagramNetwork({ scheduler });
    const [client, subscription] = bound(network);
    await expect(client.send('hello', { address: '127.0.0.1', port: 9 })).resolves.toBe(5);
    scheduler.flush();
    expect(network.stats).toMatchObject({ sent: 1, delivered: 0, unreachable: 1 });
    expect(network.trace.map((e) => [e.type, e.socketId])).toEqual([
      ['sent', client.id],
      ['unreachable', undefined],
    ]);
    subscription.unsubscribe();
  });

  it('loses what arrives after its receiver closed, and counts what arrives while nobody reads', () => {
    marbles().run(() => {
      const network = new MemoryDatagramNetwork({ latency: 2 });
      const [server, serverSubscription] = bound(network, { port: 7 });
      const [client] = bound(network);
      at(0, () => void client.send('unread', SERVER)); // arrives at 2: nobody subscribed to messages$
      at(3, () => void client.send('late', SERVER)); // arrives at 5: the server closed at 4
      at(4, () => serverSubscription.unsubscribe());
      at(6, () => {
        expect(server.stats).toMatchObject({ received: 0, unread: 1 });
        expect(network.stats).toMatchObject({ sent: 2, delivered: 0, unread: 1, unreachable: 1 });
        expect(lines(network.trace)).toEqual(['0 sent #0', '2 unread #0', '3 sent #1', '5 unreachable #1']);
      });
    });
  });

  it('errors a bind on a taken address with EADDRINUSE, as Node does; wildcards clash, distinct addresses and families do not', () => {
    marbles().run(({ expectObservable }) => {
      const network = new MemoryDatagramNetwork();
      bound(network, { port: 7 });
      bound(network, { address: '127.0.0.1', port: 8 });
      expectObservable(network.bind({ port: 7 })).toBe('#', undefined, bindInUseError('0.0.0.0', 7));
      expectObservable(network.bind({ address: '127.0.0.1', port: 7 })).toBe('#', undefined, {
        name: 'Error',
        code: 'EADDRINUSE',
        errno: bindInUseError('x', 0).errno,
        syscall: 'bind',
        address: '127.0.0.1',
        port: 7,
      });
      expectObservable(network.bind({ port: 8 })).toBe('#', undefined, bindInUseError('0.0.0.0', 8));
      expectObservable(network.bind({ address: '127.0.0.2', port: 8 }).pipe(map((s) => s.local))).toBe('a', {
        a: { address: '127.0.0.2', family: 'IPv4', port: 8 },
      });
      expectObservable(network.bind({ type: 'udp6', port: 7 }).pipe(map((s) => s.local))).toBe('a', {
        a: { address: '::', family: 'IPv6', port: 7 },
      });
    });
  });

  it('completes messages$ on unsubscribe and frees the port for the next bind', () => {
    marbles().run(({ cold, expectObservable }) => {
      const network = new MemoryDatagramNetwork();
      const [first, subscription] = bound(network, { port: 7 });
      const [client] = bound(network);
      cold('a---b|').subscribe((x) => void client.send(x, SERVER));
      at(3, () => subscription.unsubscribe());
      expectObservable(first.messages$.pipe(payloads)).toBe('-a-|', { a: 'a' });
      at(3, () => expect(first.closed).toBe(true));
      // Bound again at 3, once the first has closed.
      const second$ = timer(3).pipe(
        mergeMap(() => network.bind({ port: 7 })),
        mergeMap((second) => second.messages$),
        payloads,
      );
      expectObservable(second$).toBe('-----b', { b: 'b' });
    });
  });

  it('is cold: binds nothing until subscribed, and each subscription binds a socket of its own', () => {
    marbles().run(({ expectObservable }) => {
      const network = new MemoryDatagramNetwork();
      const sockets$ = network.bind();
      expect(network.stats.sent).toBe(0);
      const ports: number[] = [];
      sockets$.subscribe((s) => ports.push(s.local.port));
      sockets$.subscribe((s) => ports.push(s.local.port));
      expect(ports).toEqual([49152, 49153]);
      expectObservable(network.bind({ port: 49152 })).toBe('#', undefined, bindInUseError('0.0.0.0', 49152));
    });
  });

  it('picks distinct free ports for port 0, skipping taken ones, going on upwards after a close', () => {
    const network = new MemoryDatagramNetwork({ scheduler: new VirtualTimeScheduler() });
    const [, taken] = bound(network, { port: 49153 });
    const [a, aSubscription] = bound(network);
    const [b] = bound(network, { port: 0 });
    aSubscription.unsubscribe();
    const [c] = bound(network, { address: '127.0.0.1' });
    expect([a.local.port, b.local.port, c.local.port]).toEqual([49152, 49154, 49155]);
    taken.unsubscribe();
    // Two networks never share ports: each keeps its own.
    expect(bound(new MemoryDatagramNetwork())[0].local.port).toBe(49152);
  });

  it('runs an echo written against UdpSocket unchanged', () => {
    marbles().run(({ cold, expectObservable }) => {
      const network = new MemoryDatagramNetwork();
      echo(network.bind({ address: '127.0.0.1', port: 7 })).subscribe();
      const [client] = bound(network);
      cold('a-b--c|').subscribe((x) => void client.send(`${x}!`, SERVER));
      expectObservable(client.messages$.pipe(payloads)).toBe('--a-b--c', { a: 'a!', b: 'b!', c: 'c!' });
    });
  });

  it('sends a connected socket to its peer, and takes datagrams from its peer only', () => {
    marbles().run(({ cold, expectObservable }) => {
      const network = new MemoryDatagramNetwork();
      echo(network.bind({ port: 7 })).subscribe();
      const [client] = bound(network, { address: 'localhost', connect: { address: 'localhost', port: 7 } });
      const [stranger] = bound(network);
      expect(client.remote).toEqual(SERVER);
      cold('a-b|').subscribe((x) => void client.send(x));
      at(1, () => void stranger.send('spam', { address: '127.0.0.1', port: client.local.port }));
      expectObservable(client.messages$.pipe(payloads)).toBe('--a-b', { a: 'a', b: 'b' });
      at(5, () => expect(network.stats).toMatchObject({ delivered: 4, unreachable: 1 }));
    });
  });

  it('carries IPv6 between udp6 sockets; an address of the other family rejects with EINVAL, as Node', async () => {
    const scheduler = new VirtualTimeScheduler();
    const network = new MemoryDatagramNetwork({ scheduler });
    const [server, s1] = bound(network, { type: 'udp6', port: 7 });
    const [client, s2] = bound(network, { type: 'udp6' });
    const got: Datagram[] = [];
    server.messages$.subscribe((d) => got.push(d));
    await client.send('six', { address: '::1', port: 7 });
    scheduler.flush();
    expect(got).toEqual([
      { data: Buffer.from('six'), address: '::1', family: 'IPv6', port: client.local.port, size: 3 },
    ]);
    const refusal = await client.send('four', SERVER).catch((error: unknown) => error);
    expect(errorData(refusal)).toMatchObject({ name: 'UdpSendError', reason: 'EINVAL', size: 4 });
    expect(errorData((refusal as UdpSendError).cause)).toMatchObject({ code: 'EINVAL', syscall: 'send' });
    s1.unsubscribe();
    s2.unsubscribe();
  });

  it("rejects a datagram over its family's limit (65507 B on udp4, 65527 B on udp6) or maxDatagramSize with UdpSendError EMSGSIZE, sending nothing", async () => {
    const scheduler = new VirtualTimeScheduler();
    for (const [limit, options, type, host] of [
      [65_507, {}, 'udp4', '127.0.0.1'],
      [65_527, {}, 'udp6', '::1'],
      [100, { maxDatagramSize: 100 }, 'udp4', '127.0.0.1'],
      [100, { maxDatagramSize: 100 }, 'udp6', '::1'],
      // A larger option cannot lift the family's own limit.
      [65_507, { maxDatagramSize: 100_000 }, 'udp4', '127.0.0.1'],
    ] as const) {
      const network = new MemoryDatagramNetwork({ scheduler, ...options });
      const [client, subscription] = bound(network, { type });
      expect(network.maxDatagramSize).toBe('maxDatagramSize' in options ? options.maxDatagramSize : Infinity);
      const server = { address: host, port: 7 };
      await expect(client.send(Buffer.alloc(limit), server)).resolves.toBe(limit);
      const refusal = await client.send(Buffer.alloc(limit + 1), server).catch((error: unknown) => error);
      expect(refusal).toBeInstanceOf(UdpSendError);
      expect(errorData(refusal)).toEqual({
        name: 'UdpSendError',
        code: 'ERR_UDP_SEND',
        socketId: client.id,
        size: limit + 1,
        reason: 'EMSGSIZE',
        cause: expect.objectContaining({ code: 'EMSGSIZE', syscall: 'send', address: host, port: 7 }),
      });
      expect(client.stats).toMatchObject({ sent: 1, sentBytes: limit, sendFailed: 1 });
      expect(network.stats.sent).toBe(1);
      subscription.unsubscribe();
    }
  });

  it('keeps the last traceLimit entries of its trace (10,000 by default), the oldest dropped', async () => {
    const scheduler = new VirtualTimeScheduler();
    const network = new MemoryDatagramNetwork({ scheduler, traceLimit: 3, faults: () => 'drop' });
    const [client, subscription] = bound(network);
    for (let i = 0; i < 5; i++) await client.send(`${i}`, SERVER);
    // Each datagram: 'sent', then 'dropped'; what is left is the last three entries, in order.
    expect(network.trace.map((e) => `${e.type} #${e.datagram.index}`)).toEqual(['dropped #3', 'sent #4', 'dropped #4']);
    expect(network.stats).toMatchObject({ sent: 5, dropped: 5 });
    for (let i = 0; i < 1000; i++) await client.send('x', SERVER);
    expect(network.trace).toHaveLength(3);
    expect(new MemoryDatagramNetwork().traceLimit).toBe(10_000);
    const silent = new MemoryDatagramNetwork({ scheduler, traceLimit: 0 });
    const [quiet, quietSubscription] = bound(silent);
    await quiet.send('x', SERVER);
    expect(silent.trace).toEqual([]);
    subscription.unsubscribe();
    quietSubscription.unsubscribe();
  });

  it("rejects a send after close with UdpSendError 'closed'", async () => {
    const network = new MemoryDatagramNetwork({ scheduler: new VirtualTimeScheduler() });
    const [client, subscription] = bound(network);
    subscription.unsubscribe();
    expect(client.closed).toBe(true);
    const refusal = await client.send('late', SERVER).catch((error: unknown) => error);
    expect(errorData(refusal)).toEqual({
      name: 'UdpSendError',
      code: 'ERR_UDP_SEND',
      socketId: client.id,
      size: 4,
      reason: 'closed',
      cause: undefined,
    });
    expect(network.stats.sent).toBe(0);
  });

  it('shares messages$ among its subscribers, counting each datagram once', () => {
    marbles().run(({ cold, expectObservable }) => {
      const network = new MemoryDatagramNetwork();
      const [server] = bound(network, { port: 7 });
      const [client] = bound(network);
      cold('ab|').subscribe((x) => void client.send(x, SERVER));
      expectObservable(server.messages$.pipe(payloads)).toBe('-ab', { a: 'a', b: 'b' });
      expectObservable(server.messages$.pipe(payloads)).toBe('-ab', { a: 'a', b: 'b' });
      at(3, () => expect(server.stats).toMatchObject({ received: 2, unread: 0 }));
    });
  });

  it('behaves as its TSDoc example shows: the echo of a, datagram 1, is lost on its way back', () => {
    marbles().run(({ cold, expectObservable }) => {
      const network = new MemoryDatagramNetwork({ faults: { 1: 'drop' } });
      network.bind({ port: 7 }).subscribe((server) => server.messages$.subscribe((d) => void server.send(d.data, d)));
      network.bind().subscribe((client) => {
        cold('a-b-c|')
          .pipe(mergeMap((x) => client.send(x, { address: '127.0.0.1', port: 7 })))
          .subscribe();
        expectObservable(client.messages$.pipe(map((d) => d.data))).toBe('----b-c', { b: 'b', c: 'c' });
      });
    });
  });

  it('runs the sample of docs/testing.md: a service answering through loss and delay', () => {
    const upper = (sockets$: Observable<UdpSocket>) =>
      sockets$.pipe(
        mergeMap((socket) => socket.messages$.pipe(mergeMap((d) => socket.send(d.data.toString().toUpperCase(), d)))),
      );
    const faults = (datagram: NetworkDatagram): DatagramFate => {
      const text = datagram.data.toString();
      return text === 'b' ? 'drop' : text === 'C' ? { delay: 4 } : 'deliver';
    };
    const network = new MemoryDatagramNetwork({ faults });
    marbles().run(({ cold, expectObservable }) => {
      upper(network.bind({ port: 5353 })).subscribe();
      network.bind().subscribe((client) => {
        cold('abcd|').subscribe((x) => void client.send(x, { address: '127.0.0.1', port: 5353 }));
        expectObservable(client.messages$.pipe(map((d) => d.data))).toBe('--A--D-C', { A: 'A', C: 'C', D: 'D' });
      });
    });
    expect(network.stats).toMatchObject({ sent: 7, dropped: 1, delivered: 6 });
    expect(network.trace.filter((e) => e.type === 'dropped').map((e) => e.datagram.data.toString())).toEqual(['b']);
  });

  it('checks its options and bind options when given, not when subscribed', () => {
    for (const bad of [
      { latency: -1 },
      { latency: 0.5 },
      { maxDatagramSize: -1 },
      { traceLimit: -1 },
      { traceLimit: 1.5 },
      { scheduler: {} },
      { faults: 'drop' },
      { faults: { first: 'drop' } },
      { faults: { 0: { delay: -1 } } },
      { faults: { 0: { delay: [] } } },
      { faults: { 0: 'lose' } },
    ]) {
      expect(() => new MemoryDatagramNetwork(bad as never)).toThrow(InvalidArgumentError);
    }
    const network = new MemoryDatagramNetwork();
    expect(() => (network.latency = -2)).toThrow(InvalidArgumentError);
    expect(() => (network.faults = null as never)).toThrow(InvalidArgumentError);
    for (const bad of [
      { port: 65536 },
      { port: -1 },
      { type: 'tcp' },
      { address: '' },
      { connect: { address: '127.0.0.1', port: 0 } },
      { connect: { port: 7 } },
    ]) {
      expect(() => network.bind(bad as never)).toThrow(InvalidArgumentError);
    }
    expect(network.stats.sent).toBe(0);
  });
});
