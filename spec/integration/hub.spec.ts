// Hub over real loopback sockets: membership, relaying, send, kick and leave reasons; then 50 members, one of which
// never reads, under each slow-member policy.
import * as net from 'net';
import { EMPTY, NEVER, Observable, filter, firstValueFrom, lastValueFrom, mergeMap, throwError } from 'rxjs';
import type { Subscription } from 'rxjs';
import { FrameTooLongError, InvalidArgumentError, SlowMemberError } from '../../lib/errors';
import { Hub } from '../../lib/hub/Hub';
import type { SlowMemberPolicy } from '../../lib/hub/Hub';
import type { HubEvent, HubMember } from '../../lib/hub/HubEvent';
import { decodeLines } from '../../lib/framing/lines/decodeLines';
import type { Connection } from '../../lib/types';
import { LineClient } from '../support/lineClient';
import { closed, expectTcpHandlesBackTo, plainConnect, startServer, tcpHandleCount } from '../support/net';

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

describe('Hub over loopback', () => {
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
});

const MEMBERS = 50;
const HIGH_WATER_MARK = 16;
/** Rounds every reading member sends one line in, at least, and at most. */
const MIN_ROUNDS = 20;
const MAX_ROUNDS = 200;
/** Rounds in flight before the senders wait for every reader to catch up. */
const WINDOW = 2;
const LINE_BYTES = 512;
/** What the server sends the stalled member alone, until its socket buffer is full and its queue starts. */
const FILLER = Buffer.alloc(64 * 1024, 'f');
FILLER[FILLER.length - 1] = 0x0a;

/** A member that reads: counts the lines from each other member and checks that they arrive in order. */
class Reader {
  readonly next = new Map<number, number>();
  received = 0;
  outOfOrder: string[] = [];
  private partial: Buffer | undefined;

  constructor(
    readonly index: number,
    readonly socket: net.Socket,
    onLines: () => void,
  ) {
    socket.on('data', (chunk: Buffer) => {
      const data = this.partial ? Buffer.concat([this.partial, chunk]) : chunk;
      let start = 0;
      let end: number;
      while ((end = data.indexOf(0x0a, start)) >= 0) {
        this.line(data.subarray(start, end));
        start = end + 1;
      }
      this.partial = start < data.length ? Buffer.from(data.subarray(start)) : undefined;
      onLines();
    });
  }

  /** Sends this member's line of `round`: "<index> <round> <padding>\n", LINE_BYTES long. */
  send(round: number): void {
    const head = `${this.index} ${round} `;
    this.socket.write(head + 'x'.repeat(LINE_BYTES - head.length - 1) + '\n');
  }

  private line(line: Buffer): void {
    const space = line.indexOf(0x20);
    const from = Number(line.subarray(0, space).toString());
    const round = Number(line.subarray(space + 1, line.indexOf(0x20, space + 1)).toString());
    const expected = this.next.get(from) ?? 0;
    if (round !== expected) this.outOfOrder.push(`from ${from}: got ${round}, expected ${expected}`);
    this.next.set(from, round + 1);
    this.received++;
  }
}

interface Outcome {
  hub: Hub<Buffer>;
  events: HubEvent[];
  readers: Reader[];
  stalled: HubMember;
  rounds: number;
  fills: number;
  /** The most bytes the stalled member's socket held in Node's buffer at any round. */
  peakBuffered: number;
}

/**
 * Runs 49 reading members and one that never reads through a hub with `overflow`: first fills
 * the stalled member's socket until its queue starts, then every reader sends one line a round,
 * for MIN_ROUNDS rounds and until the stalled member was handled by the policy. Resolves once
 * every reader has received every line of the others; closes everything before resolving.
 */
async function run(
  overflow: SlowMemberPolicy,
  handled: (stalled: HubMember, events: HubEvent[]) => boolean,
): Promise<Outcome> {
  const hub = new Hub<Buffer>({ highWaterMark: HIGH_WATER_MARK, overflow });
  const events: HubEvent[] = [];
  const eventsSub = hub.events$.subscribe((e) => events.push(e));
  const server = await startServer((conn) => hub.join(conn, conn.data$.pipe(decodeLines({ includeDelimiter: true }))));
  const readers: Reader[] = [];
  let stalledSocket: net.Socket | undefined;
  try {
    let progress = () => {};
    for (let i = 0; i < MEMBERS - 1; i++)
      readers.push(new Reader(i, await plainConnect(server.port), () => progress()));
    // Never reads: no 'data' listener, so Node reads one buffer's worth and stops.
    stalledSocket = await plainConnect(server.port);
    stalledSocket.on('error', () => {});
    await firstValueFrom(hub.size$.pipe(filter((n) => n === MEMBERS)));
    const stalled = hub.members().find((m) => m.connection.remotePort === stalledSocket!.localPort)!;
    const socket = stalled.connection.socket!;

    let fills = 0;
    while (stalled.stats.queued === 0 && fills < 1000) {
      hub.send(stalled.id, FILLER);
      fills++;
    }
    expect(stalled.stats.queued).toBeGreaterThan(0);

    let peakBuffered = socket.writableLength;
    let sent = 0;
    let rounds = MAX_ROUNDS;
    const perRound = MEMBERS - 2; // a reader gets the line of every other reader
    const done = new Promise<void>((resolve) => {
      progress = () => {
        const caughtUp = Math.floor(Math.min(...readers.map((r) => r.received)) / perRound);
        while (sent < rounds && sent - caughtUp < WINDOW) {
          for (const r of readers) r.send(sent);
          sent++;
          peakBuffered = Math.max(peakBuffered, socket.writableLength);
          if (sent >= MIN_ROUNDS && rounds === MAX_ROUNDS && handled(stalled, events)) rounds = sent;
        }
        if (caughtUp >= rounds) resolve();
      };
    });
    progress();
    await done;
    return { hub, events, readers, stalled, rounds, fills, peakBuffered };
  } finally {
    // The readers end: each leaves as 'ended' and gets its FIN once its queue has been flushed.
    for (const r of readers) r.socket.end();
    await Promise.all(readers.map((r) => closed(r.socket)));
    stalledSocket?.destroy();
    if (stalledSocket) await closed(stalledSocket);
    server.subscription.unsubscribe();
    eventsSub.unsubscribe();
    expect(server.errors).toEqual([]);
  }
}

