// The admission decisions of one listen() subscription: allow and deny lists, trusted proxies, per-address counts and accept rates.
import type * as net from 'net';
import type { SchedulerLike } from 'rxjs';
import { InvalidArgumentError } from '../errors';
import { TokenBucket } from '../shaping/TokenBucket';
import { checkInteger, checkOptions } from '../util/validate';
import { addressKey, inBlockList, toBlockList } from './addresses';
import type { AddressList } from './addresses';

/**
 * Why a server refused a connection (a `drop` server event, counted by reason in `serverMetrics`):
 *
 * - `max-connections`: `maxConnections` were open (Node closed it before rxnet saw it);
 * - `max-per-address`: `maxConnectionsPerAddress` were open from its address (or IPv6 prefix);
 * - `accept-rate`: its address opened connections faster than `acceptRate` allows;
 * - `denied`: its address is in `deny`, or not in `allow`;
 * - `untrusted-proxy`: with `proxyProtocol.trusted`, it came from no trusted proxy;
 * - `proxy-header`: its PROXY header was bad, missing or late.
 *
 * @example
 * ```ts
 * import { listen, type DropReason } from 'rxnet';
 *
 * const worrying = new Set<DropReason>(['max-per-address', 'accept-rate']);
 * listen({ port: 8107, maxConnectionsPerAddress: 20, events: (e) => e.type === 'drop' && worrying.has(e.reason) && console.warn(e) }).subscribe();
 * ```
 */
export type DropReason =
  'max-connections' | 'max-per-address' | 'accept-rate' | 'denied' | 'untrusted-proxy' | 'proxy-header';

/**
 * Every {@link DropReason}, in a fixed order (for counters and reports).
 * @example
 * ```ts
 * import { DROP_REASONS, serverMetrics } from 'rxnet';
 *
 * const m = serverMetrics();
 * const report = () => DROP_REASONS.map((reason) => `${reason}=${m.snapshot().drops[reason]}`).join(' ');
 * console.log(report());
 * ```
 */
export const DROP_REASONS: readonly DropReason[] = [
  'max-connections',
  'max-per-address',
  'accept-rate',
  'denied',
  'untrusted-proxy',
  'proxy-header',
];

/**
 * The admission options of `listen`: who may connect, and how much of the server one address may take.
 *
 * @example
 * ```ts
 * import { listen, type AdmissionOptions } from 'rxnet';
 *
 * const admission: AdmissionOptions = {
 *   maxConnectionsPerAddress: 20, // per IPv4 address, per IPv6 /64
 *   acceptRate: { burst: 20, rate: 5 }, // new connections per address: 20 at once, then 5 a second
 *   deny: ['203.0.113.0/24'],
 * };
 * listen({ port: 8107, maxConnections: 10_000, ...admission }).subscribe();
 * ```
 */
export interface AdmissionOptions {
  /**
   * At most this many connections open at once from one address (an IPv4 address, an IPv6 /64 by
   * default: see `addressPrefix`); more are closed at once as `drop` events, reason
   * `max-per-address`. With `proxyProtocol`, counted on the client address the header reports.
   */
  readonly maxConnectionsPerAddress?: number;
  /**
   * How much of an address counts as one for `maxConnectionsPerAddress` and `acceptRate`:
   * `ipv4` bits (default 32, the address) and `ipv6` bits (default 64: one host usually holds a
   * whole /64, and would otherwise have 2^64 addresses to spread over).
   */
  readonly addressPrefix?: {
    /** Leading bits of an IPv4 address that count (0 to 32, default 32). */
    readonly ipv4?: number;
    /** Leading bits of an IPv6 address that count (0 to 128, default 64). */
    readonly ipv6?: number;
  };
  /**
   * New connections one address may open: `burst` at once, then `rate` a second (a token bucket
   * on `scheduler`); more are closed at once as `drop` events, reason `accept-rate`.
   */
  readonly acceptRate?: {
    /** Connections an address may open at once after a quiet spell (an integer ≥ 1). */
    readonly burst: number;
    /** Connections an address may open per second after that (> 0; 0.5 is one every 2 s). */
    readonly rate: number;
  };
  /** Only clients from these addresses or CIDR blocks are served; others are `drop` events, reason `denied`. */
  readonly allow?: AddressList;
  /** Clients from these addresses or CIDR blocks are refused (`drop`, reason `denied`), even when in `allow`. */
  readonly deny?: AddressList;
}

/** A socket counted under a per-address key: the key, and the admission that counts it. */
type CountedSocket = net.Socket & { [kCounted]?: { admission: Admission; key: string } };
const kCounted = Symbol('rxnet.admission');

/** How often (in admissions) buckets back to full are forgotten. */
const SWEEP_EVERY = 1024;

/**
 * The decisions of one server. Checks its options when `listen()` is called; each subscription
 * makes its own with {@link Admission.start}.
 * @internal
 */
export class Admission {
  private readonly counts = new Map<string, number>();
  private readonly buckets = new Map<string, TokenBucket>();
  private admissions = 0;

  private constructor(
    private readonly rules: AdmissionRules,
    private readonly scheduler: SchedulerLike,
  ) {}

