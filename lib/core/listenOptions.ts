// listen()'s options, checked when listen() is called and resolved to their defaults.
import { asyncScheduler } from 'rxjs';
import type { SchedulerLike } from 'rxjs';
import { InvalidArgumentError } from '../errors';
import { checkBoolean, checkInteger, checkObserver } from '../util/validate';
import type { ListenOptions } from './listen';

/** The default `closeTimeout` of `listen`, in ms. */
export const DEFAULT_CLOSE_TIMEOUT = 10_000;

/** The default TLS handshake deadline of `listen`, in ms (Netty's; Node's own is 120 s). */
export const DEFAULT_HANDSHAKE_TIMEOUT = 10_000;

/** `listen`'s options once checked, with their defaults filled in. @internal */
export interface ResolvedListenOptions {
  readonly allowHalfOpen: boolean;
  readonly noDelay: boolean;
  readonly keepAlive: boolean;
  readonly keepAliveInitialDelay: number;
  readonly gracePeriod: number;
  readonly closeTimeout: number;
  readonly scheduler: SchedulerLike;
  /** The TLS handshake deadline in ms; 0 for plain TCP. */
  readonly handshakeTimeout: number;
}

/** Checks `options` (throwing InvalidArgumentError for a bad one) and fills in the defaults. @internal */
export function resolveListenOptions(options: ListenOptions): ResolvedListenOptions {
  const { port, path, host, backlog, ipv6Only } = options;
  if (path === undefined) checkInteger('port', port ?? 0, 0, 65535);
  else if (typeof path !== 'string' || path.length === 0) {
    throw new InvalidArgumentError('path', 'expected a non-empty string');
  }
  if (port !== undefined && path !== undefined) {
    throw new InvalidArgumentError('options', 'give either port or path, not both');
  }
  if (host !== undefined && (typeof host !== 'string' || host.length === 0)) {
    throw new InvalidArgumentError('host', `expected a non-empty string, got ${String(host)}`);
  }
  if (backlog !== undefined) checkInteger('backlog', backlog, 0);
  const allowHalfOpen = checkBoolean('allowHalfOpen', options.allowHalfOpen, true);
  const noDelay = checkBoolean('noDelay', options.noDelay, false);
  const keepAlive = checkBoolean('keepAlive', options.keepAlive, false);
  checkBoolean('ipv6Only', ipv6Only, false);
  const keepAliveInitialDelay = checkInteger('keepAliveInitialDelay', options.keepAliveInitialDelay ?? 0, 0);
  checkObserver('listening', options.listening);
  checkObserver('events', options.events);
  const onShutdown = options.onShutdown;
  if (onShutdown !== undefined && typeof onShutdown !== 'function') {
    throw new InvalidArgumentError('onShutdown', `expected a function, got ${typeof onShutdown}`);
  }
  if (options.maxConnections !== undefined) checkInteger('maxConnections', options.maxConnections, 0);
  const gracePeriod = checkInteger('gracePeriod', options.gracePeriod ?? 10_000, 0);
  const closeTimeout = checkInteger('closeTimeout', options.closeTimeout ?? DEFAULT_CLOSE_TIMEOUT, 0);
  const scheduler = options.scheduler ?? asyncScheduler;
  if (typeof scheduler?.schedule !== 'function') {
    throw new InvalidArgumentError('scheduler', 'expected an RxJS SchedulerLike');
  }
  const tlsOptions = options.tls;
  if (tlsOptions !== undefined && (typeof tlsOptions !== 'object' || tlsOptions === null)) {
    throw new InvalidArgumentError('tls', `expected tls.createServer options, got ${String(tlsOptions)}`);
  }
  const handshakeTimeout =
    tlsOptions === undefined
      ? 0
      : checkInteger('tls.handshakeTimeout', tlsOptions.handshakeTimeout ?? DEFAULT_HANDSHAKE_TIMEOUT, 1);
  return {
    allowHalfOpen,
    noDelay,
    keepAlive,
    keepAliveInitialDelay,
    gracePeriod,
    closeTimeout,
    scheduler,
    handshakeTimeout,
  };
}
