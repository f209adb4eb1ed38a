// Address lists as CIDR rules, and the key a per-address limit counts an address under.
import * as net from 'net';
import { addressKey, inBlockList, toBlockList } from '../../lib/admission/addresses';
import { InvalidArgumentError } from '../../lib/errors';

describe('toBlockList / inBlockList', () => {
  it('matches single addresses and CIDR blocks of both families', () => {
    const list = toBlockList('deny', ['127.0.0.2', '10.0.0.0/8', '2001:db8::/32', '::1']);
    expect(inBlockList(list, '127.0.0.2')).toBe(true);
    expect(inBlockList(list, '127.0.0.3')).toBe(false);
    expect(inBlockList(list, '10.200.3.4')).toBe(true);
    expect(inBlockList(list, '11.0.0.1')).toBe(false);
    expect(inBlockList(list, '2001:db8:ffff::7')).toBe(true);
    expect(inBlockList(list, '2001:db9::7')).toBe(false);
    expect(inBlockList(list, '::1')).toBe(true);
  });

  it('judges an IPv4-mapped IPv6 address (a dual-stack server) as its IPv4 address', () => {
    const list = toBlockList('allow', ['192.0.2.0/24']);
    expect(inBlockList(list, '::ffff:192.0.2.9')).toBe(true);
    expect(inBlockList(list, '::ffff:198.51.100.1')).toBe(false);
  });

  it('never matches what is no IP address (a unix socket has none)', () => {
    expect(inBlockList(toBlockList('allow', ['0.0.0.0/0', '::/0']), '')).toBe(false);
  });

  it('takes a net.BlockList as it is', () => {
    const blocks = new net.BlockList();
    blocks.addRange('192.0.2.10', '192.0.2.20');
    expect(toBlockList('deny', blocks)).toBe(blocks);
    expect(inBlockList(blocks, '192.0.2.15')).toBe(true);
  });

  it.each([
    [['not-an-address']],
    [['10.0.0.0/33']],
    [['2001:db8::/129']],
    [['10.0.0.0/']],
    [['10.0.0.0/8x']],
    [[42]],
    ['10.0.0.0/8'],
  ])('throws InvalidArgumentError naming the option for %j', (list) => {
    expect(() => toBlockList('deny', list as never)).toThrow(InvalidArgumentError);
    expect(() => toBlockList('deny', list as never)).toThrow(/invalid deny/);
  });
});

describe('addressKey', () => {
  it('counts an IPv4 address as itself, or under its prefix', () => {
    expect(addressKey('192.0.2.7', 32, 64)).toBe('192.0.2.7');
    expect(addressKey('192.0.2.7', 24, 64)).toBe('192.0.2.0/24');
    expect(addressKey('192.0.2.7', 0, 64)).toBe('0.0.0.0/0');
  });

  it('counts an IPv4-mapped IPv6 address as its IPv4 address, in either notation', () => {
    expect(addressKey('::ffff:192.0.2.7', 32, 64)).toBe('192.0.2.7');
    expect(addressKey('::ffff:c000:207', 32, 64)).toBe('192.0.2.7');
  });

  it('counts IPv6 addresses of one /64 (by default) under one key', () => {
    const a = addressKey('2001:db8:1:2:aaaa::1', 32, 64);
    expect(a).toBe('2001:db8:1:2:0:0:0:0/64');
    expect(addressKey('2001:db8:1:2:ffff:ffff:ffff:ffff', 32, 64)).toBe(a);
    expect(addressKey('2001:db8:1:3::1', 32, 64)).not.toBe(a);
    expect(addressKey('2001:db8:1:2:aaaa::1', 32, 128)).toBe('2001:db8:1:2:aaaa:0:0:1/128');
    expect(addressKey('2001:db8:1:2:aaaa::1', 32, 52)).toBe('2001:db8:1:0:0:0:0:0/52');
    expect(addressKey('fe80::1%eth0', 32, 64)).toBe('fe80:0:0:0:0:0:0:0/64');
    expect(addressKey('2001:db8::192.0.2.1', 32, 128)).toBe('2001:db8:0:0:0:0:c000:201/128');
  });

  it('has no key for what is no IP address', () => {
    expect(addressKey(undefined, 32, 64)).toBeUndefined();
    expect(addressKey('/tmp/server.sock', 32, 64)).toBeUndefined();
  });
});