  /**
   * The rules of `options`, checked (InvalidArgumentError for a bad one); undefined when no
   * option asks for any.
   */
  static rules(options: AdmissionOptions): AdmissionRules | undefined {
    const { maxConnectionsPerAddress, addressPrefix, acceptRate, allow, deny } = options;
    if (
      maxConnectionsPerAddress === undefined &&
      acceptRate === undefined &&
      allow === undefined &&
      deny === undefined
    ) {
      if (addressPrefix !== undefined) checkPrefix(addressPrefix);
      return undefined;
    }
    const perAddress =
      maxConnectionsPerAddress === undefined
        ? Infinity
        : checkInteger('maxConnectionsPerAddress', maxConnectionsPerAddress, 1);
    const { ipv4, ipv6 } = checkPrefix(addressPrefix ?? {});
    let rate: { burst: number; rate: number } | undefined;
    if (acceptRate !== undefined) {
      checkOptions(acceptRate);
      // TokenBucket checks both numbers; made once here so a bad one fails listen().
      new TokenBucket(acceptRate.burst, acceptRate.rate, 0);
      rate = { burst: acceptRate.burst, rate: acceptRate.rate };
    }
    return {
      perAddress,
      ipv4Prefix: ipv4,
      ipv6Prefix: ipv6,
      acceptRate: rate,
      allow: allow === undefined ? undefined : toBlockList('allow', allow),
      deny: deny === undefined ? undefined : toBlockList('deny', deny),
    };
  }

  /** The state of one `listen` subscription under `rules`. */
  static start(rules: AdmissionRules, scheduler: SchedulerLike): Admission {
    return new Admission(rules, scheduler);
  }

  /**
   * Decides on `socket`, whose client is at `address` (the socket's own, or a PROXY header's):
   * the reason to refuse it, or undefined once it is admitted and counted until the socket closes.
   */
  admit(socket: net.Socket, address: string | undefined): DropReason | undefined {
    const { rules } = this;
    if (address !== undefined) {
      if (rules.deny !== undefined && inBlockList(rules.deny, address)) return 'denied';
      if (rules.allow !== undefined && !inBlockList(rules.allow, address)) return 'denied';
    } else if (rules.allow !== undefined) return 'denied';
    const key = addressKey(address, rules.ipv4Prefix, rules.ipv6Prefix);
    if (key === undefined) return undefined;
    const count = this.counts.get(key) ?? 0;
    if (count >= rules.perAddress) return 'max-per-address';
    if (rules.acceptRate !== undefined && !this.takeToken(key, rules.acceptRate)) return 'accept-rate';
    if (rules.perAddress !== Infinity) {
      this.counts.set(key, count + 1);
      (socket as CountedSocket)[kCounted] = { admission: this, key };
      socket.once('close', releaseOnClose);
    }
    return undefined;
  }

  /** Connections counted now under the key of `address` (for tests and reports). */
  openFrom(address: string): number {
    const key = addressKey(address, this.rules.ipv4Prefix, this.rules.ipv6Prefix);
    return key === undefined ? 0 : (this.counts.get(key) ?? 0);
  }

  /** Addresses with a count or a bucket not yet full: what the admission holds in memory. */
  get tracked(): number {
    return this.counts.size + this.buckets.size;
  }

  private takeToken(key: string, rate: { burst: number; rate: number }): boolean {
    const now = this.scheduler.now();
    if (++this.admissions % SWEEP_EVERY === 0) {
      // A full bucket is the same as none: forgetting it bounds the map by the addresses seen lately.
      for (const [k, bucket] of this.buckets) if (bucket.full(now)) this.buckets.delete(k);
    }
    let bucket = this.buckets.get(key);
    if (bucket === undefined) this.buckets.set(key, (bucket = new TokenBucket(rate.burst, rate.rate, now)));
    return bucket.take(now);
  }

  /** One connection under `key` closed. */
  private leave(key: string): void {
    const count = this.counts.get(key);
    if (count === undefined) return;
    if (count <= 1) this.counts.delete(key);
    else this.counts.set(key, count - 1);
  }

  /** @internal Called by the socket's close listener. */
  static release(socket: CountedSocket): void {
    const counted = socket[kCounted];
    if (counted === undefined) return;
    socket[kCounted] = undefined;
    counted.admission.leave(counted.key);
  }
}

/** The checked admission options. @internal */
export interface AdmissionRules {
  readonly perAddress: number;
  readonly ipv4Prefix: number;
  readonly ipv6Prefix: number;
  readonly acceptRate: { readonly burst: number; readonly rate: number } | undefined;
  readonly allow: net.BlockList | undefined;
  readonly deny: net.BlockList | undefined;
}

function releaseOnClose(this: CountedSocket): void {
  Admission.release(this);
}

function checkPrefix(prefix: { readonly ipv4?: number; readonly ipv6?: number }): { ipv4: number; ipv6: number } {
  if (prefix === null || typeof prefix !== 'object') {
    throw new InvalidArgumentError('addressPrefix', `expected { ipv4?, ipv6? }, got ${String(prefix)}`);
  }
  return {
    ipv4: checkInteger('addressPrefix.ipv4', prefix.ipv4 ?? 32, 0, 32),
    ipv6: checkInteger('addressPrefix.ipv6', prefix.ipv6 ?? 64, 0, 128),
  };
}
