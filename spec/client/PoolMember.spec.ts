// PoolMember: a pooled connection's usability, its idle watch (stray bytes, FIN, idle timeout), its lifetime; a waiter's grant, fail, leave.
import { asyncScheduler } from 'rxjs';
import { Member, Waiter, type MemberConfig } from '../../lib/client/PoolMember';
import { connectionPair } from '../../lib/testing';
import { virtual } from '../support/memory';

const config = (overrides: Partial<MemberConfig> = {}): MemberConfig => ({
  idleTimeout: Infinity,
  maxLifetime: Infinity,
  readsIdle: true,
  scheduler: asyncScheduler,
  ...overrides,
});

describe('Member', () => {
  it('is usable while open, within its lifetime, its resource not closed', () => {
    virtual((at) => {
      const [client] = connectionPair();
      const expired: number[] = [];
      const gone: number[] = [];
      const resource = { closed: false };
      const member = new Member(
        client,
        resource,
        config({ maxLifetime: 100 }),
        () => gone.push(asyncScheduler.now()),
        () => expired.push(asyncScheduler.now()),
      );
      expect(member.usable(0)).toBe(true);
      expect(member.usable(100)).toBe(false);
      resource.closed = true;
      expect(member.usable(1)).toBe(false);
      resource.closed = false;
      at(100, () => {
        expect(expired).toEqual([100]);
        member.retire();
        expect(client.writeEnded).toBe(true);
        expect(member.usable(1)).toBe(false);
        expect(gone).toEqual([100]);
        member.retire(); // once only
        expect(gone).toEqual([100]);
      });
    });
  });

  it('while idle: destroys the connection on stray bytes, is over on the peer FIN, and times out when asked', () => {
    virtual((at) => {
      const [a, peerA] = connectionPair();
      const [b, peerB] = connectionPair();
      const [c] = connectionPair();
      const gone: string[] = [];
      const timedOut: string[] = [];
      const stray = new Member(
        a,
        a,
        config(),
        () => gone.push('a'),
        () => undefined,
      );
      const finned = new Member(
        b,
        b,
        config(),
        () => gone.push('b'),
        () => undefined,
      );
      const idle = new Member(
        c,
        c,
        config({ idleTimeout: 50 }),
        () => gone.push('c'),
        () => undefined,
      );
      stray.startIdle(false, () => timedOut.push('a'));
      finned.startIdle(false, () => timedOut.push('b'));
      idle.startIdle(true, () => timedOut.push('c'));
      at(10, () => {
        peerA.write('unasked\n');
        peerB.end();
      });
      at(20, () => {
        expect(a.closed || a.closeReason !== undefined).toBe(true);
        expect(b.writeEnded).toBe(true);
        expect(gone.sort()).toEqual(['a', 'b']);
      });
      at(60, () => {
        expect(timedOut).toEqual(['c']);
        idle.destroy(new Error('done'));
      });
    });
  });

  it('stopIdle() stops the idle reader and timer: bytes then belong to the use', () => {
    virtual((at) => {
      const [conn, peer] = connectionPair();
      const timedOut: string[] = [];
      const member = new Member(
        conn,
        conn,
        config({ idleTimeout: 10 }),
        () => undefined,
        () => undefined,
      );
      member.startIdle(true, () => timedOut.push('x'));
      member.stopIdle();
      const read: string[] = [];
      conn.data$.subscribe((chunk) => read.push(chunk.toString()));
      at(5, () => peer.write('reply'));
      at(20, () => {
        expect(read).toEqual(['reply']);
        expect(timedOut).toEqual([]);
        expect(member.usable(20)).toBe(true);
        member.retire();
      });
    });
  });
});

describe('Waiter', () => {
  it('starts its use once granted, stops it when left; fails at most once', () => {
    const errors: unknown[] = [];
    const events: string[] = [];
    const waiter = new Waiter<string>(
      () => {
        events.push('start');
        return () => events.push('stop');
      },
      { error: (e) => errors.push(e) },
    );
    waiter.grant({} as never);
    waiter.leave();
    expect(events).toEqual(['start', 'stop']);
    const failing = new Waiter<string>(() => () => undefined, { error: (e) => errors.push(e) });
    failing.fail('first');
    failing.fail('second');
    failing.grant({} as never);
    expect(errors).toEqual(['first']);
  });
});
