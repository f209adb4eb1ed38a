// bindUdp() and sendDatagrams() over real datagram sockets on 127.0.0.1 and ::1 (port 0 throughout): an echo of
// 10,000 datagrams, size limits both ways, bind errors, connected sockets and their refusals, broadcast, multicast,
// per-source rates on a virtual clock, and teardown. The receive filters and send's promise over a stand-in socket:
// spec/udp/DgramUdpSocket.spec.ts; the sink's policies: spec/udp/sendDatagrams.spec.ts.
import { Buffer } from 'buffer';
// The module object itself (a namespace import is a frozen copy), so that one spec can wrap its createSocket.
import dgram from 'dgram';
import {
  Subject,
  Subscription,
  VirtualTimeScheduler,
  filter,
  firstValueFrom,
  from,
  lastValueFrom,
  timeout,
} from 'rxjs';
import { InvalidArgumentError, UdpSendError } from '../../lib/errors';
import type { Datagram, DatagramTarget, UdpSocket } from '../../lib/types';
import { bindUdp, type BindUdpOptions } from '../../lib/udp/bindUdp';
import { datagramSendStats, sendDatagrams } from '../../lib/udp/sendDatagrams';
import { expectUdpHandlesBackTo, probeUdpLoopback, udpHandleCount } from '../support/udp';

const kernel = probeUdpLoopback();
/** Registered as skipped (never passed) where the kernel lacks `can`; the reason is printed. */
function describeIf(can: true | string, what: string): jest.Describe {
  if (can === true) return describe;
  console.warn(`bindUdp spec: ${what} skipped: ${can}`);
  return describe.skip;
}

/** Every subscription a test made, closed after it. */
const open: Subscription[] = [];
afterEach(() => {
  for (const subscription of open.splice(0)) subscription.unsubscribe();
});

interface Bound {
  readonly socket: UdpSocket;
  readonly port: number;
  readonly subscription: Subscription;
  /** How the Observable ended: `{ completed: true }` or `{ error }`. */
  readonly ended: Promise<{ completed?: true; error?: unknown }>;
}

/** Binds and resolves once bound; rejects with the bind error. */
function bind(options: BindUdpOptions): Promise<Bound> {
  return new Promise((resolve, reject) => {
    const subscription = new Subscription();
    open.push(subscription);
    let end: (outcome: { completed?: true; error?: unknown }) => void = () => undefined;
    const ended = new Promise<{ completed?: true; error?: unknown }>((r) => (end = r));
    subscription.add(
      bindUdp(options).subscribe({
        next: (socket) => resolve({ socket, port: socket.local.port, subscription, ended }),
        error: (error: unknown) => {
          end({ error });
          reject(error);
        },
        complete: () => end({ completed: true }),
      }),
    );
  });
}

/** The next datagram `socket` receives (that `accept` accepts), within 5 s. */
function nextDatagram(socket: UdpSocket, accept: (d: Datagram) => boolean = () => true): Promise<Datagram> {
  return firstValueFrom(socket.messages$.pipe(filter(accept), timeout({ first: 5000 })));
}

/**
 * Sends to a port nobody listens on from a socket connected to it, two datagrams per tick, until
 * a send is refused. Linux reports the ICMP refusal of one datagram on the socket's next send (or
 * receive), so the second send of a pair is the one refused (tried again on a machine so loaded
 * that the ICMP message came late).
 */
async function firstRefusal(socket: UdpSocket): Promise<unknown> {
  for (let attempt = 0; attempt < 10; attempt++) {
    const results = await Promise.allSettled([socket.send('a'), socket.send('b')]);
    const refused = results.find((r): r is PromiseRejectedResult => r.status === 'rejected');
    if (refused) return refused.reason;
  }
  return undefined;
}

/** A datagram the echo test can check: its number, then bytes derived from it; 4 to 1003 bytes. */
function payload(i: number): Buffer {
  const data = Buffer.alloc(4 + ((i * 7919) % 1000));
  data.writeUInt32BE(i, 0);
  for (let j = 4; j < data.length; j++) data[j] = (i + j * 31) & 0xff;
  return data;
}

