// ProxyProtocolDecoder: v1 and v2 fixtures, TLVs, LOCAL, errors and limits, and the chunking law over random splits.
import fc from 'fast-check';
import {
  ProxyHeaderMissingError,
  ProxyHeaderTooLongError,
  ProxyProtocolError,
  InvalidArgumentError,
} from '../../lib/errors';
import {
  PROXY_TLV,
  PROXY_V2_SIGNATURE,
  ProxyProtocolDecoder,
  formatIPv6,
  type ProxyHeader,
  type ProxyProtocolDecoderOptions,
} from '../../lib/proxy/ProxyProtocolDecoder';
import { encodeProxyHeader, type ProxyHeaderInit } from '../../lib/proxy/encodeProxyHeader';
import { byteByByte, chunkingsOf, errorData, splitAt } from '../framing/helpers';

interface Decoded {
  header?: ProxyHeader;
  /** Every byte after the header: the decoder's rest and the chunks pushed after it decided. */
  payload?: string;
  error?: Record<string, unknown>;
}

/** Feeds chunks as an adapter would (read after each push), ends at the end; what came out. */
function decode(chunks: Buffer[], options?: ProxyProtocolDecoderOptions, end = true): Decoded {
  const decoder = new ProxyProtocolDecoder(options);
  const after: Buffer[] = [];
  let header: ProxyHeader | undefined;
  let decided = false;
  try {
    for (const chunk of chunks) {
      if (decided) {
        after.push(chunk);
        continue;
      }
      decoder.push(chunk);
      const result = decoder.read();
      if (result !== undefined) {
        decided = true;
        header = result.header;
        after.push(result.rest);
        expect(decoder.read()).toBeUndefined();
      }
    }
    if (!decided) {
      if (!end) return {};
      decoder.end();
      const result = decoder.read();
      if (result === undefined) throw new Error('undecided after end()');
      header = result.header;
      after.push(result.rest);
    }
  } catch (error) {
    return { error: errorData(error) };
  }
  return { ...(header === undefined ? {} : { header }), payload: Buffer.concat(after).toString('latin1') };
}

const whole = (bytes: Buffer | string, options?: ProxyProtocolDecoderOptions) =>
  decode([typeof bytes === 'string' ? Buffer.from(bytes, 'latin1') : bytes], options);

const v2 = (hex: string) => Buffer.from(PROXY_V2_SIGNATURE.toString('hex') + hex.replace(/\s+/g, ''), 'hex');

const tcp4 = (source: string, sport: number, destination: string, dport: number, length: number): ProxyHeader => ({
  version: 1,
  command: 'proxy',
  family: 'IPv4',
  transport: 'stream',
  source: { address: source, port: sport },
  destination: { address: destination, port: dport },
  tlvs: [],
  length,
});

