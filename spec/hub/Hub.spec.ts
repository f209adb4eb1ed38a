// Hub: its options and errors, and its slow-member policies, relaying and unsubscription in virtual time on the test kit.
// Membership, leave reasons, send and kick over real loopback sockets are in spec/integration/hub.spec.ts.
import { NEVER, asyncScheduler, map, mergeMap, of } from 'rxjs';
import { InvalidArgumentError, SlowMemberError } from '../../lib/errors';
import { Hub } from '../../lib/hub/Hub';
import { asText, connectionPair, createTestScheduler } from '../../lib/testing';

describe('Hub', () => {
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
