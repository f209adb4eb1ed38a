// Hub over real loopback sockets: 50 members, one of which never reads, under each slow-member policy.
import * as net from 'net';
import { filter, firstValueFrom, lastValueFrom } from 'rxjs';
import { Hub } from '../../lib/hub/Hub';
import { SlowMemberError } from '../../lib/errors';
import type { HubEvent, HubMember, SlowMemberPolicy } from '../../lib/hub/Hub';
import { decodeLines } from '../../lib/framing/lines/decodeLines';
import { closed, expectTcpHandlesBackTo, plainConnect, startServer, tcpHandleCount } from '../support/net';

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
