// listen()'s options: each bad one refused when listen() is called, before anything is bound (no socket is opened
// here: listen() binds only when subscribed), and the defaults filled in.
import { asyncScheduler } from 'rxjs';
import { InvalidArgumentError } from '../../lib/errors';
import { listen } from '../../lib/core/listen';
import type { ListenOptions } from '../../lib/core/listen';
import {
  DEFAULT_CLOSE_TIMEOUT,
  DEFAULT_FIRST_BYTE_TIMEOUT,
  DEFAULT_FRAME_TIMEOUT,
  DEFAULT_HANDSHAKE_TIMEOUT,
  resolveListenOptions,
} from '../../lib/core/listenOptions';

describe('listen() arguments', () => {
  const bad: [string, Partial<ListenOptions>][] = [
    ['backlog', { backlog: -5 }],
    ['backlog', { backlog: 1.5 }],
    ['closeTimeout', { closeTimeout: -1 }],
    ['gracePeriod', { gracePeriod: -1 }],
    ['maxConnections', { maxConnections: -1 }],
    ['host', { host: '' }],
    ['noDelay', { noDelay: 'yes' as unknown as boolean }],
    ['allowHalfOpen', { allowHalfOpen: 1 as unknown as boolean }],
    ['keepAliveInitialDelay', { keepAliveInitialDelay: -1 }],
    ['listening', { listening: 42 as unknown as () => void }],
    ['events', { events: {} as unknown as () => void }],
    ['onShutdown', { onShutdown: 'bye' as unknown as () => void }],
    ['tls', { tls: 'yes' as unknown as object }],
    ['firstByteTimeout', { firstByteTimeout: -1 }],
    ['frameTimeout', { frameTimeout: 2.5 }],
    ['maxConnectionsPerAddress', { maxConnectionsPerAddress: 0 }],
    ['addressPrefix.ipv6', { addressPrefix: { ipv6: 129 } }],
    ['rate', { acceptRate: { burst: 5, rate: -1 } }],
    ['deny', { deny: ['300.0.0.1'] }],
    ['allow', { allow: '10.0.0.0/8' as unknown as string[] }],
    ['trusted', { proxyProtocol: { trusted: ['proxy.example'] } }],
    ['untrusted', { proxyProtocol: { trusted: ['10.0.0.1'], untrusted: 'ignore' as 'direct' } }],
    ['readLimit', { shaping: { readLimit: 0 } }],
    ['writeLimit', { shaping: { server: { writeLimit: -5 } } }],
  ];
  it.each(bad)('refuses a bad %s when called, before anything is bound', (argument, options) => {
    expect(() => listen({ port: 0, ...options })).toThrow(
      expect.objectContaining({ name: 'InvalidArgumentError', argument }),
    );
  });
});

describe('listen() options', () => {
  it('rejects bad options when listen is called', () => {
    expect(() => listen({ port: 0, maxConnections: -1 })).toThrow(InvalidArgumentError);
    expect(() => listen({ port: 0, gracePeriod: 1.5 })).toThrow(expect.objectContaining({ argument: 'gracePeriod' }));
    expect(() => listen({ port: 70000 })).toThrow(expect.objectContaining({ argument: 'port' }));
    expect(() => listen({ port: 1, path: '/tmp/x.sock' })).toThrow(InvalidArgumentError);
  });

  it('rejects a handshakeTimeout that is not a positive integer when listen() is called', () => {
    expect(() => listen({ port: 0, tls: { handshakeTimeout: 0 } })).toThrow(
      expect.objectContaining({ name: 'InvalidArgumentError', argument: 'tls.handshakeTimeout' }),
    );
  });

  it('fills in the defaults: half-open allowed, Nagle on, no keep-alive, 10 s grace and close timeout, no handshake, 30 s for a first byte and a frame, no admission rules, no shaping', () => {
    expect(resolveListenOptions({ port: 0 })).toEqual({
      allowHalfOpen: true,
      noDelay: false,
      keepAlive: false,
      keepAliveInitialDelay: 0,
      gracePeriod: 10_000,
      closeTimeout: DEFAULT_CLOSE_TIMEOUT,
      scheduler: asyncScheduler,
      handshakeTimeout: 0,
      firstByteTimeout: DEFAULT_FIRST_BYTE_TIMEOUT,
      frameTimeout: DEFAULT_FRAME_TIMEOUT,
      admission: undefined,
      shaping: undefined,
    });
    expect(DEFAULT_CLOSE_TIMEOUT).toBe(10_000);
    expect([DEFAULT_FIRST_BYTE_TIMEOUT, DEFAULT_FRAME_TIMEOUT]).toEqual([30_000, 30_000]);
  });

  it('gives TLS a 10 s handshake deadline unless the options give one', () => {
    expect(resolveListenOptions({ port: 0, tls: {} }).handshakeTimeout).toBe(DEFAULT_HANDSHAKE_TIMEOUT);
    expect(DEFAULT_HANDSHAKE_TIMEOUT).toBe(10_000);
    expect(resolveListenOptions({ port: 0, tls: { handshakeTimeout: 2500 } }).handshakeTimeout).toBe(2500);
  });

  it('takes a path instead of a port, and refuses an empty path or a scheduler that is not one', () => {
    expect(resolveListenOptions({ path: '/tmp/rxnet.sock' }).closeTimeout).toBe(DEFAULT_CLOSE_TIMEOUT);
    expect(() => resolveListenOptions({ path: '' })).toThrow(expect.objectContaining({ argument: 'path' }));
    const scheduler = {} as ListenOptions['scheduler'];
    expect(() => resolveListenOptions({ port: 0, scheduler })).toThrow(InvalidArgumentError);
    expect(() => resolveListenOptions({ port: 0, scheduler })).toThrow(
      expect.objectContaining({ argument: 'scheduler' }),
    );
  });
});