const families = [
  { type: 'udp4' as const, host: '127.0.0.1', largest: 65_507, ipv6: true as const },
  { type: 'udp6' as const, host: '::1', largest: 65_527, ipv6: kernel.ipv6 },
];

for (const { type, host, largest, ipv6 } of families) {
  describeIf(ipv6, `${type} on ${host}`)(`bindUdp (${type} on ${host})`, () => {
    it('echoes 10,000 datagrams through sendDatagrams both ways, each checked, 64 in flight', async () => {
      const server = await bind({ type, address: host });
      open.push(server.socket.messages$.pipe(sendDatagrams(server.socket)).subscribe());
      const client = await bind({ type, address: host, connect: { address: host, port: server.port } });
      const total = 10_000;
      const stats = datagramSendStats();
      const outgoing = new Subject<Buffer>();
      open.push(outgoing.pipe(sendDatagrams(client.socket, { stats })).subscribe());
      const seen = new Uint8Array(total);
      const wrong: number[] = [];
      let received = 0;
      let next = 0;
      const done = new Promise<void>((resolve, reject) => {
        open.push(
          client.socket.messages$.pipe(timeout({ each: 5000 })).subscribe({
            next: ({ data }) => {
              const i = data.readUInt32BE(0);
              if (i >= total || seen[i] === 1 || !data.equals(payload(i))) wrong.push(i);
              else seen[i] = 1;
              // A window: one more datagram out for each one back.
              if (next < total) outgoing.next(payload(next++));
              if (++received === total) resolve();
            },
            error: reject,
          }),
        );
      });
      while (next < 64) outgoing.next(payload(next++));
      await done;
      expect({ received, wrong }).toEqual({ received: total, wrong: [] });
      expect(server.socket.stats).toMatchObject({ received: total, unread: 0, sent: total, sendFailed: 0 });
      expect(stats).toMatchObject({ sent: total, failed: 0, dropped: 0, inFlight: 0 });
      expect(stats.peakInFlight).toBeLessThanOrEqual(64);
    });

    it('drops datagrams over maxDatagramSize, counted as oversize, and delivers the one at the limit', async () => {
      const server = await bind({ type, address: host, maxDatagramSize: 100 });
      const client = await bind({ type, address: host });
      const target = { address: host, port: server.port };
      const arrived = nextDatagram(server.socket);
      await client.socket.send(Buffer.alloc(101, 1), target);
      await client.socket.send(Buffer.alloc(100, 2), target);
      expect((await arrived).data).toEqual(Buffer.alloc(100, 2));
      expect(server.socket.stats).toMatchObject({ oversize: 1, received: 1, receivedBytes: 100 });
    });

    it(`rejects a send over ${largest} B with UdpSendError 'EMSGSIZE', and goes on sending`, async () => {
      const server = await bind({ type, address: host });
      const client = await bind({ type, address: host });
      const target = { address: host, port: server.port };
      for (const size of [largest + 1, 70_000]) {
        const error = await client.socket.send(Buffer.alloc(size), target).catch((e: unknown) => e);
        expect(error).toBeInstanceOf(UdpSendError);
        expect(error).toMatchObject({ code: 'ERR_UDP_SEND', reason: 'EMSGSIZE', size, socketId: client.socket.id });
      }
      const arrived = nextDatagram(server.socket);
      await expect(client.socket.send(Buffer.alloc(largest, 7), target)).resolves.toBe(largest);
      expect((await arrived).size).toBe(largest);
      expect(client.socket.stats).toMatchObject({ sendFailed: 2, sent: 1, sentBytes: largest });
      expect(client.socket.closed).toBe(false);
    });

    it("fails with EADDRINUSE, Node's error with its code, when the port is taken", async () => {
      const first = await bind({ type, address: host });
      const error = await bind({ type, address: host, port: first.port }).catch((e: unknown) => e);
      expect(error).toMatchObject({ code: 'EADDRINUSE', syscall: 'bind', port: first.port });
      expect(first.socket.closed).toBe(false);
    });

    it('connects: remote set, send without a target goes to the peer, only the peer is heard', async () => {
      const server = await bind({ type, address: host });
      const client = await bind({ type, address: host, connect: { address: host, port: server.port } });
      expect(client.socket.remote).toEqual({ address: host, port: server.port });
      const arrived = nextDatagram(server.socket);
      await expect(client.socket.send('to the peer')).resolves.toBe(11);
      expect(await arrived).toMatchObject({ data: Buffer.from('to the peer'), address: host, port: client.port });
      // A stranger's datagram is not for a connected socket: the peer's, sent after it, comes first.
      const stranger = await bind({ type, address: host });
      const heard = nextDatagram(client.socket);
      await stranger.socket.send('stranger', client.socket.local);
      await server.socket.send('peer', client.socket.local);
      expect(String((await heard).data)).toBe('peer');
      // A target on a connected socket is Node's refusal, typed.
      const refused = await client.socket.send('x', { address: host, port: server.port }).catch((e: unknown) => e);
      expect(refused).toMatchObject({ name: 'UdpSendError', reason: 'ERR_SOCKET_DGRAM_IS_CONNECTED' });
    });

    it('learns ECONNREFUSED on a connected socket whose peer port is closed, typed and counted, and goes on', async () => {
      const gone = await bind({ type, address: host });
      const port = gone.port;
      gone.subscription.unsubscribe();
      const client = await bind({ type, address: host, connect: { address: host, port } });
      const refusal = await firstRefusal(client.socket);
      expect(refusal).toBeInstanceOf(UdpSendError);
      expect(refusal).toMatchObject({ reason: 'ECONNREFUSED', code: 'ERR_UDP_SEND', cause: { code: 'ECONNREFUSED' } });
      // A refused send is not sent. One more, alone, is taken; its refusal comes on the receive side.
      await expect(client.socket.send('c')).resolves.toBe(1);
      const back = await bind({ type, address: host, port });
      const arrived = nextDatagram(client.socket);
      await back.socket.send('back', client.socket.local);
      expect(String((await arrived).data)).toBe('back');
      const { sendFailed, refused } = client.socket.stats;
      expect(sendFailed).toBeGreaterThanOrEqual(1);
      expect(refused).toBeGreaterThanOrEqual(1);
      expect(client.socket.closed).toBe(false);
    });

    it('closes the socket on unsubscribe: messages$ completes, send says closed, nobody is there any more', async () => {
      const server = await bind({ type, address: host });
      let completed = false;
      server.socket.messages$.subscribe({ complete: () => (completed = true) });
      server.subscription.unsubscribe();
      expect([completed, server.socket.closed]).toEqual([true, true]);
      const late = await server.socket.send('late', { address: host, port: server.port }).catch((e: unknown) => e);
      expect(late).toMatchObject({ name: 'UdpSendError', reason: 'closed' });
      // A datagram to its port is refused by the kernel, and the port can be bound again.
      const client = await bind({ type, address: host, connect: { address: host, port: server.port } });
      expect(await firstRefusal(client.socket)).toMatchObject({ reason: 'ECONNREFUSED' });
      const again = await bind({ type, address: host, port: server.port });
      expect(again.socket.local.port).toBe(server.port);
    });

    it('leaves no handle when unsubscribed before the bind finished', async () => {
      const before = udpHandleCount();
      const probe = await bind({ type, address: host });
      probe.subscription.unsubscribe();
      const outcomes: unknown[] = [];
      // Node binds a literal address on the next tick: this unsubscribes first.
      bindUdp({ type, address: host, port: probe.port })
        .subscribe({ next: (s) => outcomes.push(s), error: (e) => outcomes.push(e) })
        .unsubscribe();
      const again = await bind({ type, address: host, port: probe.port });
      again.subscription.unsubscribe();
      expect(outcomes).toEqual([]);
      await expectUdpHandlesBackTo(before);
    });

    it('tells bound the address, the real port for port 0, before the socket is emitted', async () => {
      const told: unknown[] = [];
      const server = await bind({ type, address: host, bound: (address) => told.push(address) });
      expect(server.port).toBeGreaterThan(0);
      expect(told).toEqual([{ address: host, family: type === 'udp4' ? 'IPv4' : 'IPv6', port: server.port }]);
    });
  });
}

