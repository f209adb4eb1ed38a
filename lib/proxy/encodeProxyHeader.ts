// Writes PROXY protocol headers (v1 text, v2 binary): for a proxy written with rxnet, and for tests.
import { Buffer } from 'buffer';
import { isIPv4, isIPv6 } from 'net';
import { EncodeError, InvalidArgumentError } from '../errors';
import {
  ADDRESS_BYTES,
  PROXY_V1_MAX_LENGTH,
  PROXY_V1_SIGNATURE,
  PROXY_V2_MAX_LENGTH,
  PROXY_V2_SIGNATURE,
} from './ProxyHeader';
import type { ProxyEndpoint, ProxyTlv } from './ProxyHeader';

/**
 * What {@link encodeProxyHeader} writes.
 *
 * @example
 * ```ts
 * import { encodeProxyHeader, type ProxyHeaderInit } from 'rxnet';
 *
 * // A v2 LOCAL header: a health check from the proxy itself, no addresses.
 * const healthCheck: ProxyHeaderInit = { version: 2, command: 'local' };
 * const header = encodeProxyHeader(healthCheck); // 16 bytes
 * ```
 */
export interface ProxyHeaderInit {
  /** 1 (text) or 2 (binary, the default). */
  readonly version?: 1 | 2;
  /** `'local'` (v2 only): the proxy's own connection, no addresses. Default `'proxy'`. */
  readonly command?: 'proxy' | 'local';
  /** The client; omit (with `destination`) for v1 `UNKNOWN` / v2 `AF_UNSPEC`. */
  readonly source?: ProxyEndpoint;
  /** The address the client connected to. */
  readonly destination?: ProxyEndpoint;
  /** `'IPv4'`, `'IPv6'` or `'unix'` (v2 only); inferred from `source.address` when omitted. */
  readonly family?: 'IPv4' | 'IPv6' | 'unix';
  /** v2 transport (default `'stream'`). */
  readonly transport?: 'stream' | 'dgram';
  /** v2 extensions, written in order. */
  readonly tlvs?: readonly ProxyTlv[];
}

/**
 * Encodes a PROXY protocol header, as HAProxy's `send-proxy` / `send-proxy-v2` and nginx's
 * `proxy_protocol on` send it, to write before the client's bytes.
 *
 * ```
 * v1: "PROXY TCP4 192.0.2.7 198.51.100.1 56324 443\r\n"      "PROXY UNKNOWN\r\n" without addresses
 * v2: [signature][0x21 PROXY | 0x20 LOCAL][family<<4 | transport][u16 BE length][addresses][TLVs]
 * ```
 *
 * Limits: a v1 header is at most 107 bytes; a v2 header at most 65 551 bytes. Addresses must
 * parse as the family says; an out-of-range port or an oversized header is an `EncodeError`.
 *
 * @example
 * ```ts
 * import { encodeProxyHeader } from 'rxnet';
 *
 * const header = encodeProxyHeader({
 *   version: 1,
 *   source: { address: '192.0.2.7', port: 56324 },
 *   destination: { address: '198.51.100.1', port: 443 },
 * }); // 'PROXY TCP4 192.0.2.7 198.51.100.1 56324 443\r\n'
 * ```
 */
export function encodeProxyHeader(init: ProxyHeaderInit): Buffer {
  const version = init.version ?? 2;
  if (version !== 1 && version !== 2)
    throw new InvalidArgumentError('version', `expected 1 or 2, got ${String(version)}`);
  const { source, destination } = init;
  if ((source === undefined) !== (destination === undefined)) {
    throw new InvalidArgumentError('source', 'give both source and destination, or neither');
  }
  const family = source === undefined ? undefined : (init.family ?? inferFamily(source.address));
  if (source !== undefined && destination !== undefined && family !== 'unix') {
    const isIP = family === 'IPv4' ? isIPv4 : isIPv6;
    for (const end of [source, destination]) {
      if (!isIP(end.address)) throw new EncodeError(`${String(end.address)} is not an ${family} address`);
      if (!Number.isInteger(end.port) || end.port! < 0 || end.port! > 65535)
        throw new EncodeError(`bad port ${String(end.port)}`);
    }
  }
  return version === 1 ? encodeV1(init, family) : encodeV2(init, family);
}

function inferFamily(address: string): 'IPv4' | 'IPv6' {
  if (isIPv4(address)) return 'IPv4';
  if (isIPv6(address)) return 'IPv6';
  throw new EncodeError(`${address} is neither an IPv4 nor an IPv6 address`);
}

