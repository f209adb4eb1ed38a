// DgramUdpSocket over a stand-in dgram socket: the receive filters and their counters, send's promise, errors, close.
import { Buffer } from 'buffer';
import { EventEmitter } from 'events';
import type * as dgram from 'dgram';
import type { SchedulerLike } from 'rxjs';
import { InvalidArgumentError, UdpSendError } from '../../lib/errors';
import type { Datagram } from '../../lib/types';
import { DgramUdpSocket, type ReceiveLimits } from '../../lib/udp/DgramUdpSocket';
import { SourceRateLimit } from '../../lib/udp/SourceRateLimit';

type SendCallback = (error: Error | null, bytes: number) => void;

/** What DgramUdpSocket uses of a dgram socket, recorded; the test calls each send back itself. */
class FakeDgram extends EventEmitter {
  readonly sends: { data: Buffer; port?: number; address?: string; callback: SendCallback }[] = [];
  closes = 0;
  throwOnSend: Error | undefined = undefined;

  address() {
    return { address: '127.0.0.1', family: 'IPv4', port: 4000 };
  }

  remoteAddress() {
    return { address: '127.0.0.1', family: 'IPv4', port: 5000 };
  }

  send(data: Buffer, ...rest: unknown[]): void {
    if (this.throwOnSend) throw this.throwOnSend;
    const callback = rest.pop() as SendCallback;
    const [port, address] = rest as [number | undefined, string | undefined];
    this.sends.push({ data, port, address, callback });
  }

  close(): void {
    if (this.closes++ > 0) throw Object.assign(new Error('Not running'), { code: 'ERR_SOCKET_DGRAM_NOT_RUNNING' });
  }
}

const rinfo = (size: number, address = '10.0.0.1') => ({ address, family: 'IPv4', port: 6000, size });
const clock = (at: { now: number }): SchedulerLike => ({ now: () => at.now, schedule: () => undefined as never });
const errno = (code: string, syscall: string) => Object.assign(new Error(`${syscall} ${code}`), { code, syscall });

function make(limits: Partial<ReceiveLimits> = {}) {
  const raw = new FakeDgram();
  const ended: (Error | undefined)[] = [];
  const socket = new DgramUdpSocket(
    raw as unknown as dgram.Socket,
    { maxDatagramSize: Infinity, rateLimit: undefined, scheduler: clock({ now: 0 }), ...limits },
    (error) => ended.push(error),
  );
  return { raw, socket, ended };
}

