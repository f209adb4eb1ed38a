// v1 (text) headers: TCP4, TCP6 and UNKNOWN lines, and every bad field, decoded through the decoder.
import { ProxyProtocolError } from '../../lib/errors';
import type { ProxyHeader } from '../../lib/proxy/ProxyHeader';
import { errorData } from '../support/framing';
import { whole } from '../support/proxyHeaders';

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

describe('parseV1: v1 (text) headers', () => {
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
});
