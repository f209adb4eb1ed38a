// sendDatagrams over a socket whose sends the test settles: destinations, the window in flight, overflow, refusals, ends.
// The same operator over real sockets (10,000 datagrams echoed on 127.0.0.1 and ::1) is in spec/integration/bindUdp.spec.ts.
import { Buffer } from 'buffer';
import { NEVER, Subject, VirtualTimeScheduler, concat, from, throwError } from 'rxjs';
import type { Observable } from 'rxjs';
import { InvalidArgumentError, QueueOverflowError, UdpSendError } from '../../lib/errors';
import { MemoryDatagramNetwork } from '../../lib/testing';
import type { MemoryUdpSocket } from '../../lib/testing/MemoryUdpSocket';
import type { Chunk, Datagram, DatagramTarget, UdpSocket } from '../../lib/types';
import { datagramSendStats, sendDatagrams, type OutgoingDatagram } from '../../lib/udp/sendDatagrams';

interface SendCall {
  readonly data: Chunk;
  readonly target: DatagramTarget | undefined;
  resolve(bytes: number): void;
  reject(error: unknown): void;
}

/** A UdpSocket whose sends wait until the test settles them, in `calls`. */
function stubSocket(remote?: DatagramTarget): { socket: UdpSocket; calls: SendCall[] } {
  const calls: SendCall[] = [];
  const socket: UdpSocket = {
    id: 7,
    local: { address: '127.0.0.1', family: 'IPv4', port: 4000 },
    remote,
    messages$: NEVER,
    stats: { received: 0, receivedBytes: 0, unread: 0, sent: 0, sentBytes: 0, sendFailed: 0 },
    closed: false,
    send: (data, target) => new Promise<number>((resolve, reject) => calls.push({ data, target, resolve, reject })),
  };
  return { socket, calls };
}

/** Lets every promise callback due run (no timer involved). */
const settle = () => new Promise<void>((resolve) => setImmediate(resolve));

/** Subscribes and records how the sink ends. */
function run<T>(source: Observable<T>) {
  const end: { completed: boolean; error: unknown; values: unknown[] } = {
    completed: false,
    error: undefined,
    values: [],
  };
  const subscription = source.subscribe({
    next: (v) => end.values.push(v),
    error: (e) => (end.error = e),
    complete: () => (end.completed = true),
  });
  return { end, subscription };
}

const peer: DatagramTarget = { address: '127.0.0.1', port: 9000 };
const refusal = (reason: string, size = 1) =>
  new UdpSendError(7, size, reason, Object.assign(new Error(reason), { code: reason }));

