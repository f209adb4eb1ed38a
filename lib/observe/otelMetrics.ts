// otelMetrics(): a listen() server's events recorded as OpenTelemetry metrics (rxnet/otel; @opentelemetry/api is an optional peer).
import { metrics, ValueType } from '@opentelemetry/api';
import type { Attributes, Meter, ObservableResult } from '@opentelemetry/api';
import { tap, type MonoTypeOperatorFunction } from 'rxjs';
import type { ClientEvent } from '../core/connect';
import { InvalidArgumentError, TlsHandshakeError } from '../errors';
import { sendStats, type SendStats } from '../core/sendTo';
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
 * What {@link otelMetrics} returns: `events` for `listen({ events })`, `client` for
 * `connect({ events })`, and, inside a connection's pipeline, `countFrames` and `sendStats`.
 *
 * @example
 * ```ts
 * import { connect, decodeLines, listen, sendTo, serveEach } from 'rxnet';
 * import { otelMetrics, type OtelServerMetrics } from 'rxnet/otel';
 *
 * const recorder: OtelServerMetrics = otelMetrics();
 * listen({ port: 7000, events: recorder.events })
 *   .pipe(
 *     serveEach((conn) =>
 *       conn.data$.pipe(
 *         decodeLines({ includeDelimiter: true }),
 *         recorder.countFrames('receive'),
 *         sendTo(conn, { stats: recorder.sendStats(conn) }),
 *       ),
 *     ),
 *   )
 *   .subscribe();
 * connect({ port: 7001, host: 'upstream.internal', events: recorder.client }).subscribe();
 * ```
 */
