// Parses the v2 (binary) PROXY header once the decoder holds all of it: the address block and the TLVs.
import { Buffer } from 'buffer';
import { ProxyProtocolError } from '../errors';
import { ADDRESS_BYTES } from './ProxyHeader';
import type { ProxyEndpoint, ProxyHeader, ProxyTlv } from './ProxyHeader';

const FAMILIES = ['unspec', 'IPv4', 'IPv6', 'unix'] as const;
const TRANSPORTS = ['unspec', 'stream', 'dgram'] as const;

/**
 * Decodes the address block and TLVs of a v2 header: `bytes` holds all of it, signature included;
 * `command`, `family` and `transport` are the nibbles of bytes 12 and 13, which the decoder checked.
 * @throws ProxyProtocolError when the address block is too short for the family or a TLV overruns the header.
 */
export function parseV2(bytes: Buffer, command: number, family: number, transport: number): ProxyHeader {
  const length = bytes.length;
  if (command === 0) {
    // LOCAL: the proxy speaks for itself; the specification says to discard the whole block.
    return {
      version: 2,
      command: 'local',
      family: FAMILIES[family],
      transport: TRANSPORTS[transport],
      source: undefined,
      destination: undefined,
      tlvs: [],
      length,
    };
  }
  const addressBytes = ADDRESS_BYTES[family];
  if (length - 16 < addressBytes) {
    throw new ProxyProtocolError(
      2,
      `${FAMILIES[family]} addresses need ${addressBytes} byte(s), the header has ${length - 16}`,
    );
  }
  let source: ProxyEndpoint | undefined;
  let destination: ProxyEndpoint | undefined;
  const at = 16;
  if (family === 1) {
    source = { address: formatIPv4(bytes, at), port: bytes.readUInt16BE(at + 8) };
    destination = { address: formatIPv4(bytes, at + 4), port: bytes.readUInt16BE(at + 10) };
  } else if (family === 2) {
    source = { address: formatIPv6(bytes, at), port: bytes.readUInt16BE(at + 32) };
    destination = { address: formatIPv6(bytes, at + 16), port: bytes.readUInt16BE(at + 34) };
  } else if (family === 3) {
    source = { address: unixPath(bytes, at), port: undefined };
    destination = { address: unixPath(bytes, at + 108), port: undefined };
  }
  const tlvs: ProxyTlv[] = [];
  let p = at + addressBytes;
  // AF_UNSPEC carries no addresses we know how to read: whatever follows is skipped, not parsed as TLVs.
  if (family !== 0) {
    while (p < length) {
      if (length - p < 3) throw new ProxyProtocolError(2, `${length - p} stray byte(s) after the last TLV`);
      const type = bytes[p];
      const n = bytes.readUInt16BE(p + 1);
      if (p + 3 + n > length)
        throw new ProxyProtocolError(
          2,
          `TLV 0x${type.toString(16)} of ${n} byte(s) overruns the header by ${p + 3 + n - length}`,
        );
      tlvs.push({ type, value: Buffer.from(bytes.subarray(p + 3, p + 3 + n)) });
      p += 3 + n;
    }
  }
  return {
    version: 2,
    command: 'proxy',
    family: FAMILIES[family],
    transport: TRANSPORTS[transport],
    source,
    destination,
    tlvs,
    length,
  };
}

function formatIPv4(b: Buffer, at: number): string {
  return `${b[at]}.${b[at + 1]}.${b[at + 2]}.${b[at + 3]}`;
}

/** RFC 5952 text: lower case, the longest run of two or more zero groups as `::`, IPv4-mapped as `::ffff:a.b.c.d`. */
export function formatIPv6(b: Buffer, at: number): string {
  let mapped = b[at + 10] === 0xff && b[at + 11] === 0xff;
  for (let i = 0; mapped && i < 10; i++) if (b[at + i] !== 0) mapped = false;
  if (mapped) return `::ffff:${formatIPv4(b, at + 12)}`;
  const groups: number[] = [];
  for (let i = 0; i < 8; i++) groups.push(b.readUInt16BE(at + 2 * i));
  let bestStart = -1;
  let bestLength = 1;
  for (let i = 0; i < 8;) {
    if (groups[i] !== 0) {
      i++;
      continue;
    }
    let j = i;
    while (j < 8 && groups[j] === 0) j++;
    if (j - i > bestLength) {
      bestStart = i;
      bestLength = j - i;
    }
    i = j;
  }
  const hex = (from: number, to: number) =>
    groups
      .slice(from, to)
      .map((g) => g.toString(16))
      .join(':');
  if (bestStart < 0) return hex(0, 8);
  return `${hex(0, bestStart)}::${hex(bestStart + bestLength, 8)}`;
}

function unixPath(b: Buffer, at: number): string {
  const end = b.indexOf(0, at);
  return b.toString('utf8', at, end < 0 || end > at + 108 ? at + 108 : end);
}