describe('bindUdp', () => {
  it('fails with what a throwing bound threw, closing the socket', async () => {
    const before = udpHandleCount();
    const thrown = new Error('bound failed');
    const error = await bind({
      type: 'udp4',
      address: '127.0.0.1',
      bound: () => {
        throw thrown;
      },
    }).catch((e: unknown) => e);
    expect(error).toBe(thrown);
    await expectUdpHandlesBackTo(before);
  });

  it("fails with EADDRNOTAVAIL for an address that is not this host's", async () => {
    const error = await bind({ type: 'udp4', address: '203.0.113.7' }).catch((e: unknown) => e);
    expect(error).toMatchObject({ code: 'EADDRNOTAVAIL', syscall: 'bind' });
  });

  it("fails with Node's EINVAL when a multicast group is no multicast address", async () => {
    const error = await bind({ type: 'udp4', multicast: { groups: ['127.0.0.1'] } }).catch((e: unknown) => e);
    expect(error).toMatchObject({ code: 'EINVAL', syscall: 'addMembership' });
  });

  it('leaves no handle when unsubscribed while a name is looked up', async () => {
    const before = udpHandleCount();
    const probe = await bind({ type: 'udp4', address: '127.0.0.1' });
    probe.subscription.unsubscribe();
    const outcomes: unknown[] = [];
    bindUdp({ type: 'udp4', address: 'localhost', port: probe.port })
      .subscribe({ next: (s) => outcomes.push(s), error: (e) => outcomes.push(e) })
      .unsubscribe();
    await expectUdpHandlesBackTo(before);
    const again = await bind({ type: 'udp4', address: '127.0.0.1', port: probe.port });
    again.subscription.unsubscribe();
    expect(outcomes).toEqual([]);
  });

  it('fails messages$ and itself with a socket error after bind, closing the socket', async () => {
    const server = await bind({ type: 'udp4', address: '127.0.0.1' });
    const failed = firstValueFrom(server.socket.messages$).catch((e: unknown) => e);
    const failure = Object.assign(new Error('recvmsg EIO'), { code: 'EIO', syscall: 'recvmsg' });
    server.socket.socket?.emit('error', failure);
    expect(await failed).toBe(failure);
    expect(await server.ended).toEqual({ error: failure });
    expect(server.socket.closed).toBe(true);
  });

  it('completes messages$ and itself when the socket is closed through the escape hatch', async () => {
    const server = await bind({ type: 'udp4', address: '127.0.0.1' });
    let completed = false;
    server.socket.messages$.subscribe({ complete: () => (completed = true) });
    server.socket.socket?.close();
    expect(await server.ended).toEqual({ completed: true });
    expect([completed, server.socket.closed]).toEqual([true, true]);
  });

  it('binds a port twice with reuseAddr, and sets the buffer sizes asked for', async () => {
    const first = await bind({ type: 'udp4', address: '127.0.0.1', reuseAddr: true });
    const second = await bind({ type: 'udp4', address: '127.0.0.1', reuseAddr: true, port: first.port });
    expect(second.port).toBe(first.port);
    // What a socket gets when it asks for nothing (net.core.rmem_default and wmem_default on Linux).
    const plain = await bind({ type: 'udp4', address: '127.0.0.1' });
    const defaults = [plain.socket.socket!.getRecvBufferSize(), plain.socket.socket!.getSendBufferSize()];
    const small = await bind({ type: 'udp4', address: '127.0.0.1', recvBufferSize: 4096, sendBufferSize: 4096 });
    const sizes = [small.socket.socket!.getRecvBufferSize(), small.socket.socket!.getSendBufferSize()];
    // Linux doubles what is asked (its bookkeeping): 8192, well below the defaults (212,992 as shipped).
    expect(sizes[0]).toBeGreaterThanOrEqual(4096);
    expect(sizes[1]).toBeGreaterThanOrEqual(4096);
    expect(sizes[0]).toBeLessThan(defaults[0]);
    expect(sizes[1]).toBeLessThan(defaults[1]);
  });

  it.each([
    ['an address of the other family', '::1', { code: 'EINVAL', syscall: 'connect', address: '::1', port: 9 }],
    [
      'a name that does not resolve',
      'no-such-host.invalid',
      { code: expect.stringMatching(/^(ENOTFOUND|EAI_AGAIN)$/) },
    ],
  ])(
    "fails with Node's error, closing the socket, when it cannot connect to %s",
    async (_what, address, expected) => {
      const before = udpHandleCount();
      const error = await bind({ type: 'udp4', address: '127.0.0.1', connect: { address, port: 9 } }).catch(
        (e: unknown) => e,
      );
      expect(error).toMatchObject(expected);
      await expectUdpHandlesBackTo(before);
    },
    10_000,
  );

  it('drops, counted as strangers, what others sent a connected socket before it connected', async () => {
    const stranger = await bind({ type: 'udp4', address: '127.0.0.1' });
    const peer = await bind({ type: 'udp4', address: '127.0.0.1' });
    // The kernel queues a stranger's datagram that comes between bind and connect; connect does not purge it.
    const createSocket = dgram.createSocket;
    const spy = jest.spyOn(dgram, 'createSocket').mockImplementationOnce(((
      ...args: Parameters<typeof createSocket>
    ) => {
      const raw = createSocket(...args);
      raw.once(
        'listening',
        () => void stranger.socket.send('stranger', { address: '127.0.0.1', port: raw.address().port }),
      );
      return raw;
    }) as typeof createSocket);
    let client: Bound;
    try {
      client = await bind({ type: 'udp4', address: '127.0.0.1', connect: { address: '127.0.0.1', port: peer.port } });
    } finally {
      spy.mockRestore();
    }
    const heard = nextDatagram(client.socket);
    await peer.socket.send('peer', client.socket.local);
    expect(await heard).toMatchObject({ data: Buffer.from('peer'), port: peer.port });
    expect(client.socket.stats).toMatchObject({ strangers: 1, received: 1 });
  });

  it("rejects with 'closed' a send still waiting for its name lookup when the socket closes", async () => {
    const server = await bind({ type: 'udp4', address: '127.0.0.1' });
    const sending = server.socket.send('x', { address: 'localhost', port: server.port });
    server.subscription.unsubscribe();
    expect(await sending.catch((e: unknown) => e)).toMatchObject({ name: 'UdpSendError', reason: 'closed' });
    expect(server.socket.stats).toMatchObject({ sent: 0, sendFailed: 0 });
  }, 10_000);

  it('completes sendDatagrams, counting as unsent what waited for a lookup, when the socket closes', async () => {
    const server = await bind({ type: 'udp4', address: '127.0.0.1' });
    const stats = datagramSendStats();
    const target = { address: 'localhost', port: server.port };
    const sent = lastValueFrom(from(['a', 'b']).pipe(sendDatagrams(server.socket, { target, stats })), {
      defaultValue: 'completed',
    });
    server.socket.socket!.close();
    expect(await sent).toBe('completed');
    expect(stats).toMatchObject({ sent: 0, unsent: 2, failed: 0, inFlight: 0 });
  }, 10_000);

  it('completes sendDatagrams when its socket closes with nothing in flight, leaving its source', async () => {
    const server = await bind({ type: 'udp4', address: '127.0.0.1' });
    const source = new Subject<string>();
    const target = { address: '127.0.0.1', port: server.port };
    const sent = lastValueFrom(source.pipe(sendDatagrams(server.socket, { target })), { defaultValue: 'completed' });
    server.socket.socket!.close();
    expect(await sent).toBe('completed');
    expect(source.observed).toBe(false);
  }, 10_000);

  it("rejects a send in the tick the socket was closed through the escape hatch with 'closed', uncounted", async () => {
    const server = await bind({ type: 'udp4', address: '127.0.0.1' });
    server.socket.socket!.close();
    const sending = server.socket.send('x', { address: '127.0.0.1', port: server.port });
    expect(server.socket.closed).toBe(true);
    expect(await sending.catch((e: unknown) => e)).toMatchObject({ name: 'UdpSendError', reason: 'closed' });
    expect(server.socket.stats.sendFailed).toBe(0);
    expect(await server.ended).toEqual({ completed: true });
  });

  describeIf(kernel.ipv6, 'ipv6Only')('with ipv6Only', () => {
    it('leaves the IPv4 side of its port free', async () => {
      const v6 = await bind({ type: 'udp6', address: '::', ipv6Only: true });
      const v4 = await bind({ type: 'udp4', address: '0.0.0.0', port: v6.port });
      expect(v4.port).toBe(v6.port);
    });
  });

  describeIf(kernel.secondAddress, 'the rate limit (127.0.0.2 as a second source)')('with rateLimit', () => {
    it('drops the datagrams of a source over its rate, per source address, on the scheduler clock', async () => {
      const clock = new VirtualTimeScheduler();
      const server = await bind({
        type: 'udp4',
        address: '127.0.0.1',
        rateLimit: { burst: 2, perSecond: 1 },
        scheduler: clock,
      });
      const a = await bind({ type: 'udp4', address: '127.0.0.2' });
      const b = await bind({ type: 'udp4', address: '127.0.0.1' });
      const target = { address: '127.0.0.1', port: server.port };
      const seen: string[] = [];
      server.socket.messages$.subscribe((d) => seen.push(`${d.address} ${String(d.data)}`));
      // b's datagram, sent after a's, marks that all of a's went through the filter.
      let marker = nextDatagram(server.socket, (d) => String(d.data) === 'b1');
      for (const n of [1, 2, 3, 4, 5]) await a.socket.send(`a${n}`, target);
      await b.socket.send('b1', target);
      await marker;
      expect(seen).toEqual(['127.0.0.2 a1', '127.0.0.2 a2', '127.0.0.1 b1']);
      expect(server.socket.stats.rateLimited).toBe(3);
      // One second of virtual time: one token more for a.
      clock.schedule(() => undefined, 1000);
      clock.flush();
      marker = nextDatagram(server.socket, (d) => String(d.data) === 'b2');
      await a.socket.send('a6', target);
      await a.socket.send('a7', target);
      await b.socket.send('b2', target);
      await marker;
      expect(seen.slice(3)).toEqual(['127.0.0.2 a6', '127.0.0.1 b2']);
      expect(server.socket.stats).toMatchObject({ rateLimited: 4, received: 5 });
    });
  });

  describeIf(kernel.broadcast, 'broadcast on loopback')('with broadcast', () => {
    it('sends to a broadcast address only with broadcast: true (EACCES without)', async () => {
      const receiver = await bind({ type: 'udp4', address: '0.0.0.0' });
      const target: DatagramTarget = { address: '127.255.255.255', port: receiver.port };
      const plain = await bind({ type: 'udp4', address: '127.0.0.1' });
      const refused = await plain.socket.send('no', target).catch((e: unknown) => e);
      expect(refused).toMatchObject({ name: 'UdpSendError', reason: 'EACCES' });
      const caster = await bind({ type: 'udp4', address: '127.0.0.1', broadcast: true });
      const arrived = nextDatagram(receiver.socket);
      await expect(caster.socket.send('all', target)).resolves.toBe(3);
      expect(await arrived).toMatchObject({ data: Buffer.from('all'), address: '127.0.0.1', port: caster.port });
    });
  });

  describeIf(kernel.multicast, 'multicast on the loopback interface')('with multicast', () => {
    it('joins a group on 127.0.0.1 and, loopback on, hears its own datagram to it', async () => {
      const group = '239.255.77.2';
      const member = await bind({
        type: 'udp4',
        address: '0.0.0.0',
        multicast: { groups: [group], interface: '127.0.0.1', loopback: true, ttl: 1 },
      });
      const arrived = nextDatagram(member.socket);
      await member.socket.send('to the group', { address: group, port: member.port });
      expect(await arrived).toMatchObject({ data: Buffer.from('to the group'), port: member.port });
    });
  });

  describeIf(
    kernel.sourceSpecific === true ? kernel.secondAddress : kernel.sourceSpecific,
    'source-specific multicast on the loopback interface',
  )('with a source-specific membership', () => {
    it('hears the group from its source only', async () => {
      const group = '232.77.0.2';
      const member = await bind({
        type: 'udp4',
        address: '0.0.0.0',
        multicast: { groups: [{ group, source: '127.0.0.1', interface: '127.0.0.1' }] },
      });
      const sending = { interface: '127.0.0.1', loopback: true };
      const stranger = await bind({ type: 'udp4', address: '127.0.0.2', multicast: sending });
      const source = await bind({ type: 'udp4', address: '127.0.0.1', multicast: sending });
      const target = { address: group, port: member.port };
      const first = nextDatagram(member.socket);
      await stranger.socket.send('filtered', target);
      await source.socket.send('wanted', target);
      expect(await first).toMatchObject({ data: Buffer.from('wanted'), address: '127.0.0.1' });
    });
  });

  it('checks its options at call time with InvalidArgumentError', () => {
    const bad: [string, BindUdpOptions][] = [
      ['type', { type: 'tcp' as 'udp4' }],
      ['type', {} as BindUdpOptions],
      ['port', { type: 'udp4', port: 65_536 }],
      ['port', { type: 'udp4', port: -1 }],
      ['address', { type: 'udp4', address: '' }],
      ['reuseAddr', { type: 'udp4', reuseAddr: 'yes' as unknown as boolean }],
      ['ipv6Only', { type: 'udp4', ipv6Only: true }],
      ['recvBufferSize', { type: 'udp4', recvBufferSize: 0 }],
      ['connect.port', { type: 'udp4', connect: { address: '127.0.0.1', port: 0 } }],
      ['connect.address', { type: 'udp4', connect: { address: '', port: 1 } }],
      ['multicast.groups', { type: 'udp4', multicast: { groups: [{ group: '' }] } }],
      ['multicast.ttl', { type: 'udp4', multicast: { ttl: 256 } }],
      ['maxDatagramSize', { type: 'udp4', maxDatagramSize: -1 }],
      ['rateLimit.burst', { type: 'udp4', rateLimit: { burst: 0, perSecond: 1 } }],
      ['rateLimit.perSecond', { type: 'udp4', rateLimit: { burst: 1, perSecond: 0 } }],
      ['rateLimit.maxSources', { type: 'udp4', rateLimit: { burst: 1, perSecond: 1, maxSources: 0 } }],
      ['bound', { type: 'udp4', bound: 'me' as never }],
      ['scheduler', { type: 'udp4', scheduler: {} as never }],
    ];
    for (const [argument, options] of bad) {
      let thrown: unknown;
      try {
        bindUdp(options);
      } catch (error) {
        thrown = error;
      }
      expect(thrown).toBeInstanceOf(InvalidArgumentError);
      expect({ argument: (thrown as InvalidArgumentError).argument }).toEqual({ argument });
    }
    expect(() => bindUdp(null as unknown as BindUdpOptions)).toThrow(InvalidArgumentError);
  });
});
