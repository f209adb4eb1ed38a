// encodeProxyHeader(): v1 lines and v2 blocks byte for byte, the headers it refuses, and the round trip through the decoder.
import fc from 'fast-check';
import { EncodeError, InvalidArgumentError } from '../../lib/errors';
import { encodeProxyHeader, type ProxyHeaderInit } from '../../lib/proxy/encodeProxyHeader';
import { formatIPv6 } from '../../lib/proxy/v2';
import { errorData, splitAt } from '../support/framing';
import { decode, v2 } from '../support/proxyHeaders';

const text = (init: ProxyHeaderInit) => encodeProxyHeader(init).toString('latin1');
const hex = (init: ProxyHeaderInit) => encodeProxyHeader(init).toString('hex');
const tcp4 = { source: { address: '192.168.0.1', port: 56324 }, destination: { address: '192.168.0.11', port: 443 } };

/** What encodeProxyHeader threw for `init`, as data. */
function refusal(init: ProxyHeaderInit): Record<string, unknown> {
  try {
    encodeProxyHeader(init);
  } catch (error) {
    return errorData(error);
  }
  throw new Error(`encoded ${JSON.stringify(init)}`);
}

describe('encodeProxyHeader', () => {
  it('writes v1 lines: TCP4, TCP6, and UNKNOWN without addresses', () => {
    expect(text({ version: 1, ...tcp4 })).toBe('PROXY TCP4 192.168.0.1 192.168.0.11 56324 443\r\n');
    expect(
      text({ version: 1, source: { address: '2001:db8::1', port: 1 }, destination: { address: '::1', port: 2 } }),
    ).toBe('PROXY TCP6 2001:db8::1 ::1 1 2\r\n');
    expect(text({ version: 1 })).toBe('PROXY UNKNOWN\r\n');
  });

  it('writes v2 by default: TCP4, TCP6, unix paths, LOCAL and AF_UNSPEC, TLVs after the addresses', () => {
    expect(hex(tcp4)).toBe(v2('21 11 000c c0a80001 c0a8000b dc04 01bb').toString('hex'));
    expect(
      hex({ source: { address: '::ffff:192.0.2.1', port: 1 }, destination: { address: '2001:db8::1', port: 2 } }),
    ).toBe(
      v2('21 21 0024 00000000000000000000ffffc0000201 20010db8000000000000000000000001 0001 0002').toString('hex'),
    );
    const path = (p: string) => Buffer.concat([Buffer.from(p), Buffer.alloc(108 - p.length)]).toString('hex');
    expect(
      hex({
        source: { address: '/run/a.sock', port: undefined },
        destination: { address: '/run/b.sock', port: undefined },
        family: 'unix',
      }),
    ).toBe(v2(`21 31 00d8 ${path('/run/a.sock')} ${path('/run/b.sock')}`).toString('hex'));
    expect(hex({ command: 'local' })).toBe(v2('20 00 0000').toString('hex'));
    expect(hex({})).toBe(v2('21 00 0000').toString('hex'));
    expect(hex({ ...tcp4, transport: 'dgram', tlvs: [{ type: 1, value: Buffer.from('h2') }] })).toBe(
      v2('21 12 0011 c0a80001 c0a8000b dc04 01bb 01 0002 6832').toString('hex'),
    );
  });

  it('refuses a bad version, or a source without a destination, with InvalidArgumentError', () => {
    expect(() => encodeProxyHeader({ version: 3 as never })).toThrow(InvalidArgumentError);
    expect(refusal({ version: 3 as never })).toMatchObject({ code: 'ERR_INVALID_ARGUMENT', argument: 'version' });
    expect(refusal({ source: tcp4.source })).toMatchObject({ code: 'ERR_INVALID_ARGUMENT', argument: 'source' });
  });

  it.each<[string, ProxyHeaderInit, string]>([
    [
      'a host name',
      { source: { address: 'example.com', port: 1 }, destination: tcp4.destination },
      'example.com is neither an IPv4 nor an IPv6 address',
    ],
    ['an address of the other family', { ...tcp4, family: 'IPv6' }, '192.168.0.1 is not an IPv6 address'],
    ['a port above 65535', { ...tcp4, source: { address: '10.0.0.1', port: 65536 } }, 'bad port 65536'],
    ['a port that is not an integer', { ...tcp4, destination: { address: '10.0.0.2', port: 1.5 } }, 'bad port 1.5'],
    ['LOCAL in v1', { version: 1, command: 'local' }, 'v1 has no LOCAL command (use UNKNOWN: no source)'],
    ['TLVs in v1', { version: 1, ...tcp4, tlvs: [{ type: 4, value: Buffer.alloc(0) }] }, 'v1 has no TLVs'],
    [
      'unix paths in v1',
      {
        version: 1,
        source: { address: '/a', port: undefined },
        destination: { address: '/b', port: undefined },
        family: 'unix',
      },
      'v1 cannot carry unix socket addresses',
    ],
    [
      'a v1 line over 107 bytes',
      {
        version: 1,
        source: { address: 'ffff:ffff:ffff:ffff:ffff:ffff:255.255.255.255', port: 65535 },
        destination: { address: 'ffff:ffff:ffff:ffff:ffff:ffff:255.255.255.255', port: 65535 },
      },
      'v1 header of 116 bytes exceeds 107',
    ],
    ['a TLV type above 255', { ...tcp4, tlvs: [{ type: 256, value: Buffer.alloc(0) }] }, 'bad TLV type 256'],
    [
      'a v2 header over 16 + 65535 bytes',
      { ...tcp4, tlvs: [{ type: 4, value: Buffer.alloc(0xffff) }] },
      'v2 header of 65566 bytes exceeds 65551',
    ],
    [
      'a unix path over 107 bytes',
      {
        source: { address: 'x'.repeat(108), port: undefined },
        destination: { address: '/b', port: undefined },
        family: 'unix',
      },
      'unix path of 108 bytes exceeds 107',
    ],
  ])('refuses %s with EncodeError', (_, init, reason) => {
    expect(() => encodeProxyHeader(init)).toThrow(EncodeError);
    expect(refusal(init)).toEqual({ name: 'EncodeError', code: 'ERR_ENCODE', reason });
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
});
