// otelMetrics(): a listen() server's events recorded as OpenTelemetry metrics (rxnet/otel; @opentelemetry/api is an optional peer).
import { metrics, ValueType } from '@opentelemetry/api';
import type { Attributes, Meter, ObservableResult } from '@opentelemetry/api';
import type { ServerEvent } from '../core/ServerEvent';
import type { Connection } from '../types';

/**
 * Options of {@link otelMetrics}.
 *
 * @example
 * ```ts
 * import { metrics } from '@opentelemetry/api';
 * import type { OtelMetricsOptions } from 'rxnet/otel';
 *
 * const options: OtelMetricsOptions = { meter: metrics.getMeter('chat'), attributes: { 'service.role': 'edge' } };
 * ```
 */
export interface OtelMetricsOptions {
  /** The meter to record with; `metrics.getMeter('rxnet')` of the global provider by default. */
  readonly meter?: Meter;
  /** Attributes added to every measurement (beside `network.transport`, `server.address`, `server.port`). */
  readonly attributes?: Attributes;
  /** The clock, in ms (`Date.now` by default): a test gives its own. */
  readonly now?: () => number;
}

/**
 * What {@link otelMetrics} returns: give `events` to `listen({ events })`.
 *
 * @example
 * ```ts
 * import { listen } from 'rxnet';
 * import { otelMetrics, type OtelServerMetrics } from 'rxnet/otel';
 *
 * const recorder: OtelServerMetrics = otelMetrics();
 * listen({ port: 7000, events: recorder.events }).subscribe();
 * ```
 */
export interface OtelServerMetrics {
  /** The server events to record: `listen({ events })`. */
  readonly events: (event: ServerEvent) => void;
}

/**
 * The instruments' names, in the `rxnet.` namespace (OpenTelemetry's conventions name no general
 * connection metrics); their attributes are the conventions' own.
 *
 * @example
 * ```ts
 * import { OTEL_METRIC_NAMES } from 'rxnet/otel';
 *
 * // A Prometheus query's metric name: dots become underscores, and the unit is appended.
 * const promName = `${OTEL_METRIC_NAMES.duration.replace(/\./g, '_')}_seconds`;
 * ```
 */
export const OTEL_METRIC_NAMES = {
  /** Connections open now (up-down counter). */
  active: 'rxnet.server.active_connections',
  /** How long connections were open, in seconds (histogram). */
  duration: 'rxnet.server.connection.duration',
  /** Bytes received and sent, by `network.io.direction` (observable counter). */
  io: 'rxnet.server.io',
  /** Connections accepted (counter). */
  accepted: 'rxnet.server.connections',
  /** Connections refused, by `rxnet.drop.reason` (counter). */
  dropped: 'rxnet.server.dropped_connections',
  /** Connections closed at a read deadline, by `rxnet.deadline` (counter). */
  deadlines: 'rxnet.server.deadlines',
  /** TLS handshakes that failed, by `error.type` (counter). */
  tlsErrors: 'rxnet.server.tls.handshake_errors',
} as const;

/**
 * Records a `listen()` server's events as OpenTelemetry metrics, with the semantic conventions'
 * attributes (`network.transport` `tcp` or `unix`, `server.address`, `server.port`, as the
 * `listening` event tells them):
 *
 * | instrument | kind, unit | from |
 * | --- | --- | --- |
 * | `rxnet.server.active_connections` | up-down counter, `{connection}` | `connection`, `disconnect` |
 * | `rxnet.server.connection.duration` | histogram, `s` | each connection, at its `disconnect` |
 * | `rxnet.server.io` | observable counter, `By`, `network.io.direction` `receive`/`transmit` | bytes of closed and open connections, read when collected |
 * | `rxnet.server.connections` | counter, `{connection}` | `connection` |
 * | `rxnet.server.dropped_connections` | counter, `rxnet.drop.reason` | `drop` (`max-connections`, `denied`, ...) |
 * | `rxnet.server.deadlines` | counter, `rxnet.deadline` | `deadline` (`first-byte`, `frame`) |
 * | `rxnet.server.tls.handshake_errors` | counter, `error.type` | `tlsClientError` |
 *
 * It adds nothing to a server that does not give it its events: no listener, no field per
 * connection. Given them, it keeps the open connections in a set (for the byte counts read at
 * collection) and each one's start time.
 *
 * @example
 * ```ts
 * import { listen, sendTo, serveEach } from 'rxnet';
 * import { otelMetrics } from 'rxnet/otel';
 *
 * // With an OpenTelemetry SDK (a MeterProvider and an exporter) registered globally.
 * listen({ port: 7000, events: otelMetrics().events })
 *   .pipe(serveEach((conn) => conn.data$.pipe(sendTo(conn))))
 *   .subscribe();
 * ```
 */
