// Admission: allow and deny, per-address counts released at close, accept rates on the scheduler's clock, option checks.
import { EventEmitter } from 'events';
import type * as net from 'net';
import { TestScheduler } from 'rxjs/testing';
import { Admission, type AdmissionOptions } from '../../lib/admission/Admission';
import { InvalidArgumentError } from '../../lib/errors';

/** A stand-in for an accepted socket: admission only listens for its close. */
const socket = () => new EventEmitter() as unknown as net.Socket;

function admission(options: AdmissionOptions, scheduler = new TestScheduler(() => undefined)): Admission {
  const rules = Admission.rules(options);
  if (rules === undefined) throw new Error('no rules');
  return Admission.start(rules, scheduler);
}

describe('Admission', () => {
  it('has no rules when no option asks for any', () => {
    expect(Admission.rules({})).toBeUndefined();
  });

  it('refuses addresses in deny, and outside allow when allow is given', () => {
    const a = admission({ allow: ['127.0.0.0/8', '::1'], deny: ['127.0.0.2'] });
    expect(a.admit(socket(), '127.0.0.2')).toBe('denied');
    expect(a.admit(socket(), '127.0.0.3')).toBeUndefined();
    expect(a.admit(socket(), '::1')).toBeUndefined();
    expect(a.admit(socket(), '192.0.2.1')).toBe('denied');
    expect(a.admit(socket(), undefined)).toBe('denied');
  });

  it('counts connections per address and frees a slot when a socket closes', () => {
    const a = admission({ maxConnectionsPerAddress: 2 });
    const sockets = [socket(), socket(), socket()];
    expect(sockets.map((s) => a.admit(s, '127.0.0.2'))).toEqual([undefined, undefined, 'max-per-address']);
    expect(a.admit(socket(), '127.0.0.3')).toBeUndefined();
    expect(a.openFrom('127.0.0.2')).toBe(2);
    sockets[0].emit('close');
    sockets[0].emit('close'); // counted once, released once
    expect(a.openFrom('127.0.0.2')).toBe(1);
    expect(a.admit(socket(), '::ffff:127.0.0.2')).toBeUndefined(); // the same client, seen by a dual-stack server
    expect(a.admit(socket(), '127.0.0.2')).toBe('max-per-address');
  });

  it('counts an IPv6 /64 as one address, or the prefix asked for', () => {
    const a = admission({ maxConnectionsPerAddress: 1 });
    expect(a.admit(socket(), '2001:db8:0:1::1')).toBeUndefined();
    expect(a.admit(socket(), '2001:db8:0:1::2')).toBe('max-per-address');
    expect(a.admit(socket(), '2001:db8:0:2::1')).toBeUndefined();
    const wide = admission({ maxConnectionsPerAddress: 1, addressPrefix: { ipv4: 24, ipv6: 128 } });
    expect(wide.admit(socket(), '192.0.2.1')).toBeUndefined();
    expect(wide.admit(socket(), '192.0.2.200')).toBe('max-per-address');
    expect(wide.admit(socket(), '2001:db8:0:1::1')).toBeUndefined();
    expect(wide.admit(socket(), '2001:db8:0:1::2')).toBeUndefined();
  });

  it('limits the accept rate per address on the scheduler clock, and forgets buckets that refilled', () => {
    const scheduler = new TestScheduler(() => undefined);
    scheduler.run(({ flush }) => {
      const a = admission({ acceptRate: { burst: 2, rate: 1 } }, scheduler);
      expect([1, 2, 3].map(() => a.admit(socket(), '127.0.0.2'))).toEqual([undefined, undefined, 'accept-rate']);
      expect(a.admit(socket(), '127.0.0.3')).toBeUndefined();
      scheduler.schedule(() => {
        expect(a.admit(socket(), '127.0.0.2')).toBeUndefined();
        expect(a.admit(socket(), '127.0.0.2')).toBe('accept-rate');
      }, 1000);
      flush();
    });
    // 2,000 addresses once each, then time for every bucket to refill: the sweep forgets them.
    const later = new TestScheduler(() => undefined);
    later.run(({ flush }) => {
      const a = admission({ acceptRate: { burst: 5, rate: 5 } }, later);
      for (let i = 0; i < 2000; i++) a.admit(socket(), `10.0.${i >> 8}.${i & 255}`);
      expect(a.tracked).toBe(2000);
      later.schedule(() => {
        for (let i = 0; i < 1024; i++) a.admit(socket(), '10.9.9.9');
        expect(a.tracked).toBeLessThan(10);
      }, 2000);
      flush();
    });
  });

  it('does not spend a rate token on a connection refused for its count', () => {
    const scheduler = new TestScheduler(() => undefined);
    scheduler.run(() => {
      const a = admission({ maxConnectionsPerAddress: 1, acceptRate: { burst: 2, rate: 1 } }, scheduler);
      const first = socket();
      expect(a.admit(first, '127.0.0.2')).toBeUndefined();
      expect(a.admit(socket(), '127.0.0.2')).toBe('max-per-address');
      first.emit('close');
      expect(a.admit(socket(), '127.0.0.2')).toBeUndefined();
    });
  });

  it.each<[string, AdmissionOptions]>([
    ['maxConnectionsPerAddress', { maxConnectionsPerAddress: 0 }],
    ['maxConnectionsPerAddress', { maxConnectionsPerAddress: 1.5 }],
    ['addressPrefix.ipv4', { maxConnectionsPerAddress: 1, addressPrefix: { ipv4: 33 } }],
    ['addressPrefix.ipv6', { addressPrefix: { ipv6: -1 } }],
    ['burst', { acceptRate: { burst: 0, rate: 1 } }],
    ['rate', { acceptRate: { burst: 1, rate: 0 } }],
    ['allow', { allow: ['nope'] }],
    ['deny', { deny: ['10.0.0.0/99'] }],
  ])('throws InvalidArgumentError for a bad %s', (name, options) => {
    expect(() => Admission.rules(options)).toThrow(InvalidArgumentError);
    expect(() => Admission.rules(options)).toThrow(`invalid ${name}`);
  });
});