describe('DgramUdpSocket', () => {
  it('hands each datagram to messages$ with its sender, and counts it', () => {
    const { raw, socket } = make();
    const seen: Datagram[] = [];
    socket.messages$.subscribe((d) => seen.push(d));
    raw.emit('message', Buffer.from('hi'), rinfo(2));
    expect(seen).toEqual([{ data: Buffer.from('hi'), address: '10.0.0.1', family: 'IPv4', port: 6000, size: 2 }]);
    expect(socket.stats).toMatchObject({ received: 1, receivedBytes: 2, unread: 0 });
    expect(socket.local).toEqual({ address: '127.0.0.1', family: 'IPv4', port: 4000 });
  });

  it('counts datagrams that come while nobody listens as unread, and shares one stream between listeners', () => {
    const { raw, socket } = make();
    raw.emit('message', Buffer.from('lost'), rinfo(4));
    const a: string[] = [];
    const b: string[] = [];
    socket.messages$.subscribe((d) => a.push(String(d.data)));
    socket.messages$.subscribe((d) => b.push(String(d.data)));
    raw.emit('message', Buffer.from('x'), rinfo(1));
    expect(socket.stats).toMatchObject({ received: 1, unread: 1 });
    expect([a, b]).toEqual([['x'], ['x']]);
  });

  it('drops datagrams over maxDatagramSize, counted as oversize, and keeps one of exactly that size', () => {
    const { raw, socket } = make({ maxDatagramSize: 3 });
    const seen: number[] = [];
    socket.messages$.subscribe((d) => seen.push(d.size));
    raw.emit('message', Buffer.alloc(4), rinfo(4));
    raw.emit('message', Buffer.alloc(3), rinfo(3));
    raw.emit('message', Buffer.alloc(0), rinfo(0));
    expect(seen).toEqual([3, 0]);
    expect(socket.stats).toMatchObject({ oversize: 1, received: 2, receivedBytes: 3 });
  });

  it('drops datagrams of a source over its rate, counted as rateLimited, on the scheduler clock', () => {
    const at = { now: 0 };
    const { raw, socket } = make({ rateLimit: new SourceRateLimit(2, 1, 10), scheduler: clock(at) });
    const seen: string[] = [];
    socket.messages$.subscribe((d) => seen.push(`${d.address}:${String(d.data)}`));
    for (const n of ['1', '2', '3']) raw.emit('message', Buffer.from(n), rinfo(1, '10.0.0.1'));
    raw.emit('message', Buffer.from('4'), rinfo(1, '10.0.0.2'));
    at.now = 1000;
    raw.emit('message', Buffer.from('5'), rinfo(1, '10.0.0.1'));
    raw.emit('message', Buffer.from('6'), rinfo(1, '10.0.0.1'));
    expect(seen).toEqual(['10.0.0.1:1', '10.0.0.1:2', '10.0.0.2:4', '10.0.0.1:5']);
    expect(socket.stats).toMatchObject({ rateLimited: 2, received: 4 });
  });

  it('send resolves with the bytes once the kernel calls back, to the target or the connected peer', async () => {
    const { raw, socket } = make();
    socket.connected();
    const toTarget = socket.send('abc', { address: '10.0.0.9', port: 9 });
    const toPeer = socket.send(new Uint8Array([1, 2]));
    expect(raw.sends.map(({ port, address }) => [port, address])).toEqual([
      [9, '10.0.0.9'],
      [undefined, undefined],
    ]);
    raw.sends[0].callback(null, 3);
    raw.sends[1].callback(null, 2);
    await expect(Promise.all([toTarget, toPeer])).resolves.toEqual([3, 2]);
    expect(socket.stats).toMatchObject({ sent: 2, sentBytes: 5, sendFailed: 0 });
  });

  it("send rejects with UdpSendError carrying Node's code when the kernel refuses, and counts it", async () => {
    const { raw, socket } = make();
    const sending = socket.send(Buffer.alloc(70_000), { address: '10.0.0.9', port: 9 });
    const cause = errno('EMSGSIZE', 'send');
    raw.sends[0].callback(cause, 0);
    await expect(sending).rejects.toMatchObject({
      name: 'UdpSendError',
      code: 'ERR_UDP_SEND',
      socketId: socket.id,
      size: 70_000,
      reason: 'EMSGSIZE',
      cause,
    });
    expect(socket.stats).toMatchObject({ sent: 0, sendFailed: 1 });
  });

  it('send rejects what Node refuses at once (a connected socket given a target), with its code', async () => {
    const { raw, socket } = make();
    raw.throwOnSend = Object.assign(new Error('Already connected'), { code: 'ERR_SOCKET_DGRAM_IS_CONNECTED' });
    await expect(socket.send('x', { address: '10.0.0.9', port: 9 })).rejects.toMatchObject({
      reason: 'ERR_SOCKET_DGRAM_IS_CONNECTED',
      size: 1,
    });
    expect(socket.stats.sendFailed).toBe(1);
  });

  it('send rejects a datagram without a target on an unconnected socket, before Node sees it', async () => {
    const { raw, socket } = make();
    await expect(socket.send('x')).rejects.toMatchObject({ reason: 'ERR_SOCKET_DGRAM_NOT_CONNECTED', size: 1 });
    expect(raw.sends).toEqual([]);
  });

  it('send rejects a value that is no bytes with InvalidArgumentError', async () => {
    const { socket } = make();
    await expect(socket.send(42 as unknown as string)).rejects.toBeInstanceOf(InvalidArgumentError);
  });

  it("after close, send rejects with reason 'closed', and sends cancelled by the close say 'closed' too, uncounted", async () => {
    const { raw, socket } = make();
    const pending = socket.send('a', { address: '10.0.0.9', port: 9 });
    socket.close();
    raw.sends[0].callback(errno('ECANCELED', 'send'), 0);
    await expect(pending).rejects.toMatchObject({ reason: 'closed' });
    const late = socket.send('bc', { address: '10.0.0.9', port: 9 });
    await expect(late).rejects.toBeInstanceOf(UdpSendError);
    await expect(late).rejects.toMatchObject({ reason: 'closed', size: 2, cause: undefined });
    expect(socket.stats.sendFailed).toBe(0);
  });

  it("rejects with 'closed' the sends still pending when the socket closes (Node never calls back one awaiting its lookup)", async () => {
    for (const closing of ['close()', "'close' from elsewhere"]) {
      const { raw, socket } = make();
      const pending = socket.send('abc', { address: 'localhost', port: 9 });
      if (closing === 'close()') socket.close();
      else raw.emit('close');
      await expect(pending).rejects.toMatchObject({
        name: 'UdpSendError',
        reason: 'closed',
        size: 3,
        cause: undefined,
      });
      // A callback that comes after all the same is not a second settlement.
      raw.sends[0].callback(null, 3);
      raw.sends[0].callback(errno('ECANCELED', 'send'), 0);
      expect(socket.stats).toMatchObject({ sent: 0, sentBytes: 0, sendFailed: 0 });
    }
  });

  it("rejects a send Node refuses as not running (closed through the escape hatch this tick) with 'closed', and closes", async () => {
    const { raw, socket, ended } = make();
    let completed = false;
    socket.messages$.subscribe({ complete: () => (completed = true) });
    raw.throwOnSend = Object.assign(new Error('Not running'), { code: 'ERR_SOCKET_DGRAM_NOT_RUNNING' });
    const refusal = socket.send('x', { address: '10.0.0.9', port: 9 }).catch((e: unknown) => e);
    expect([socket.closed, completed, ended]).toEqual([true, true, [undefined]]);
    expect(await refusal).toMatchObject({ reason: 'closed', size: 1 });
    expect(socket.stats.sendFailed).toBe(0);
  });

  it('drops what a connected socket receives from anyone but its peer, counted as strangers', () => {
    const { raw, socket } = make();
    socket.connected();
    const seen: string[] = [];
    socket.messages$.subscribe((d) => seen.push(`${d.address}:${d.port} ${String(d.data)}`));
    raw.emit('message', Buffer.from('other host'), { ...rinfo(10, '10.0.0.1'), port: 5000 });
    raw.emit('message', Buffer.from('other port'), { ...rinfo(10, '127.0.0.1'), port: 5001 });
    raw.emit('message', Buffer.from('peer'), { ...rinfo(4, '127.0.0.1'), port: 5000 });
    expect(seen).toEqual(['127.0.0.1:5000 peer']);
    expect(socket.stats).toMatchObject({ strangers: 2, received: 1, receivedBytes: 4 });
  });

  it('close completes messages$, closes the socket once, and is not told as an end', () => {
    const { raw, socket, ended } = make();
    let completed = false;
    socket.messages$.subscribe({ complete: () => (completed = true) });
    socket.close();
    socket.close();
    expect([completed, socket.closed, raw.closes, ended]).toEqual([true, true, 1, []]);
    // A late error of the closed socket has a listener: never unhandled.
    expect(() => raw.emit('error', new Error('late'))).not.toThrow();
    let lateCompleted = false;
    socket.messages$.subscribe({ complete: () => (lateCompleted = true) });
    expect(lateCompleted).toBe(true);
  });

  it('counts a refusal reported on the receive side as refused, and goes on', () => {
    const { raw, socket, ended } = make();
    const errors: unknown[] = [];
    const seen: number[] = [];
    socket.messages$.subscribe({ next: (d) => seen.push(d.size), error: (e) => errors.push(e) });
    raw.emit('error', errno('ECONNREFUSED', 'recvmsg'));
    raw.emit('error', errno('EHOSTUNREACH', 'recvmsg'));
    raw.emit('message', Buffer.alloc(1), rinfo(1));
    expect(socket.stats.refused).toBe(2);
    expect([errors, seen, ended, socket.closed]).toEqual([[], [1], [], false]);
  });

  it('fails messages$ and tells ended on any other socket error, closing the socket', () => {
    const { raw, socket, ended } = make();
    const errors: unknown[] = [];
    socket.messages$.subscribe({ error: (e) => errors.push(e) });
    const failure = errno('EIO', 'recvmsg');
    raw.emit('error', failure);
    expect([errors, ended, socket.closed, raw.closes]).toEqual([[failure], [failure], true, 1]);
    expect(() => raw.emit('error', new Error('again'))).not.toThrow();
  });

  it('completes messages$ and tells ended without an error when the socket is closed from elsewhere', () => {
    const { raw, socket, ended } = make();
    let completed = false;
    socket.messages$.subscribe({ complete: () => (completed = true) });
    raw.emit('close');
    expect([completed, ended, socket.closed]).toEqual([true, [undefined], true]);
    socket.close();
    expect(raw.closes).toBe(0);
  });

  it('knows its peer once connected, and has a process-unique id', () => {
    const { socket } = make();
    const other = make().socket;
    expect(socket.remote).toBeUndefined();
    socket.connected();
    expect(socket.remote).toEqual({ address: '127.0.0.1', port: 5000 });
    expect(other.id).toBeGreaterThan(socket.id);
  });
});
