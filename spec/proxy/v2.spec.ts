// v2 (binary) headers: IPv4, IPv6, unix and AF_UNSPEC blocks, LOCAL, TLVs and every bad field; RFC 5952 text.
import { ProxyProtocolError } from '../../lib/errors';
import { PROXY_TLV, type ProxyHeader } from '../../lib/proxy/ProxyHeader';
import { formatIPv6 } from '../../lib/proxy/v2';
import { errorData } from '../support/framing';
import { v2, whole } from '../support/proxyHeaders';

describe('parseV2: v2 (binary) headers', () => {
  it('decodes PROXY over TCP4', () => {
    const bytes = v2('21 11 000c  c0a80001 c0a8000b dc04 01bb');
    expect(whole(Buffer.concat([bytes, Buffer.from('hello')]))).toEqual({
      header: {
        version: 2,
        command: 'proxy',
        family: 'IPv4',
        transport: 'stream',
        source: { address: '192.168.0.1', port: 56324 },
        destination: { address: '192.168.0.11', port: 443 },
        tlvs: [],
        length: 28,
      },
      payload: 'hello',
    });
  });

  it('decodes PROXY over TCP6, addresses in RFC 5952 form', () => {
    const bytes = v2(
      '21 21 0024' +
        '20010db8000000000000000000000001' + // 2001:db8::1
        '00000000000000000000ffff7f000001' + // ::ffff:127.0.0.1
        '1f90 0050',
    );
    expect(whole(bytes).header).toEqual({
      version: 2,
      command: 'proxy',
      family: 'IPv6',
      transport: 'stream',
      source: { address: '2001:db8::1', port: 8080 },
      destination: { address: '::ffff:127.0.0.1', port: 80 },
      tlvs: [],
      length: 52,
    });
  });

  it('keeps TLVs (ALPN, AUTHORITY, NOOP padding, unknown types) and skips them for the addresses', () => {
    const tlvs = '01 0002 6832' + '02 000b 6578616d706c652e636f6d' + '04 0003 000000' + 'e0 0000';
    const body = 'c0a80001 c0a8000b dc04 01bb' + tlvs;
    const length = (body.replace(/\s+/g, '').length / 2).toString(16).padStart(4, '0');
    const decoded = whole(Buffer.concat([v2(`21 11 ${length} ${body}`), Buffer.from('after')]));
    expect(decoded.payload).toBe('after');
    expect(decoded.header?.source).toEqual({ address: '192.168.0.1', port: 56324 });
    expect(decoded.header?.tlvs.map((t) => [t.type, t.value.toString('latin1')])).toEqual([
      [PROXY_TLV.ALPN, 'h2'],
      [PROXY_TLV.AUTHORITY, 'example.com'],
      [PROXY_TLV.NOOP, '\0\0\0'],
      [0xe0, ''],
    ]);
  });

  it('decodes LOCAL (a health check) and ignores its address block and TLVs', () => {
    const local = (
      family: ProxyHeader['family'],
      transport: ProxyHeader['transport'],
      length: number,
    ): ProxyHeader => ({
      version: 2,
      command: 'local',
      family,
      transport,
      source: undefined,
      destination: undefined,
      tlvs: [],
      length,
    });
    expect(whole(v2('20 00 0000'))).toEqual({ header: local('unspec', 'unspec', 16), payload: '' });
    expect(whole(Buffer.concat([v2('20 11 000f c0a80001 c0a8000b dc04 01bb 04 0000'), Buffer.from('x')]))).toEqual({
      header: local('IPv4', 'stream', 31),
      payload: 'x',
    });
  });

  it('decodes AF_UNSPEC without addresses, skipping what the block holds', () => {
    expect(whole(v2('21 00 0003 abcdef'))).toEqual({
      header: {
        version: 2,
        command: 'proxy',
        family: 'unspec',
        transport: 'unspec',
        source: undefined,
        destination: undefined,
        tlvs: [],
        length: 19,
      },
      payload: '',
    });
  });

  it('decodes unix socket paths (AF_UNIX, 108 bytes each)', () => {
    const path = (p: string) => Buffer.concat([Buffer.from(p), Buffer.alloc(108 - p.length)]).toString('hex');
    const decoded = whole(v2(`21 31 00d8 ${path('/run/client.sock')} ${path('/run/haproxy.sock')}`));
    expect(decoded.header).toMatchObject({
      family: 'unix',
      source: { address: '/run/client.sock', port: undefined },
      destination: { address: '/run/haproxy.sock', port: undefined },
    });
  });

  it.each([
    ['version 1 in the binary header', '11 11 000c c0a80001 c0a8000b dc04 01bb', 'version nibble is 1, expected 2'],
    ['an unknown command', '22 11 000c c0a80001 c0a8000b dc04 01bb', 'unknown command 0x2'],
    ['an unknown family', '21 41 000c c0a80001 c0a8000b dc04 01bb', 'unknown address family 0x4'],
    ['an unknown transport', '21 13 000c c0a80001 c0a8000b dc04 01bb', 'unknown transport protocol 0x3'],
    ['a block too short for IPv4', '21 11 0004 c0a80001', 'IPv4 addresses need 12 byte(s), the header has 4'],
    [
      'a block too short for IPv6',
      '21 21 000c c0a80001 c0a8000b dc04 01bb',
      'IPv6 addresses need 36 byte(s), the header has 12',
    ],
    [
      'a TLV that overruns the header',
      '21 11 0011 c0a80001 c0a8000b dc04 01bb 01 0005 6832',
      'TLV 0x1 of 5 byte(s) overruns the header by 3',
    ],
    ['stray bytes after the TLVs', '21 11 000e c0a80001 c0a8000b dc04 01bb 0101', '2 stray byte(s) after the last TLV'],
  ])('raises ProxyProtocolError on %s', (_, hex, reason) => {
    expect(whole(Buffer.concat([v2(hex), Buffer.from('payload')])).error).toEqual(
      errorData(new ProxyProtocolError(2, reason)),
    );
  });
});

describe('formatIPv6', () => {
  it.each([
    ['00000000000000000000000000000000', '::'],
    ['00000000000000000000000000000001', '::1'],
    ['20010db8000000000000000000000001', '2001:db8::1'],
    ['20010db8000000010000000000000001', '2001:db8:0:1::1'],
    ['20010db8000000000001000000000001', '2001:db8::1:0:0:1'],
    ['20010db8000100010001000100010001', '2001:db8:1:1:1:1:1:1'],
    ['20010db8000000010001000100010001', '2001:db8:0:1:1:1:1:1'],
    ['fe800000000000000000000000000000', 'fe80::'],
    ['00000000000000000000ffffc0000201', '::ffff:192.0.2.1'],
  ])('%s is %s', (hex, text) => {
    expect(formatIPv6(Buffer.from(hex, 'hex'), 0)).toBe(text);
  });
});