function encodeV1(init: ProxyHeaderInit, family: 'IPv4' | 'IPv6' | 'unix' | undefined): Buffer {
  if (init.command === 'local') throw new EncodeError('v1 has no LOCAL command (use UNKNOWN: no source)');
  if (family === 'unix') throw new EncodeError('v1 cannot carry unix socket addresses');
  if (init.tlvs !== undefined && init.tlvs.length > 0) throw new EncodeError('v1 has no TLVs');
  const { source, destination } = init;
  const text =
    family === undefined
      ? `${PROXY_V1_SIGNATURE}UNKNOWN\r\n`
      : `${PROXY_V1_SIGNATURE}${family === 'IPv4' ? 'TCP4' : 'TCP6'} ${source!.address} ${destination!.address} ${source!.port} ${destination!.port}\r\n`;
  if (text.length > PROXY_V1_MAX_LENGTH)
    throw new EncodeError(`v1 header of ${text.length} bytes exceeds ${PROXY_V1_MAX_LENGTH}`);
  return Buffer.from(text, 'latin1');
}

function encodeV2(init: ProxyHeaderInit, family: 'IPv4' | 'IPv6' | 'unix' | undefined): Buffer {
  const local = init.command === 'local';
  const familyCode = local || family === undefined ? 0 : family === 'IPv4' ? 1 : family === 'IPv6' ? 2 : 3;
  const transportCode = familyCode === 0 && init.transport === undefined ? 0 : init.transport === 'dgram' ? 2 : 1;
  const addressBytes = ADDRESS_BYTES[familyCode];
  const tlvs = init.tlvs ?? [];
  let tlvBytes = 0;
  for (const tlv of tlvs) {
    if (!Number.isInteger(tlv.type) || tlv.type < 0 || tlv.type > 255)
      throw new EncodeError(`bad TLV type ${String(tlv.type)}`);
    tlvBytes += 3 + tlv.value.length;
  }
  const length = 16 + addressBytes + tlvBytes;
  if (length > PROXY_V2_MAX_LENGTH)
    throw new EncodeError(`v2 header of ${length} bytes exceeds ${PROXY_V2_MAX_LENGTH}`);
  const out = Buffer.alloc(length);
  PROXY_V2_SIGNATURE.copy(out, 0);
  out[12] = local ? 0x20 : 0x21;
  out[13] = (familyCode << 4) | transportCode;
  out.writeUInt16BE(length - 16, 14);
  const src = init.source;
  const dst = init.destination;
  if (familyCode === 1) {
    writeIPv4(out, 16, src!.address);
    writeIPv4(out, 20, dst!.address);
    out.writeUInt16BE(src!.port!, 24);
    out.writeUInt16BE(dst!.port!, 26);
  } else if (familyCode === 2) {
    writeIPv6(out, 16, src!.address);
    writeIPv6(out, 32, dst!.address);
    out.writeUInt16BE(src!.port!, 48);
    out.writeUInt16BE(dst!.port!, 50);
  } else if (familyCode === 3) {
    for (const [end, at] of [
      [src!, 16],
      [dst!, 124],
    ] as const) {
      const path = Buffer.from(end.address, 'utf8');
      if (path.length > 107) throw new EncodeError(`unix path of ${path.length} bytes exceeds 107`);
      path.copy(out, at);
    }
  }
  let p = 16 + addressBytes;
  for (const tlv of tlvs) {
    out[p] = tlv.type;
    out.writeUInt16BE(tlv.value.length, p + 1);
    Buffer.from(tlv.value).copy(out, p + 3);
    p += 3 + tlv.value.length;
  }
  return out;
}

function writeIPv4(out: Buffer, at: number, address: string): void {
  const parts = address.split('.');
  for (let i = 0; i < 4; i++) out[at + i] = Number(parts[i]);
}

function writeIPv6(out: Buffer, at: number, address: string): void {
  let text = address;
  // A trailing dotted quad (::ffff:1.2.3.4) becomes two groups.
  const lastColon = text.lastIndexOf(':');
  const tail = text.slice(lastColon + 1);
  if (tail.includes('.')) {
    const q = tail.split('.').map(Number);
    text = `${text.slice(0, lastColon + 1)}${((q[0] << 8) | q[1]).toString(16)}:${((q[2] << 8) | q[3]).toString(16)}`;
  }
  const [head, rest] = text.includes('::') ? text.split('::') : [text, undefined];
  const left = head === '' ? [] : head.split(':');
  const right = rest === undefined || rest === '' ? [] : rest.split(':');
  const groups =
    rest === undefined ? left : [...left, ...new Array<string>(8 - left.length - right.length).fill('0'), ...right];
  for (let i = 0; i < 8; i++) out.writeUInt16BE(parseInt(groups[i], 16), at + 2 * i);
}
