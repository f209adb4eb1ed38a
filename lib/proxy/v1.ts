// Parses the v1 (text) PROXY line, once the decoder has found its CRLF: the protocol, the addresses and the ports.
import { isIPv4, isIPv6 } from 'net';
import { ProxyProtocolError } from '../errors';
import type { ProxyHeader } from './ProxyHeader';

/**
 * Decodes the fields of a v1 line: `line` is the text between `PROXY ` and the CRLF, `length` the
 * bytes the whole line took.
 * @throws ProxyProtocolError for an unknown protocol, a wrong number of fields, or a bad address or port.
 */
export function parseV1(line: string, length: number): ProxyHeader {
  const fields = line.split(' ');
  const protocol = fields[0];
  if (protocol === 'UNKNOWN') {
    return {
      version: 1,
      command: 'proxy',
      family: 'unspec',
      transport: 'unspec',
      source: undefined,
      destination: undefined,
      tlvs: [],
      length,
    };
  }
  if (protocol !== 'TCP4' && protocol !== 'TCP6')
    throw new ProxyProtocolError(1, `unknown protocol ${JSON.stringify(protocol)}`);
  if (fields.length !== 5) throw new ProxyProtocolError(1, `expected 5 fields after PROXY, got ${fields.length}`);
  const isIP = protocol === 'TCP4' ? isIPv4 : isIPv6;
  const [, src, dst, srcPort, dstPort] = fields;
  if (!isIP(src)) throw new ProxyProtocolError(1, `bad ${protocol} source address ${JSON.stringify(src)}`);
  if (!isIP(dst)) throw new ProxyProtocolError(1, `bad ${protocol} destination address ${JSON.stringify(dst)}`);
  return {
    version: 1,
    command: 'proxy',
    family: protocol === 'TCP4' ? 'IPv4' : 'IPv6',
    transport: 'stream',
    source: { address: src, port: parsePort(srcPort, 'source') },
    destination: { address: dst, port: parsePort(dstPort, 'destination') },
    tlvs: [],
    length,
  };
}

function parsePort(text: string, which: string): number {
  if (!/^[0-9]{1,5}$/.test(text) || Number(text) > 65535)
    throw new ProxyProtocolError(1, `bad ${which} port ${JSON.stringify(text)}`);
  return Number(text);
}