describe('sendDatagrams', () => {
  it('sends payloads to options.target and completes, emitting nothing, once every send settled', async () => {
    const { socket, calls } = stubSocket();
    const stats = datagramSendStats();
    const { end } = run(from(['a', Buffer.from('bc')]).pipe(sendDatagrams(socket, { target: peer, stats })));
    expect(calls.map((c) => [c.data, c.target])).toEqual([
      ['a', peer],
      [Buffer.from('bc'), peer],
    ]);
    calls[0].resolve(1);
    await settle();
    expect(end.completed).toBe(false);
    calls[1].resolve(2);
    await settle();
    expect(end).toEqual({ completed: true, error: undefined, values: [] });
    expect(stats).toMatchObject({ sent: 2, sentBytes: 3, inFlight: 0, peakInFlight: 2, failed: 0 });
  });

  it("sends payloads to a connected socket's peer when no target is given", () => {
    const { socket, calls } = stubSocket(peer);
    run(from(['x']).pipe(sendDatagrams(socket)));
    expect(calls.map((c) => [c.data, c.target])).toEqual([['x', undefined]]);
  });

  it('sends each { data, address, port } to its own address, so received datagrams go back to their senders', () => {
    const { socket, calls } = stubSocket();
    const received: Datagram = { data: Buffer.from('ping'), address: '10.0.0.2', family: 'IPv4', port: 5353, size: 4 };
    const outgoing: OutgoingDatagram = { data: 'hi', address: '10.0.0.3', port: 53 };
    run(from<(Datagram | OutgoingDatagram)[]>([received, outgoing]).pipe(sendDatagrams(socket, { target: peer })));
    expect(calls.map((c) => [c.data, c.target?.address, c.target?.port])).toEqual([
      [Buffer.from('ping'), '10.0.0.2', 5353],
      ['hi', '10.0.0.3', 53],
    ]);
  });

  it("drops values that find highWaterMark sends in flight under 'drop-newest' (the default), counting them", async () => {
    const { socket, calls } = stubSocket(peer);
    const stats = datagramSendStats();
    const source = new Subject<string>();
    const { end } = run(source.pipe(sendDatagrams(socket, { highWaterMark: 2, stats })));
    for (const v of ['a', 'b', 'c', 'd']) source.next(v);
    expect(calls.map((c) => c.data)).toEqual(['a', 'b']);
    calls[0].resolve(1);
    await settle();
    source.next('e');
    source.complete();
    expect(calls.map((c) => c.data)).toEqual(['a', 'b', 'e']);
    calls[1].resolve(1);
    calls[2].resolve(1);
    await settle();
    expect(end.completed).toBe(true);
    expect(stats).toMatchObject({ sent: 3, dropped: 2, peakInFlight: 2, inFlight: 0 });
  });

  it("fails with QueueOverflowError under 'error' when a value finds the window full", () => {
    const { socket } = stubSocket(peer);
    const source = new Subject<string>();
    const { end } = run(source.pipe(sendDatagrams(socket, { highWaterMark: 2, overflow: 'error' })));
    for (const v of ['a', 'b', 'c']) source.next(v);
    expect(end.error).toBeInstanceOf(QueueOverflowError);
    expect(end.error).toMatchObject({ code: 'ERR_QUEUE_OVERFLOW', highWaterMark: 2, queued: 2, queue: 'send window' });
    expect(source.observed).toBe(false);
  });

  it("queues values under 'wait' and sends them in order as sends settle, completing after the last", async () => {
    const { socket, calls } = stubSocket(peer);
    const stats = datagramSendStats();
    const { end } = run(
      from(['a', 'b', 'c', 'd', 'e']).pipe(sendDatagrams(socket, { highWaterMark: 2, overflow: 'wait', stats })),
    );
    expect(calls.map((c) => c.data)).toEqual(['a', 'b']);
    expect(stats).toMatchObject({ queued: 3, peakQueued: 3 });
    for (let i = 0; i < 5; i++) {
      calls[i].resolve(1);
      await settle();
    }
    expect(calls.map((c) => c.data)).toEqual(['a', 'b', 'c', 'd', 'e']);
    expect(end.completed).toBe(true);
    expect(stats).toMatchObject({ sent: 5, queued: 0, peakQueued: 3, dropped: 0, unsent: 0 });
  });

  it("fails with QueueOverflowError under 'wait' when maxQueued values already wait", () => {
    const { socket } = stubSocket(peer);
    const stats = datagramSendStats();
    const { end } = run(
      from(['a', 'b', 'c', 'd']).pipe(
        sendDatagrams(socket, { highWaterMark: 1, overflow: 'wait', maxQueued: 2, stats }),
      ),
    );
    expect(end.error).toBeInstanceOf(QueueOverflowError);
    expect(end.error).toMatchObject({
      highWaterMark: 2,
      queued: 2,
      queue: 'datagram queue',
      waitingFor: 'room in flight',
    });
    expect(stats).toMatchObject({ queued: 0, unsent: 2 });
  });

  it("counts a refused send and goes on under onSendError 'drop' (the default)", async () => {
    const { socket, calls } = stubSocket(peer);
    const stats = datagramSendStats();
    const { end } = run(from(['big', 'ok']).pipe(sendDatagrams(socket, { stats })));
    calls[0].reject(refusal('EMSGSIZE', 3));
    calls[1].resolve(2);
    await settle();
    expect(end.completed).toBe(true);
    expect(stats).toMatchObject({ sent: 1, failed: 1 });
  });

  it("fails with the send's UdpSendError under onSendError 'error'", async () => {
    const { socket, calls } = stubSocket(peer);
    const source = new Subject<string>();
    const { end } = run(source.pipe(sendDatagrams(socket, { onSendError: 'error' })));
    source.next('x');
    const error = refusal('ECONNREFUSED');
    calls[0].reject(error);
    await settle();
    expect(end.error).toBe(error);
    expect(source.observed).toBe(false);
  });

  it('fails with the refusal even when the source had already completed', async () => {
    const { socket, calls } = stubSocket(peer);
    const { end } = run(from(['x']).pipe(sendDatagrams(socket, { onSendError: 'error' })));
    calls[0].reject(refusal('ENOBUFS'));
    await settle();
    expect(end).toMatchObject({ completed: false, error: { reason: 'ENOBUFS' } });
  });

  it('ends quietly when the socket closes, counting what it could not send as unsent', async () => {
    const { socket, calls } = stubSocket(peer);
    const stats = datagramSendStats();
    const source = new Subject<string>();
    const { end } = run(
      source.pipe(sendDatagrams(socket, { highWaterMark: 1, overflow: 'wait', onSendError: 'error', stats })),
    );
    for (const v of ['a', 'b', 'c']) source.next(v);
    calls[0].reject(new UdpSendError(7, 1, 'closed'));
    await settle();
    expect(end).toEqual({ completed: true, error: undefined, values: [] });
    expect(source.observed).toBe(false);
    expect(stats).toMatchObject({ unsent: 3, failed: 0, queued: 0 });
  });

  it("ends as soon as rxnet's own socket closes, nothing in flight, leaving its source and not reading messages$", () => {
    const network = new MemoryDatagramNetwork({ scheduler: new VirtualTimeScheduler() });
    let socket: UdpSocket | undefined;
    const binding = network.bind().subscribe((s) => (socket = s));
    const stats = datagramSendStats();
    const source = new Subject<string>();
    const { end } = run(source.pipe(sendDatagrams(socket!, { target: peer, stats })));
    expect(socket!.messages$).toBeDefined();
    expect((socket as MemoryUdpSocket).reading).toBe(false);
    binding.unsubscribe();
    expect(end).toEqual({ completed: true, error: undefined, values: [] });
    expect(source.observed).toBe(false);
    expect(stats).toMatchObject({ sent: 0, unsent: 0, inFlight: 0 });
  });

  it('ends at once on a socket already closed, counting what the source gave meanwhile as unsent', async () => {
    const network = new MemoryDatagramNetwork({ scheduler: new VirtualTimeScheduler() });
    let socket: UdpSocket | undefined;
    network
      .bind()
      .subscribe((s) => (socket = s))
      .unsubscribe();
    const stats = datagramSendStats();
    const never = run(NEVER.pipe(sendDatagrams(socket!, { target: peer, stats })));
    expect(never.end.completed).toBe(true);
    const some = run(from(['a', 'b']).pipe(sendDatagrams(socket!, { target: peer, stats })));
    await settle();
    expect(some.end.completed).toBe(true);
    expect(stats).toMatchObject({ sent: 0, unsent: 2, failed: 0, inFlight: 0 });
  });

  it('fails with InvalidArgumentError for a payload with nowhere to go, or a value that is no datagram', () => {
    const unconnected = stubSocket().socket;
    const payload = run(from(['x']).pipe(sendDatagrams(unconnected)));
    expect(payload.end.error).toBeInstanceOf(InvalidArgumentError);
    expect(payload.end.error).toMatchObject({ code: 'ERR_INVALID_ARGUMENT' });
    const odd = run(from([{ data: 'x', port: 1 } as unknown as OutgoingDatagram]).pipe(sendDatagrams(unconnected)));
    expect(odd.end.error).toBeInstanceOf(InvalidArgumentError);
  });

  it('stops on unsubscribe: what waits is dropped and counted, settling sends send nothing more', async () => {
    const { socket, calls } = stubSocket(peer);
    const stats = datagramSendStats();
    const source = new Subject<string>();
    const { subscription } = run(source.pipe(sendDatagrams(socket, { highWaterMark: 1, overflow: 'wait', stats })));
    for (const v of ['a', 'b', 'c']) source.next(v);
    subscription.unsubscribe();
    expect(source.observed).toBe(false);
    expect(stats).toMatchObject({ queued: 0, unsent: 2, inFlight: 1 });
    calls[0].resolve(1);
    await settle();
    expect(calls).toHaveLength(1);
    expect(stats).toMatchObject({ sent: 1, inFlight: 0 });
  });

  it('passes a source error on at once, sends in flight or not', () => {
    const { socket } = stubSocket(peer);
    const failure = new Error('upstream failed');
    const { end } = run(
      concat(
        from(['a']),
        throwError(() => failure),
      ).pipe(sendDatagrams(socket)),
    );
    expect(end.error).toBe(failure);
  });

  it('checks its arguments at creation with InvalidArgumentError', () => {
    const { socket } = stubSocket(peer);
    const bad: [string, () => unknown][] = [
      ['socket', () => sendDatagrams(null as unknown as UdpSocket)],
      ['socket', () => sendDatagrams({} as UdpSocket)],
      ['config', () => sendDatagrams(socket, null as never)],
      ['highWaterMark', () => sendDatagrams(socket, { highWaterMark: 0 })],
      ['highWaterMark', () => sendDatagrams(socket, { highWaterMark: 1.5 })],
      ['maxQueued', () => sendDatagrams(socket, { maxQueued: -1 })],
      ['overflow', () => sendDatagrams(socket, { overflow: 'drop-oldest' as never })],
      ['onSendError', () => sendDatagrams(socket, { onSendError: 'ignore' as never })],
      ['target', () => sendDatagrams(socket, { target: { address: '127.0.0.1' } as DatagramTarget })],
      ['target', () => sendDatagrams(socket, { target: peer })],
      ['stats', () => sendDatagrams(socket, { stats: 1 as never })],
    ];
    for (const [name, make] of bad) {
      let thrown: unknown;
      try {
        make();
      } catch (error) {
        thrown = error;
      }
      expect(thrown).toBeInstanceOf(InvalidArgumentError);
      expect({ name, argument: (thrown as InvalidArgumentError).argument }).toEqual({ name, argument: name });
    }
    expect(() => sendDatagrams(socket, { highWaterMark: Infinity, maxQueued: 0 })).not.toThrow();
  });
});
