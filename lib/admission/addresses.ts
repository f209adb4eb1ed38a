// Client addresses as admission sees them: CIDR rules in a net.BlockList, and the key a per-address limit counts under.
import * as net from 'net';
import { InvalidArgumentError } from '../errors';

/**
 * Addresses written as text: single addresses (`192.0.2.7`, `2001:db8::1`) and CIDR blocks
 * (`10.0.0.0/8`, `2001:db8::/32`), or a `net.BlockList` built elsewhere.
 *
 * @example
 * ```ts
 * import { listen, type AddressList } from 'rxnet';
 *
 * const office: AddressList = ['192.0.2.0/24', '2001:db8:42::/48'];
 * listen({ port: 8107, allow: office }).subscribe();
 * ```
 */
export type AddressList = readonly string[] | net.BlockList;

/**
 * Builds a `net.BlockList` from `list` (a BlockList is taken as it is), throwing
 * InvalidArgumentError naming `option` for an entry that is no address or CIDR block.
 * @internal
 */
export function toBlockList(option: string, list: AddressList): net.BlockList {
  if (list instanceof net.BlockList) return list;
  if (!Array.isArray(list)) {
    throw new InvalidArgumentError(
      option,
      `expected an array of addresses or CIDR blocks, or a net.BlockList, got ${String(list)}`,
    );
  }
  const blocks = new net.BlockList();
  for (const entry of list) {
    if (typeof entry !== 'string') throw new InvalidArgumentError(option, `expected a string, got ${String(entry)}`);
    const slash = entry.indexOf('/');
    const address = slash < 0 ? entry : entry.slice(0, slash);
    const version = net.isIP(address);
    if (version === 0)
      throw new InvalidArgumentError(option, `${JSON.stringify(entry)} is not an IP address or CIDR block`);
    const type = version === 4 ? 'ipv4' : 'ipv6';
    if (slash < 0) {
      blocks.addAddress(address, type);
      continue;
    }
    const prefix = Number(entry.slice(slash + 1));
    const max = version === 4 ? 32 : 128;
    if (!/^\d{1,3}$/.test(entry.slice(slash + 1)) || prefix > max) {
      throw new InvalidArgumentError(option, `${JSON.stringify(entry)}: the prefix must be 0 to ${max}`);
    }
    blocks.addSubnet(address, prefix, type);
  }
  return blocks;
}

/** Whether `address` (as a socket reports it, IPv4-mapped IPv6 included) lies in `blocks`. @internal */
export function inBlockList(blocks: net.BlockList, address: string): boolean {
  const version = net.isIP(address);
  if (version === 0) return false;
  return blocks.check(address, version === 4 ? 'ipv4' : 'ipv6');
}

/**
 * The key a per-address limit counts `address` under: the IPv4 address itself (or its first
 * `ipv4Prefix` bits), an IPv6 address's first `ipv6Prefix` bits (one host usually has a whole
 * /64). An IPv4-mapped IPv6 address (`::ffff:192.0.2.7`, as a dual-stack server sees IPv4
 * clients) counts as its IPv4 address. Undefined for what is no IP address (a unix socket).
 * @internal
 */
export function addressKey(address: string | undefined, ipv4Prefix: number, ipv6Prefix: number): string | undefined {
  if (address === undefined) return undefined;
  const version = net.isIP(address);
  if (version === 4) return ipv4Key(address, ipv4Prefix);
  if (version !== 6) return undefined;
  const groups = ipv6Groups(address);
  if (groups === undefined) return undefined;
  if (
    groups[0] === 0 &&
    groups[1] === 0 &&
    groups[2] === 0 &&
    groups[3] === 0 &&
    groups[4] === 0 &&
    groups[5] === 0xffff
  ) {
    return ipv4Key(`${groups[6] >> 8}.${groups[6] & 0xff}.${groups[7] >> 8}.${groups[7] & 0xff}`, ipv4Prefix);
  }
  let key = '';
  for (let i = 0, bits = ipv6Prefix; i < 8; i++, bits -= 16) {
    const mask = bits >= 16 ? 0xffff : bits <= 0 ? 0 : (0xffff << (16 - bits)) & 0xffff;
    key += (i > 0 ? ':' : '') + (groups[i] & mask).toString(16);
  }
  return `${key}/${ipv6Prefix}`;
}

function ipv4Key(address: string, prefix: number): string {
  if (prefix === 32) return address;
  const parts = address.split('.').map(Number);
  const value = ((parts[0] << 24) | (parts[1] << 16) | (parts[2] << 8) | parts[3]) >>> 0;
  const masked = prefix === 0 ? 0 : (value & (0xffffffff << (32 - prefix))) >>> 0;
  return `${masked >>> 24}.${(masked >>> 16) & 0xff}.${(masked >>> 8) & 0xff}.${masked & 0xff}/${prefix}`;
}

/** The eight 16-bit groups of a valid IPv6 address (a zone id dropped, an embedded IPv4 tail read). */
function ipv6Groups(address: string): number[] | undefined {
  const zone = address.indexOf('%');
  let text = zone < 0 ? address : address.slice(0, zone);
  const tail: number[] = [];
  const lastColon = text.lastIndexOf(':');
  if (text.indexOf('.', lastColon) > 0) {
    const v4 = text
      .slice(lastColon + 1)
      .split('.')
      .map(Number);
    tail.push((v4[0] << 8) | v4[1], (v4[2] << 8) | v4[3]);
    // '::1.2.3.4' keeps its '::'; 'a:b:c:d:e:f:1.2.3.4' loses the colon before the tail.
    text = text.slice(0, lastColon + 1);
    if (!text.endsWith('::')) text = text.slice(0, -1);
  }
  const halves = text.split('::');
  const read = (part: string) => (part === '' ? [] : part.split(':').map((g) => parseInt(g, 16)));
  const head = read(halves[0]);
  const rest = halves.length > 1 ? read(halves[1]) : [];
  const missing = 8 - head.length - rest.length - tail.length;
  if (missing < 0 || (halves.length === 1 && missing !== 0)) return undefined;
  return [...head, ...new Array<number>(missing).fill(0), ...rest, ...tail];
}
