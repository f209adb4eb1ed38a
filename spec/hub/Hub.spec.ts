// Hub: membership, relaying, send to one or all, kicking, leave reasons and events, over loopback.
import { EMPTY, NEVER, Observable, asyncScheduler, filter, firstValueFrom, map, mergeMap, of, throwError } from 'rxjs';
import type { Subscription } from 'rxjs';
import { FrameTooLongError, InvalidArgumentError } from '../../lib/errors';
import { Hub } from '../../lib/hub/Hub';
import { SlowMemberError } from '../../lib/errors';
import type { HubEvent } from '../../lib/hub/Hub';
import { decodeLines } from '../../lib/framing/lines/decodeLines';
import type { Connection } from '../../lib/types';
import { asText, connectionPair, createTestScheduler } from '../../lib/testing';
import { LineClient } from '../support/lineClient';
import { expectTcpHandlesBackTo, startServer, tcpHandleCount } from '../support/net';

/** A hub of line-framed members on a loopback server; `clients` joined and `hub.size` counted them. */
async function hubServer(
  options: ConstructorParameters<typeof Hub>[0] = {},
  inbound: (conn: Connection) => Observable<Buffer> = (conn) =>
    conn.data$.pipe(decodeLines({ includeDelimiter: true })),
) {
  const hub = new Hub<Buffer>(options);
  const events: HubEvent[] = [];
  const eventsSub = hub.events$.subscribe((e) => events.push(e));
  const server = await startServer((conn) => hub.join(conn, inbound(conn)));
  const connect = async (n: number) => {
    const clients = await Promise.all(Array.from({ length: n }, () => LineClient.connect(server.port)));
    await firstValueFrom(hub.size$.pipe(filter((size) => size >= n)));
    return clients;
  };
  const memberOf = (client: LineClient) => hub.members().find((m) => m.connection.remotePort === client.port)!;
  const stop = async (clients: LineClient[]) => {
    for (const c of clients) c.destroy();
    await Promise.all(clients.map((c) => c.closed));
    server.subscription.unsubscribe();
    eventsSub.unsubscribe();
    expect(server.errors).toEqual([]);
  };
  return { hub, events, server, connect, memberOf, stop };
}

