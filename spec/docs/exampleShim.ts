// What `rxnet` is to a doc example run by spec/docs/server-examples.spec.ts: lib/ itself, with listen
// bound to 127.0.0.1 on a free port and telling the spec (on stdout) what its server does.
import { finalize } from 'rxjs';
import type { NextObserver, Observable } from 'rxjs';
import * as lib from '../../lib';
import type {
  BoundAddress,
  Connection,
  ConnectOptions,
  HubOptions,
  ListenOptions,
  RedisBackplaneOptions,
  ServerEvent,
} from '../../lib';
import { formatMarker, type ExampleMarker } from './exampleMarkers';

// Pipes are written synchronously on Linux: a marker is out before anything that follows it.
const tell = (marker: ExampleMarker) => process.stdout.write(formatMarker(marker));

function forward<T>(to: ((value: T) => void) | NextObserver<T> | undefined, value: T): void {
  if (typeof to === 'function') to(value);
  else to?.next(value);
}

/** The example's own `listen`, on 127.0.0.1:0 whatever it asked for; says where, what closes, and when it stops. */
function listen(options: ListenOptions): Observable<Connection> {
  const { listening, events } = options;
  return lib
    .listen({
      ...options,
      port: 0,
      host: '127.0.0.1',
      path: undefined,
      listening: (address: BoundAddress) => {
        if (typeof address !== 'string')
          tell({ what: 'listening', port: address.port, proxyProtocol: !!options.proxyProtocol });
        forward(listening, address);
      },
      events: (event: ServerEvent) => {
        // A TLS connection whose handshake failed was never a connection: its end is this event.
        if (event.type === 'disconnect' || event.type === 'tlsClientError') tell({ what: 'disconnect' });
        forward(events, event);
      },
    })
    .pipe(finalize(() => tell({ what: 'closed' })));
}

/** The example's upstream (a proxy's), redirected to the spec's echo server when it runs one. */
function connect(options: ConnectOptions): Observable<Connection> {
  const upstream = process.env.RXNET_EXAMPLE_UPSTREAM;
  return lib.connect(upstream ? { ...options, host: '127.0.0.1', port: Number(upstream) } : options);
}

/** The example's backplane, on the spec's redis-server. */
function redisBackplane(options: RedisBackplaneOptions = {}): lib.Backplane {
  const url = process.env.RXNET_EXAMPLE_REDIS;
  return lib.redisBackplane(url ? { ...options, url, backoff: { initialDelay: 20, maxDelay: 200 } } : options);
}

/** A hub that says who joined, so the spec knows when a member can be talked to. */
class Hub<T extends lib.Chunk = lib.Chunk> extends lib.Hub<T> {
  constructor(options?: HubOptions) {
    super(options);
    this.events$.subscribe((event) => {
      if (event.type === 'join') tell({ what: 'join', port: event.member.connection.remotePort ?? 0 });
    });
  }
}

/** `rxnet` as the examples import it. */
export const rxnet = { ...lib, listen, connect, redisBackplane, Hub };