/** Every reader got every line of every other reader, in order; no reader lost or queued too much. */
function expectReadersServed(outcome: Outcome): void {
  const { readers, rounds, hub, events } = outcome;
  for (const r of readers) {
    expect(r.outOfOrder).toEqual([]);
    expect(r.received).toBe((MEMBERS - 2) * rounds);
    for (const other of readers) if (other !== r) expect(r.next.get(other.index)).toBe(rounds);
  }
  const readerIds = new Set(
    events.filter((e) => e.type === 'join' && e.member.id !== outcome.stalled.id).map((e) => e.member.id),
  );
  expect(readerIds.size).toBe(MEMBERS - 1);
  for (const e of events) {
    if (e.type === 'dropped' || e.type === 'disconnected-slow') expect(e.member.id).toBe(outcome.stalled.id);
  }
  for (const e of events) {
    if (e.type === 'join' && readerIds.has(e.member.id)) {
      expect(e.member.stats.dropped).toBe(0);
      expect(e.member.stats.peakQueued).toBeLessThanOrEqual(HIGH_WATER_MARK);
    }
  }
  expect(hub.size).toBe(0);
}

describe('hub with 50 members over loopback, one never reading', () => {
  let baseline = 0;
  beforeEach(() => {
    baseline = tcpHandleCount();
  });
  afterEach(() => expectTcpHandlesBackTo(baseline));

  it("delivers everything in order to the 49 readers while 'drop-oldest' keeps the stalled member's queue at its high-water mark", async () => {
    const outcome = await run('drop-oldest', (stalled) => stalled.stats.dropped >= HIGH_WATER_MARK);
    expectReadersServed(outcome);
    const { stalled, events, rounds, fills, peakBuffered } = outcome;
    const stats = stalled.stats;
    const offered = fills + (MEMBERS - 1) * rounds;
    expect(stats.peakQueued).toBe(HIGH_WATER_MARK);
    expect(stats.dropped).toBeGreaterThanOrEqual(HIGH_WATER_MARK);
    // Nothing is unaccounted for: each message was written, dropped, or given up when the member left.
    expect(stats.written + stats.dropped + stats.unsent).toBe(offered);
    expect(stats.queued).toBe(0);
    expect(events.filter((e) => e.type === 'dropped')).toHaveLength(stats.dropped);
    expect(events.filter((e) => e.type === 'dropped').at(-1)).toMatchObject({ dropped: stats.dropped });
    // Node's own buffer for it stays within one write past the socket's high-water mark.
    expect(peakBuffered).toBeLessThanOrEqual(stalled.connection.socket!.writableHighWaterMark + FILLER.length);
    expect(events.some((e) => e.type === 'disconnected-slow')).toBe(false);
  });

  it("delivers everything in order to the 49 readers while 'disconnect' destroys the stalled member with a SlowMemberError", async () => {
    const outcome = await run('disconnect', (_, events) => events.some((e) => e.type === 'disconnected-slow'));
    expectReadersServed(outcome);
    const { stalled, events } = outcome;
    const slow = events.filter((e) => e.type === 'disconnected-slow');
    expect(slow).toHaveLength(1);
    const error = (slow[0] as { error: SlowMemberError }).error;
    expect(error).toBeInstanceOf(SlowMemberError);
    expect(error).toMatchObject({ code: 'ERR_SLOW_MEMBER', memberId: stalled.id, highWaterMark: HIGH_WATER_MARK });
    const leave = events.find((e) => e.type === 'leave' && e.member.id === stalled.id);
    expect(leave).toMatchObject({ reason: 'slow', error });
    expect(stalled.stats.peakQueued).toBe(HIGH_WATER_MARK);
    expect(stalled.stats.dropped).toBe(0);
    expect(stalled.connection.closed).toBe(true);
    // The destroyed connection reports why on its own streams too.
    await expect(lastValueFrom(stalled.connection.writable$)).rejects.toBe(error);
  });
});