describe('ProxyProtocolDecoder', () => {
  describe('v1 (text)', () => {
    it('decodes a TCP4 header and hands back the bytes after it in the same chunk', () => {
      const line = 'PROXY TCP4 192.168.0.1 192.168.0.11 56324 443\r\n';
      expect(whole(line + 'GET / HTTP/1.1\r\n')).toEqual({
        header: tcp4('192.168.0.1', 56324, '192.168.0.11', 443, line.length),
        payload: 'GET / HTTP/1.1\r\n',
      });
    });

    it('decodes the longest TCP4 header of the specification', () => {
      const line = 'PROXY TCP4 255.255.255.255 255.255.255.255 65535 65535\r\n';
      expect(whole(line)).toEqual({
        header: tcp4('255.255.255.255', 65535, '255.255.255.255', 65535, 56),
        payload: '',
      });
    });

    it('decodes a TCP6 header, the longest one included', () => {
      const max = 'ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff';
      const line = `PROXY TCP6 ${max} ${max} 65535 65535\r\n`;
      expect(line.length).toBe(104);
      expect(whole(line + 'x').header).toMatchObject({
        version: 1,
        family: 'IPv6',
        source: { address: max, port: 65535 },
        destination: { address: max, port: 65535 },
      });
      expect(whole('PROXY TCP6 2001:db8::1 ::1 1 0\r\n')).toEqual({
        header: {
          version: 1,
          command: 'proxy',
          family: 'IPv6',
          transport: 'stream',
          source: { address: '2001:db8::1', port: 1 },
          destination: { address: '::1', port: 0 },
          tlvs: [],
          length: 32,
        },
        payload: '',
      });
    });

    it('decodes UNKNOWN with or without the rest of the line, which is ignored', () => {
      const unknown = (length: number): ProxyHeader => ({
        version: 1,
        command: 'proxy',
        family: 'unspec',
        transport: 'unspec',
        source: undefined,
        destination: undefined,
        tlvs: [],
        length,
      });
      expect(whole('PROXY UNKNOWN\r\nhi')).toEqual({ header: unknown(15), payload: 'hi' });
      // The worst case the specification names: 107 bytes.
      const longest = `PROXY UNKNOWN ${'ffff:'.repeat(7)}ffff ${'ffff:'.repeat(7)}ffff 65535 65535\r\n`;
      expect(longest.length).toBe(107);
      expect(whole(longest + 'hi')).toEqual({ header: unknown(107), payload: 'hi' });
    });

    it('raises ProxyHeaderTooLongError when no CRLF comes within 107 bytes, without waiting for more', () => {
      const line = `PROXY UNKNOWN ${'x'.repeat(93)}\r\n`;
      expect(line.length).toBe(109);
      expect(decode([Buffer.from(line.slice(0, 107), 'latin1')], {}, false).error).toEqual(
        errorData(new ProxyHeaderTooLongError(1, 107, 108)),
      );
    });

    it.each([
      ['an unknown protocol', 'PROXY TCP5 1.2.3.4 5.6.7.8 1 2\r\n', 'unknown protocol "TCP5"'],
      ['an empty protocol', 'PROXY \r\n', 'unknown protocol ""'],
      ['too few fields', 'PROXY TCP4 1.2.3.4 5.6.7.8 1\r\n', 'expected 5 fields after PROXY, got 4'],
      ['two spaces', 'PROXY TCP4 1.2.3.4  5.6.7.8 1 2\r\n', 'expected 5 fields after PROXY, got 6'],
      ['an IPv6 address in TCP4', 'PROXY TCP4 ::1 5.6.7.8 1 2\r\n', 'bad TCP4 source address "::1"'],
      ['an IPv4 address in TCP6', 'PROXY TCP6 ::1 5.6.7.8 1 2\r\n', 'bad TCP6 destination address "5.6.7.8"'],
      ['a bad octet', 'PROXY TCP4 1.2.3.256 5.6.7.8 1 2\r\n', 'bad TCP4 source address "1.2.3.256"'],
      ['a port above 65535', 'PROXY TCP4 1.2.3.4 5.6.7.8 65536 2\r\n', 'bad source port "65536"'],
      ['a signed port', 'PROXY TCP4 1.2.3.4 5.6.7.8 1 -2\r\n', 'bad destination port "-2"'],
      ['LF without CR', 'PROXY TCP4 1.2.3.4 5.6.7.8 1 2\n', 'line ends with LF without CR'],
    ])('raises ProxyProtocolError on %s', (_, line, reason) => {
      expect(whole(line + 'payload').error).toEqual(errorData(new ProxyProtocolError(1, reason)));
    });

    it('raises ProxyProtocolError when the stream ends inside the line (full.subarray(0, -1))', () => {
      const full = Buffer.from('PROXY TCP4 1.2.3.4 5.6.7.8 1 2\r\n');
      expect(whole(full.subarray(0, -1)).error).toEqual(
        errorData(new ProxyProtocolError(1, `stream ended after ${full.length - 1} byte(s), before the CRLF`)),
      );
    });
  });

  describe('v2 (binary)', () => {
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
      [
        'stray bytes after the TLVs',
        '21 11 000e c0a80001 c0a8000b dc04 01bb 0101',
        '2 stray byte(s) after the last TLV',
      ],
    ])('raises ProxyProtocolError on %s', (_, hex, reason) => {
      expect(whole(Buffer.concat([v2(hex), Buffer.from('payload')])).error).toEqual(
        errorData(new ProxyProtocolError(2, reason)),
      );
    });

    it('raises ProxyHeaderTooLongError from the announced length, before the body is buffered', () => {
      expect(decode([v2('21 11 ffff')], {}, false).error).toEqual(
        errorData(new ProxyHeaderTooLongError(2, 4096, 16 + 0xffff)),
      );
      expect(decode([v2('21 11 0100')], { maxHeaderLength: 100 }, false).error).toEqual(
        errorData(new ProxyHeaderTooLongError(2, 100, 16 + 0x100)),
      );
      // The protocol's own maximum is accepted when allowed.
      const body = Buffer.alloc(0xffff);
      const bytes = Buffer.concat([v2('21 00 ffff'), body]);
      expect(whole(bytes, { maxHeaderLength: 16 + 0xffff }).header?.length).toBe(16 + 0xffff);
    });

    it('raises ProxyProtocolError when the stream ends inside the header', () => {
      const full = v2('21 11 000c c0a80001 c0a8000b dc04 01bb');
      expect(whole(full.subarray(0, -1)).error).toEqual(
        errorData(new ProxyProtocolError(2, 'stream ended after 27 of 28 header byte(s)')),
      );
      expect(whole(full.subarray(0, 14)).error).toEqual(
        errorData(new ProxyProtocolError(2, 'stream ended after 14 byte(s), inside the fixed header')),
      );
    });
  });

  describe('missing header', () => {
    it('raises ProxyHeaderMissingError at the first byte that fits no signature, when required', () => {
      expect(decode([Buffer.from('G')], {}, false).error).toEqual(errorData(new ProxyHeaderMissingError('47')));
      expect(whole('GET / HTTP/1.1\r\nHost: example.com\r\n').error).toEqual(
        errorData(new ProxyHeaderMissingError('47')),
      );
      expect(whole('PROXZ TCP4').error).toEqual(errorData(new ProxyHeaderMissingError('50524f585a')));
      expect(whole('').error).toEqual(errorData(new ProxyHeaderMissingError('')));
      expect(whole('\r\n\r\n\0\r\nQUIT').error).toEqual(
        errorData(new ProxyHeaderMissingError('0d0a0d0a000d0a51554954')),
      );
    });

    it('waits while the bytes are a prefix of a signature', () => {
      expect(decode([Buffer.from('PROXY')], {}, false)).toEqual({});
      expect(decode([PROXY_V2_SIGNATURE.subarray(0, 11)], {}, false)).toEqual({});
    });

    it('passes every byte through when the header is optional', () => {
      expect(whole('GET / HTTP/1.1\r\n', { required: false })).toEqual({ payload: 'GET / HTTP/1.1\r\n' });
      expect(decode([Buffer.from('PROX'), Buffer.from('IMA'), Buffer.from('TE')], { required: false })).toEqual({
        payload: 'PROXIMATE',
      });
      // A partial signature at the end of the stream is data, not a truncated header.
      expect(whole('PRO', { required: false })).toEqual({ payload: 'PRO' });
      expect(whole('', { required: false })).toEqual({ payload: '' });
      // A header is still decoded, and must be valid once its signature is complete.
      expect(whole('PROXY UNKNOWN\r\nz', { required: false })).toMatchObject({ header: { version: 1 }, payload: 'z' });
      expect(whole('PROXY TCP9\r\n', { required: false }).error).toMatchObject({
        name: 'ProxyProtocolError',
        code: 'ERR_PROXY_PROTOCOL',
      });
    });
  });

  it('checks its options when created', () => {
    expect(() => new ProxyProtocolDecoder({ maxHeaderLength: 15 })).toThrow(InvalidArgumentError);
    expect(() => new ProxyProtocolDecoder({ maxHeaderLength: 16 + 0x10000 })).toThrow(InvalidArgumentError);
    expect(() => new ProxyProtocolDecoder({ required: 'yes' as unknown as boolean })).toThrow(InvalidArgumentError);
  });

  it('refuses push() once it has decided', () => {
    const decoder = new ProxyProtocolDecoder();
    decoder.push(Buffer.from('PROXY UNKNOWN\r\n'));
    expect(decoder.read()).toBeDefined();
    expect(decoder.done).toBe(true);
    expect(() => decoder.push(Buffer.from('x'))).toThrow(/after the header was decoded/);
  });

  it('hands back a view of the last chunk, not a copy, for the bytes after the header', () => {
    const chunk = Buffer.from('PROXY UNKNOWN\r\nabc');
    const decoder = new ProxyProtocolDecoder();
    decoder.push(chunk);
    const rest = decoder.read()!.rest;
    expect(rest.buffer).toBe(chunk.buffer);
    expect(rest.toString()).toBe('abc');
  });

  describe('the chunking law: the result does not depend on how the bytes were cut', () => {
    // Every row has its three cells: jest.each would take a missing third for a done callback.
    const fixtures: Array<[string, Buffer, ProxyProtocolDecoderOptions]> = [
      ['v1 TCP4', Buffer.from('PROXY TCP4 192.168.0.1 192.168.0.11 56324 443\r\nGET /\r\n'), {}],
      ['v1 TCP6', Buffer.from('PROXY TCP6 2001:db8::1 ::1 65535 1\r\nbody'), {}],
      ['v1 UNKNOWN', Buffer.from('PROXY UNKNOWN whatever\r\n'), {}],
      ['v2 TCP4', Buffer.concat([v2('21 11 000c c0a80001 c0a8000b dc04 01bb'), Buffer.from('hello')]), {}],
      [
        'v2 TLVs',
        Buffer.concat([v2('21 11 0013 c0a80001 c0a8000b dc04 01bb 01 0002 6832 04 0000'), Buffer.from('x')]),
        {},
      ],
      ['v2 LOCAL', Buffer.concat([v2('20 00 0000'), Buffer.from('ping')]), {}],
      ['v1 bad port', Buffer.from('PROXY TCP4 1.2.3.4 5.6.7.8 99999 2\r\nxx'), {}],
      ['v1 too long', Buffer.from(`PROXY UNKNOWN ${'x'.repeat(200)}\r\n`), {}],
      ['v2 too long', v2('21 11 2000'), {}],
      ['v2 TLV overrun', v2('21 11 0011 c0a80001 c0a8000b dc04 01bb 01 0005 6832'), {}],
      ['truncated v2', v2('21 11 000c c0a80001 c0a8000b dc04'), {}],
      ['missing (required)', Buffer.from('GET / HTTP/1.1\r\n'), {}],
      ['missing (optional)', Buffer.from('PROXIMA CENTAURI'), { required: false }],
      ['partial signature (optional)', PROXY_V2_SIGNATURE.subarray(0, 9), { required: false }],
    ];

    it.each(fixtures)('%s: 1-byte and empty chunks give the same result as one chunk', (_, bytes, options) => {
      expect(decode(byteByByte(bytes), options)).toEqual(decode([bytes], options));
    });

    it.each(fixtures)('%s: random splits give the same result as one chunk', (_, bytes, options) => {
      const expected = decode([bytes], options);
      fc.assert(
        fc.property(chunkingsOf(bytes), (chunks) => {
          expect(decode(chunks, options)).toEqual(expected);
        }),
        { numRuns: 200 },
      );
    });

    const endpoint4 = fc.record({ address: fc.ipV4(), port: fc.integer({ min: 0, max: 65535 }) });
    const endpoint6 = fc.record({ address: fc.ipV6(), port: fc.integer({ min: 0, max: 65535 }) });
    const init: fc.Arbitrary<ProxyHeaderInit> = fc.oneof(
      fc.record({ version: fc.constantFrom<1 | 2>(1, 2), source: endpoint4, destination: endpoint4 }),
      fc.record({ version: fc.constantFrom<1 | 2>(1, 2), source: endpoint6, destination: endpoint6 }),
      fc.record({
        version: fc.constant<2>(2),
        source: fc.oneof(endpoint4),
        destination: endpoint4,
        tlvs: fc.array(
          fc.record({
            type: fc.integer({ min: 0, max: 255 }),
            value: fc.uint8Array({ maxLength: 40 }).map((a) => Buffer.from(a)),
          }),
          {
            maxLength: 5,
          },
        ),
      }),
      fc.constant<ProxyHeaderInit>({ version: 1 }),
      fc.constant<ProxyHeaderInit>({ version: 2, command: 'local' }),
    );

    it('encodeProxyHeader → random chunks → decoder gives back the header and the payload', () => {
      fc.assert(
        fc.property(
          init.chain((h) => {
            const payload = fc.uint8Array({ maxLength: 64 }).map((p) => Buffer.from(p));
            return payload.chain((p) => {
              const bytes = Buffer.concat([encodeProxyHeader(h), p]);
              return fc.tuple(
                fc.constant(h),
                fc.constant(p),
                fc.constant(bytes),
                fc.array(fc.nat({ max: bytes.length }), { maxLength: 12 }),
              );
            });
          }),
          ([h, payload, bytes, cuts]) => {
            const decoded = decode(splitAt(bytes, cuts));
            expect(decoded.error).toBeUndefined();
            expect(decoded.payload).toBe(payload.toString('latin1'));
            const header = decoded.header!;
            expect(header.version).toBe(h.version);
            if (h.source !== undefined && h.command !== 'local') {
              // Addresses come back in canonical form (v1 keeps the text as sent).
              const canonical = (a: string) =>
                a.includes(':')
                  ? formatIPv6(
                      encodeProxyHeader({
                        version: 2,
                        source: { address: a, port: 0 },
                        destination: { address: a, port: 0 },
                      }),
                      16,
                    )
                  : a;
              expect(header.source).toEqual({
                address: h.version === 1 ? h.source.address : canonical(h.source.address),
                port: h.source.port,
              });
              expect(header.destination).toEqual({
                address: h.version === 1 ? h.destination!.address : canonical(h.destination!.address),
                port: h.destination!.port,
              });
              expect(header.tlvs.map((t) => [t.type, t.value.toString('hex')])).toEqual(
                (h.tlvs ?? []).map((t) => [t.type, Buffer.from(t.value).toString('hex')]),
              );
            } else {
              expect(header.source).toBeUndefined();
            }
          },
        ),
        { numRuns: 300 },
      );
    });

    it('one chunk holding the header and thousands of messages keeps them all, uncopied', () => {
      const payload = Buffer.from('line\n'.repeat(5000));
      const header = encodeProxyHeader({
        source: { address: '10.0.0.1', port: 1 },
        destination: { address: '10.0.0.2', port: 2 },
      });
      const decoded = decode([Buffer.concat([header, payload])]);
      expect(decoded.payload).toBe(payload.toString('latin1'));
    });
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