export interface OtelServerMetrics {
  /** The server events to record: `listen({ events })`. */
  readonly events: (event: ServerEvent) => void;
  /** The client events to record: `connect({ events })` (connect and TLS handshake times, failures). */
  readonly client: (event: ClientEvent) => void;
  /**
   * An operator that counts the values passing through as frames, `receive` (decoded) or
   * `transmit` (to be encoded), into `rxnet.frames`: one addition per frame, read at collection.
   */
  countFrames<T>(direction: 'receive' | 'transmit'): MonoTypeOperatorFunction<T>;
  /**
   * A fresh `SendStats` for `sendTo(conn, { stats })` whose waits for `'drain'`, drops and queue
   * peaks are read at collection; once `connection` has closed (a server's, at its `disconnect`;
   * another's, at a later call), its counts are kept in the totals and the object is let go.
   */
  sendStats(connection: Connection): SendStats;
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
  /** How long the server's TLS handshakes took, in seconds (histogram). */
  tlsHandshake: 'rxnet.server.tls.handshake.duration',
  /** How long clients took to connect (TCP), in seconds; failures with `error.type` (histogram). */
  clientConnect: 'rxnet.client.connect.duration',
  /** How long clients' TLS handshakes took, in seconds (histogram). */
  clientTlsHandshake: 'rxnet.client.tls.handshake.duration',
  /** Frames counted by `countFrames`, by `network.io.direction` (observable counter). */
  frames: 'rxnet.frames',
  /** Times sinks waited for `'drain'` (observable counter). */
  sinkWaits: 'rxnet.sink.waits',
  /** Values sinks dropped by their overflow policy (observable counter). */
  sinkDropped: 'rxnet.sink.dropped',
  /** The longest queue, in values, the sinks of the connections open now reached (observable gauge). */
  sinkQueuePeak: 'rxnet.sink.queue.peak',
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
 * | `rxnet.server.tls.handshake.duration` | histogram, `s` | `connection` of `listen({ tls })`, `upgrade` |
 * | `rxnet.client.connect.duration` | histogram, `s`; failures with `error.type` | `client` (`connect({ events })`) |
 * | `rxnet.client.tls.handshake.duration` | histogram, `s`; failures with `error.type` | `client` |
 * | `rxnet.frames` | observable counter, `network.io.direction` | `countFrames(direction)` |
 * | `rxnet.sink.waits`, `rxnet.sink.dropped` | observable counters | `sendStats(conn)` given to `sendTo` |
 * | `rxnet.sink.queue.peak` | observable gauge, values | the same: the longest queue the sinks of open connections reached |
 *
 * A client's measurements carry `server.address` and `server.port` of where it connects (or
 * `network.transport` `unix` and the path).
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
    advice: { explicitBucketBoundaries: CONNECTION_BUCKETS },
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

  const seconds = (name: string, description: string) =>
    meter.createHistogram(name, { description, unit: 's', advice: { explicitBucketBoundaries: HANDSHAKE_BUCKETS } });
  const tlsHandshake = seconds(OTEL_METRIC_NAMES.tlsHandshake, 'How long TLS handshakes took, from accept or switch.');
  const clientConnect = seconds(OTEL_METRIC_NAMES.clientConnect, 'How long clients took to connect, or to fail.');
  const clientTls = seconds(OTEL_METRIC_NAMES.clientTlsHandshake, 'How long clients took for their TLS handshakes.');
  const observed = (name: string, description: string, unit: string) =>
    meter.createObservableCounter(name, { description, unit, valueType: ValueType.INT });
  const frames = observed(OTEL_METRIC_NAMES.frames, 'Frames counted by countFrames.', '{frame}');
  const sinkWaits = observed(OTEL_METRIC_NAMES.sinkWaits, "Times sinks waited for 'drain'.", '{wait}');
  const sinkDropped = observed(OTEL_METRIC_NAMES.sinkDropped, 'Values sinks dropped by their policy.', '{value}');
  const queuePeak = meter.createObservableGauge(OTEL_METRIC_NAMES.sinkQueuePeak, {
    description: 'The longest queue a sink reached, in values.',
    unit: '{value}',
    valueType: ValueType.INT,
  });
  const frameCounts = { receive: 0, transmit: 0 };
  frames.addCallback((result: ObservableResult) => {
    result.observe(frameCounts.receive, { ...base, 'network.io.direction': 'receive' });
    result.observe(frameCounts.transmit, { ...base, 'network.io.direction': 'transmit' });
  });
  /**
   * Sinks' stats by connection, until it closes: its `disconnect` (a server's), or a sweep when the
   * map has doubled (a client's), folds them into `sinks`' totals. Collections only read, so every
   * reader sees the same figures, and nothing waits on a reader to be let go.
   */
  const sinksOf = new Map<Connection, SendStats[]>();
  const sinks = { waits: 0, dropped: 0, sweepAt: 64 };
  const letGo = (connection: Connection) => {
    for (const stats of sinksOf.get(connection) ?? []) {
      sinks.waits += stats.waits;
      sinks.dropped += stats.dropped;
    }
    sinksOf.delete(connection);
  };
  // One batch reads the sinks for all three instruments, so a collection sees one set of figures.
  meter.addBatchObservableCallback(
    (result) => {
      let waits = sinks.waits;
      let dropped = sinks.dropped;
      let peak = 0;
      for (const list of sinksOf.values())
        for (const stats of list) {
          waits += stats.waits;
          dropped += stats.dropped;
          peak = Math.max(peak, stats.peakQueued);
        }
      result.observe(sinkWaits, waits, base);
      result.observe(sinkDropped, dropped, base);
      result.observe(queuePeak, peak, base);
    },
    [sinkWaits, sinkDropped, queuePeak],
  );

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
        if (event.handshakeMs !== undefined) tlsHandshake.record(event.handshakeMs / 1000, base);
        break;
      case 'upgrade': {
        // The plain connection's bytes so far stay counted; the TLS one's count from here.
        const started = open.get(event.previous);
        if (started === undefined) break;
        open.delete(event.previous);
        closedRead += event.previous.bytesRead ?? 0;
        closedWritten += event.previous.bytesWritten ?? 0;
        open.set(event.connection, started);
        tlsHandshake.record(event.handshakeMs / 1000, base);
        const list = sinksOf.get(event.previous);
        if (list !== undefined) {
          sinksOf.delete(event.previous);
          sinksOf.set(event.connection, list);
        }
        break;
      }
      case 'disconnect': {
        letGo(event.connection);
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
  const client = (event: ClientEvent): void => {
    const attributes = { ...targetAttributes(event.target), ...options.attributes };
    if (event.type === 'connect') {
      clientConnect.record(event.connectMs / 1000, attributes);
      if (event.handshakeMs !== undefined) clientTls.record(event.handshakeMs / 1000, attributes);
      return;
    }
    // A handshake's failure by OpenSSL's reason; others by Node's or rxnet's code, else by class.
    const error = event.error as { code?: unknown; name?: unknown } | undefined;
    const type =
      error instanceof TlsHandshakeError
        ? error.reason
        : typeof error?.code === 'string'
          ? error.code
          : typeof error?.name === 'string'
            ? error.name
            : 'unknown';
    const failed = { ...attributes, 'error.type': type };
    if (event.connectMs === undefined) clientConnect.record(event.ms / 1000, failed);
    else {
      // Connected, then the handshake failed: the connect counts as made.
      clientConnect.record(event.connectMs / 1000, attributes);
      clientTls.record((event.ms - event.connectMs) / 1000, failed);
    }
  };
  return {
    events,
    client,
    countFrames: <T>(direction: 'receive' | 'transmit'): MonoTypeOperatorFunction<T> => {
      if (direction !== 'receive' && direction !== 'transmit') {
        throw new InvalidArgumentError('direction', `expected 'receive' or 'transmit', got ${String(direction)}`);
      }
      return tap<T>(() => frameCounts[direction]++);
    },
    sendStats: (connection: Connection): SendStats => {
      if (sinksOf.size >= sinks.sweepAt) {
        for (const known of [...sinksOf.keys()]) if (known.closed) letGo(known);
        sinks.sweepAt = Math.max(64, 2 * sinksOf.size);
      }
      const stats = sendStats();
      const list = sinksOf.get(connection);
      if (list === undefined) sinksOf.set(connection, [stats]);
      else list.push(stats);
      return stats;
    },
  };
}

/**
 * Bucket bounds (s) of the connect and handshake histograms: those the semantic conventions advise
 * for durations (the SDK's default bounds are for milliseconds, and would put every loopback
 * handshake in one bucket).
 */
const HANDSHAKE_BUCKETS = [0.005, 0.01, 0.025, 0.05, 0.075, 0.1, 0.25, 0.5, 0.75, 1, 2.5, 5, 7.5, 10];

/** Bucket bounds (s) of connection durations: the same, then on to an hour, since connections live long. */
const CONNECTION_BUCKETS = [...HANDSHAKE_BUCKETS, 30, 60, 300, 600, 1800, 3600];

/** The conventions' attributes for a client's `target`: `host:port` (an IPv6 address bare before its port), or a socket path. */
function targetAttributes(target: string): Attributes {
  const colon = target.lastIndexOf(':');
  const port = colon > 0 ? Number(target.slice(colon + 1)) : NaN;
  // Host names and addresses hold no '/': a target with one is a socket path, whatever follows its last ':'.
  if (!Number.isInteger(port) || target.includes('/')) return { 'network.transport': 'unix', 'server.address': target };
  return { 'network.transport': 'tcp', 'server.address': target.slice(0, colon), 'server.port': port };
}