describe('Hub', () => {
  let baseline = 0;
  beforeEach(() => {
    baseline = tcpHandleCount();
  });
  afterEach(() => expectTcpHandlesBackTo(baseline));

  it('relays a message from one member to every other member, never back to the sender', async () => {
    const t = await hubServer();
    const [a, b, c] = await t.connect(3);
    try {
      a.say('hello from a');
      expect(await b.next()).toBe('hello from a');
      expect(await c.next()).toBe('hello from a');
      b.say('hi from b');
      expect(await a.next()).toBe('hi from b');
      expect(await c.next()).toBe('hi from b');
      expect(a.unread()).toEqual([]);
      expect(b.unread()).toEqual([]);
    } finally {
      await t.stop([a, b, c]);
    }
  });

  it('counts members as they join and forgets one whose connection is reset, with the socket error in its leave event', async () => {
    const t = await hubServer();
    const [a, b] = await t.connect(2);
    try {
      expect(t.hub.size).toBe(2);
      const aId = t.memberOf(a).id;
      const left = firstValueFrom(t.hub.events$.pipe(filter((e) => e.type === 'leave')));
      a.socket.resetAndDestroy();
      const leave = await left;
      expect(leave).toMatchObject({ type: 'leave', reason: 'error', size: 1, member: { id: aId } });
      expect((leave as { error: unknown }).error).toMatchObject({ code: 'ECONNRESET' });
      expect(t.hub.size).toBe(1);
      expect(t.hub.member(aId)).toBeUndefined();
      expect(t.events.map((e) => e.type)).toEqual(['join', 'join', 'leave']);
    } finally {
      await t.stop([a, b]);
    }
  });

  it('broadcast() reaches every member but the one excepted, send() only the member addressed', async () => {
    const t = await hubServer();
    const [a, b, c] = await t.connect(3);
    try {
      const bId = t.memberOf(b).id;
      expect(t.hub.broadcast(Buffer.from('to all\n'))).toBe(3);
      expect(t.hub.broadcast(Buffer.from('not to b\n'), bId)).toBe(2);
      expect(t.hub.send(bId, Buffer.from('only b\n'))).toBe(true);
      expect(t.hub.send(-1, Buffer.from('nobody\n'))).toBe(false);
      expect([await a.next(), await a.next()]).toEqual(['to all', 'not to b']);
      expect([await b.next(), await b.next()]).toEqual(['to all', 'only b']);
      expect([await c.next(), await c.next()]).toEqual(['to all', 'not to b']);
    } finally {
      await t.stop([a, b, c]);
    }
  });

  it('lets a member whose peer ends leave as ended, then flushes its queue and ends its connection', async () => {
    const t = await hubServer();
    const [a, b] = await t.connect(2);
    try {
      const left = firstValueFrom(t.hub.events$.pipe(filter((e) => e.type === 'leave')));
      a.say('last words');
      a.end();
      expect(await b.next()).toBe('last words');
      expect(await left).toMatchObject({ reason: 'ended', member: { connection: { remotePort: a.port } } });
      expect(await a.closed).toEqual({ hadError: false });
      expect(a.ended).toBe(true);
      expect(t.hub.broadcast(Buffer.from('after\n'))).toBe(1);
      expect(await b.next()).toBe('after');
    } finally {
      await t.stop([a, b]);
    }
  });

  it('kick() writes the goodbye after what was already sent, then ends the connection', async () => {
    const t = await hubServer();
    const [a, b] = await t.connect(2);
    try {
      const aId = t.memberOf(a).id;
      t.hub.send(aId, Buffer.from('first\n'));
      expect(t.hub.kick(aId, Buffer.from('bye\n'))).toBe(true);
      expect(t.hub.kick(aId)).toBe(false);
      expect(t.events.at(-1)).toMatchObject({ type: 'leave', reason: 'kicked', size: 1 });
      await a.closed;
      expect(a.lines).toEqual(['first', 'bye']);
      expect(a.ended).toBe(true);
    } finally {
      await t.stop([a, b]);
    }
  });

  it('kickAll() ends every member with the goodbye', async () => {
    const t = await hubServer();
    const clients = await t.connect(3);
    try {
      expect(t.hub.kickAll(Buffer.from('server going down\n'))).toBe(3);
      expect(t.hub.size).toBe(0);
      await Promise.all(clients.map((c) => c.closed));
      for (const c of clients) expect(c.lines).toEqual(['server going down']);
    } finally {
      await t.stop(clients);
    }
  });

  it('lets a member whose inbound errors leave with that error while the others go on', async () => {
    const t = await hubServer({}, (conn) => conn.data$.pipe(decodeLines({ maxLength: 8, includeDelimiter: true })));
    const [a, b, c] = await t.connect(3);
    try {
      const left = firstValueFrom(t.hub.events$.pipe(filter((e) => e.type === 'leave')));
      a.say('far too long for the limit');
      const leave = await left;
      expect(leave).toMatchObject({ reason: 'error', member: { connection: { remotePort: a.port } } });
      expect((leave as { error: unknown }).error).toBeInstanceOf(FrameTooLongError);
      await a.closed;
      expect(a.ended).toBe(true);
      b.say('still ok');
      expect(await c.next()).toBe('still ok');
    } finally {
      await t.stop([a, b, c]);
    }
  });

  it('lets a member leave as unsubscribed when its join() is unsubscribed, its connection left open', async () => {
    const hub = new Hub<Buffer>();
    const events: HubEvent[] = [];
    hub.events$.subscribe((e) => events.push(e));
    let joined: { conn: Connection; sub: Subscription } | undefined;
    const server = await startServer((conn) => {
      joined = { conn, sub: hub.join(conn, NEVER).subscribe() };
      return NEVER;
    });
    const a = await LineClient.connect(server.port);
    try {
      await firstValueFrom(hub.size$.pipe(filter((n) => n === 1)));
      joined!.sub.unsubscribe();
      expect(events.map((e) => e.type)).toEqual(['join', 'leave']);
      expect(events[1]).toMatchObject({ reason: 'unsubscribed', size: 0 });
      expect(joined!.conn.closed).toBe(false);
      joined!.conn.write('still open\n');
      expect(await a.next()).toBe('still open');
    } finally {
      a.destroy();
      await a.closed;
      server.subscription.unsubscribe();
    }
  });

  it('errors the second join() of a connection that is already a member', async () => {
    const hub = new Hub<Buffer>();
    const errors: unknown[] = [];
    const server = await startServer((conn) => {
      hub.join(conn, NEVER).subscribe();
      hub.join(conn, NEVER).subscribe({ error: (e) => errors.push(e) });
      return NEVER;
    });
    const a = await LineClient.connect(server.port);
    try {
      await firstValueFrom(hub.size$.pipe(filter((n) => n === 1)));
      expect(errors).toHaveLength(1);
      expect(errors[0]).toBeInstanceOf(InvalidArgumentError);
      expect(errors[0]).toMatchObject({ code: 'ERR_INVALID_ARGUMENT', argument: 'connection' });
    } finally {
      a.destroy();
      await a.closed;
      server.subscription.unsubscribe();
    }
  });

  it('joins and at once leaves a connection that has already closed, and completes', async () => {
    const hub = new Hub<Buffer>();
    const events: HubEvent[] = [];
    hub.events$.subscribe((e) => events.push(e));
    let completed = false;
    const server = await startServer((conn) => {
      conn.destroy();
      return conn.writable$.pipe(
        mergeMap(() => EMPTY),
        (closed) =>
          new Observable<never>((s) =>
            closed.subscribe({
              complete: () =>
                hub.join(conn, NEVER).subscribe({
                  complete: () => {
                    completed = true;
                    s.complete();
                  },
                }),
            }),
          ),
      );
    });
    const a = await LineClient.connect(server.port);
    try {
      await firstValueFrom(hub.events$.pipe(filter((e) => e.type === 'leave')));
      expect(events.map((e) => e.type)).toEqual(['join', 'leave']);
      expect(events[1]).toMatchObject({ reason: 'closed', size: 0 });
      expect(completed).toBe(true);
    } finally {
      await a.closed;
      server.subscription.unsubscribe();
    }
  });

  it('tells the number of members through size$: the current one at once, then after each change', async () => {
    const t = await hubServer();
    const sizes: number[] = [];
    const sub = t.hub.size$.subscribe((n) => sizes.push(n));
    const [a, b] = await t.connect(2);
    a.destroy();
    await firstValueFrom(t.hub.size$.pipe(filter((n) => n === 1)));
    sub.unsubscribe();
    expect(sizes).toEqual([0, 1, 2, 1]);
    await t.stop([a, b]);
  });

  it('never errors join() for a member failure, nor lets it reach the other members', async () => {
    const failure = new Error('inbound failed');
    const t = await hubServer({}, (conn) =>
      conn.data$.pipe(
        decodeLines({ includeDelimiter: true }),
        mergeMap((line) => (line.toString().startsWith('fail') ? throwError(() => failure) : [line])),
      ),
    );
    const [a, b] = await t.connect(2);
    try {
      a.say('fail now');
      await a.closed;
      expect(t.events.find((e) => e.type === 'leave')).toMatchObject({ reason: 'error', error: failure });
      expect(t.server.errors).toEqual([]);
    } finally {
      await t.stop([a, b]);
    }
  });

  it('rejects a bad highWaterMark or overflow policy when the hub is created', () => {
    expect(() => new Hub({ highWaterMark: 0 })).toThrow(InvalidArgumentError);
    expect(() => new Hub({ highWaterMark: 1.5 })).toThrow(InvalidArgumentError);
    expect(() => new Hub({ overflow: 'error' as never })).toThrow(
      expect.objectContaining({ code: 'ERR_INVALID_ARGUMENT', argument: 'overflow' }),
    );
    expect(() => new Hub({ highWaterMarkBytes: 0 })).toThrow(
      expect.objectContaining({ code: 'ERR_INVALID_ARGUMENT', argument: 'highWaterMarkBytes' }),
    );
  });

  it('takes Infinity for its limits, as sendTo and decodeLines() do', () => {
    expect(() => new Hub({ highWaterMark: Infinity, highWaterMarkBytes: Infinity })).not.toThrow();
  });

  it('names a slow member, its limit and a stable code in SlowMemberError', () => {
    const error = new SlowMemberError(7, 16);
    expect(error).toMatchObject({ name: 'SlowMemberError', code: 'ERR_SLOW_MEMBER', memberId: 7, highWaterMark: 16 });
    expect(error.message).toBe('member 7 fell more than 16 message(s) behind');
    const bytes = new SlowMemberError(7, 16, 4096, 3, 4000);
    expect(bytes).toMatchObject({ highWaterMarkBytes: 4096, queued: 3, queuedBytes: 4000 });
    expect(bytes.message).toBe('member 7 fell more than 4096 byte(s) behind (4000 in 3 message(s))');
  });
});