export function otelMetrics(options: OtelMetricsOptions = {}): OtelServerMetrics {
  const meter = options.meter ?? metrics.getMeter('rxnet');
  const now = options.now ?? Date.now;
  let base: Attributes = { 'network.transport': 'tcp', ...options.attributes };
  const active = meter.createUpDownCounter(OTEL_METRIC_NAMES.active, {
    description: 'Connections open now.',
    unit: '{connection}',
    valueType: ValueType.INT,
  });
  const duration = meter.createHistogram(OTEL_METRIC_NAMES.duration, {
    description: 'How long connections were open, from accept to close.',
    unit: 's',
  });
  const counter = (name: string, description: string, unit = '{connection}') =>
    meter.createCounter(name, { description, unit, valueType: ValueType.INT });
  const accepted = counter(OTEL_METRIC_NAMES.accepted, 'Connections accepted.');
  const dropped = counter(OTEL_METRIC_NAMES.dropped, 'Connections refused, by reason.');
  const deadlines = counter(OTEL_METRIC_NAMES.deadlines, 'Connections closed at a read deadline, by deadline.');
  const tlsErrors = counter(OTEL_METRIC_NAMES.tlsErrors, 'TLS handshakes that failed or were late.', '{handshake}');
  const io = meter.createObservableCounter(OTEL_METRIC_NAMES.io, {
    description: 'Bytes received and sent by the connections.',
    unit: 'By',
    valueType: ValueType.INT,
  });

  /** The open connections and when each was accepted (an upgraded one keeps its plain one's time). */
  const open = new Map<Connection, number>();
  let closedRead = 0;
  let closedWritten = 0;
  io.addCallback((result: ObservableResult) => {
    let read = closedRead;
    let written = closedWritten;
    for (const connection of open.keys()) {
      read += connection.bytesRead ?? 0;
      written += connection.bytesWritten ?? 0;
    }
    result.observe(read, { ...base, 'network.io.direction': 'receive' });
    result.observe(written, { ...base, 'network.io.direction': 'transmit' });
  });

  const events = (event: ServerEvent): void => {
    switch (event.type) {
      case 'listening': {
        const address = event.address;
        base =
          typeof address === 'string'
            ? { ...base, 'network.transport': 'unix', 'server.address': address }
            : { ...base, 'server.address': address.address, 'server.port': address.port };
        break;
      }
      case 'connection':
        open.set(event.connection, now());
        active.add(1, base);
        accepted.add(1, base);
        break;
      case 'upgrade': {
        // The plain connection's bytes so far stay counted; the TLS one's count from here.
        const started = open.get(event.previous);
        if (started === undefined) break;
        open.delete(event.previous);
        closedRead += event.previous.bytesRead ?? 0;
        closedWritten += event.previous.bytesWritten ?? 0;
        open.set(event.connection, started);
        break;
      }
      case 'disconnect': {
        const started = open.get(event.connection);
        if (started === undefined) break;
        open.delete(event.connection);
        closedRead += event.connection.bytesRead ?? 0;
        closedWritten += event.connection.bytesWritten ?? 0;
        active.add(-1, base);
        duration.record((now() - started) / 1000, base);
        break;
      }
      case 'drop':
        dropped.add(1, { ...base, 'rxnet.drop.reason': event.reason });
        break;
      case 'deadline':
        deadlines.add(1, { ...base, 'rxnet.deadline': event.deadline });
        break;
      case 'tlsClientError':
        tlsErrors.add(1, { ...base, 'error.type': (event.error as NodeJS.ErrnoException).code ?? 'unknown' });
        break;
      default:
        break;
    }
  };
  return { events };
}