describe('Hub in virtual time on the test kit', () => {
  const marbles = () =>
    createTestScheduler({ assertDeepEqual: (actual, expected) => expect(actual).toEqual(expected) });
  /** Runs `work` at `frame` of the current TestScheduler.run. */
  const at = (frame: number, work: () => void) => asyncScheduler.schedule(work, frame);

  it("'drop-oldest': a stalled member gets its newest highWaterMark messages once it drains; the others get all at once", () => {
    marbles().run(({ expectObservable }) => {
      const hub = new Hub<string>({ highWaterMark: 2, overflow: 'drop-oldest' });
      const [slowPeer, slow] = connectionPair();
      const [fastPeer, fast] = connectionPair();
      hub.join(slow, NEVER).subscribe();
      hub.join(fast, NEVER).subscribe();
      const dropped: number[] = [];
      hub.events$.subscribe((e) => e.type === 'dropped' && dropped.push(e.dropped));
      at(1, () => slow.outbound.stall());
      for (const [frame, message] of [
        [2, 'a'],
        [3, 'b'],
        [4, 'c'],
        [5, 'd'],
        [6, 'e'],
      ] as const) {
        at(frame, () => hub.broadcast(message));
      }
      at(9, () => slow.outbound.resume());
      // 'a' went to the socket before the queue started; b and c were dropped for d and e.
      expectObservable(slowPeer.data$.pipe(asText()), '^----------!').toBe('---------(ade)');
      expectObservable(fastPeer.data$.pipe(asText()), '^----------!').toBe('--abcde');
      at(10, () => {
        expect(dropped).toEqual([1, 2]);
        expect(hub.member(slow.id)!.stats).toMatchObject({ peakQueued: 2, dropped: 2, queued: 0, written: 3 });
      });
    });
  });

  it("'drop-newest': a stalled member keeps its oldest highWaterMark messages", () => {
    marbles().run(({ expectObservable }) => {
      const hub = new Hub<string>({ highWaterMark: 2, overflow: 'drop-newest' });
      const [peer, member] = connectionPair();
      hub.join(member, NEVER).subscribe();
      at(1, () => member.outbound.stall());
      at(2, () => ['a', 'b', 'c', 'd', 'e'].forEach((m) => hub.broadcast(m)));
      at(4, () => member.outbound.resume());
      expectObservable(peer.data$.pipe(asText()), '^------!').toBe('----(abc)');
    });
  });

  it("'disconnect': the message past the high-water mark destroys the stalled member with SlowMemberError", () => {
    marbles().run(({ expectObservable }) => {
      const hub = new Hub<string>({ highWaterMark: 2 });
      const [slowPeer, slow] = connectionPair();
      const [fastPeer, fast] = connectionPair();
      const types: string[] = [];
      hub.events$.subscribe((e) => types.push(e.type === 'leave' ? `leave ${e.reason}` : e.type));
      expectObservable(hub.join(slow, NEVER)).toBe('-----|');
      hub.join(fast, NEVER).subscribe();
      at(1, () => slow.outbound.stall());
      // 'a' goes to the socket (write() returns false), b and c fill the queue, d is one too many.
      for (const [frame, message] of [
        [2, 'a'],
        [3, 'b'],
        [4, 'c'],
        [5, 'd'],
      ] as const) {
        at(frame, () => hub.broadcast(message));
      }
      expectObservable(fastPeer.data$.pipe(asText()), '^------!').toBe('--abcd');
      const error = new SlowMemberError(slow.id, 2, 1024 * 1024, 2, 2);
      expectObservable(slow.writable$.pipe(map(String)), '^------!').toBe('t-f--#', { t: 'true', f: 'false' }, error);
      // Destroyed: what waited is gone, and the peer sees the connection end.
      expectObservable(slowPeer.data$.pipe(asText()), '^------!').toBe('-----|');
      at(6, () => expect(types).toEqual(['join', 'join', 'disconnected-slow', 'leave slow']));
    });
  });

  it("'disconnect': a member whose queue would pass highWaterMarkBytes is disconnected, however few messages wait", () => {
    marbles().run(({ expectObservable }) => {
      const hub = new Hub<string>({ highWaterMarkBytes: 10 });
      const [, slow] = connectionPair();
      const leaves: unknown[] = [];
      hub.events$.subscribe((e) => e.type === 'leave' && leaves.push(e.error));
      hub.join(slow, NEVER).subscribe();
      at(1, () => slow.outbound.stall());
      // The first goes to the socket; 8 bytes then wait; 4 more would make 12.
      at(2, () => ['first', 'abcd', 'efgh', 'ijkl'].forEach((m) => hub.broadcast(m)));
      const error = new SlowMemberError(slow.id, 1024, 10, 2, 8);
      expectObservable(slow.writable$.pipe(map(String)), '^----!').toBe('t-(f#)', { t: 'true', f: 'false' }, error);
      at(3, () => expect(leaves).toEqual([error]));
    });
  });

  it('passes an unsubscription through mergeMap to the join, which leaves the hub', () => {
    marbles().run(({ expectObservable }) => {
      const hub = new Hub<string>();
      const [, member] = connectionPair();
      expectObservable(of(member).pipe(mergeMap((conn) => hub.join(conn, NEVER))), '^--!').toBe('');
      at(1, () => expect(hub.size).toBe(1));
      at(4, () => expect(hub.size).toBe(0));
    });
  });

  it('relays a member message to the others in the frame it was read', () => {
    marbles().run(({ cold, expectObservable }) => {
      const hub = new Hub<Buffer>();
      const [aPeer, a] = connectionPair();
      const [bPeer, b] = connectionPair();
      hub.join(a, a.data$).subscribe();
      hub.join(b, b.data$).subscribe();
      cold('-x--y', { x: 'from a', y: 'again' }).subscribe((m) => aPeer.write(m));
      expectObservable(bPeer.data$.pipe(asText()), '^-----!').toBe('-x--y', { x: 'from a', y: 'again' });
      expectObservable(aPeer.data$.pipe(asText()), '^-----!').toBe('');
    });
  });
});
