// rxnet/otel against OpenTelemetry's own SDK (an in-memory metric reader): raw clients connect, send known bytes and
// close; the instruments count them, with the semantic conventions' attributes, and refusals by reason.
import * as http from 'http';
import * as net from 'net';
import { PrometheusExporter } from '@opentelemetry/exporter-prometheus';
import {
  MeterProvider,
  MetricReader,
  type DataPoint,
  type Histogram,
  type MetricData,
} from '@opentelemetry/sdk-metrics';
import { ReplaySubject, firstValueFrom, mergeMap, of } from 'rxjs';
import { connect } from '../../lib/core/connect';
import { InvalidArgumentError, TlsHandshakeError } from '../../lib/errors';
import type { Connection } from '../../lib/types';
import { makeTestCerts } from '../support/certs';
import { freePort } from '../support/proxies';
import { listen } from '../../lib/core/listen';
import { sendTo } from '../../lib/core/sendTo';
import { serveEach } from '../../lib/core/serveEach';
import { OTEL_METRIC_NAMES, otelMetrics } from '../../lib/observe/otelMetrics';
import { closed, expectTcpHandlesBackTo, tcpHandleCount } from '../support/net';

/** A reader the test collects from when it likes. */
class TestReader extends MetricReader {
  protected async onShutdown(): Promise<void> {}
  protected async onForceFlush(): Promise<void> {}
}

async function collected(reader: TestReader): Promise<Map<string, MetricData>> {
  const { resourceMetrics } = await reader.collect();
  const byName = new Map<string, MetricData>();
  for (const scope of resourceMetrics.scopeMetrics)
    for (const metric of scope.metrics) byName.set(metric.descriptor.name, metric);
  return byName;
}

/** Connects from `localAddress`, sends `bytes`, reads the echo, and closes. */
function client(port: number, bytes: Buffer, localAddress = '127.0.0.1'): Promise<void> {
  return new Promise((resolve, reject) => {
    const socket = net.connect({ port, host: '127.0.0.1', localAddress });
    let back = 0;
    socket.on('error', reject);
    socket.on('connect', () => socket.write(bytes));
    socket.on('data', (chunk: Buffer) => {
      back += chunk.length;
      if (back >= bytes.length) socket.end();
    });
    socket.on('close', () => resolve());
  });
}

describe('otelMetrics (rxnet/otel)', () => {
  it('counts connections, their duration and bytes, and refusals by reason, as the SDK reads them', async () => {
    const baseline = tcpHandleCount();
    const reader = new TestReader();
    const provider = new MeterProvider({ readers: [reader] });
    const recorder = otelMetrics({ meter: provider.getMeter('test'), attributes: { 'service.name': 'spec' } });
    const port$ = new ReplaySubject<number>(1);
    const disconnects = new ReplaySubject<void>();
    const subscription = listen({
      port: 0,
      host: '127.0.0.1',
      deny: ['127.0.0.2'],
      listening: (a) => typeof a !== 'string' && port$.next(a.port),
      events: (event) => {
        recorder.events(event);
        if (event.type === 'disconnect') disconnects.next();
      },
    })
      .pipe(serveEach((conn) => conn.data$.pipe(sendTo(conn))))
      .subscribe();
    try {
      const port = await firstValueFrom(port$);
      const sizes = [10, 200, 3000, 40_000, 5];
      await Promise.all(sizes.map((size) => client(port, Buffer.alloc(size, 7))));
      // A denied address: refused at accept.
      const refused = net.connect({ port, host: '127.0.0.1', localAddress: '127.0.0.2' });
      refused.on('error', () => undefined);
      await closed(refused);
      let seen = 0;
      await new Promise<void>((resolve) => {
        const sub = disconnects.subscribe(() => {
          if (++seen === sizes.length) {
            resolve();
            queueMicrotask(() => sub.unsubscribe());
          }
        });
      });

      const metrics = await collected(reader);
      const total = sizes.reduce((a, b) => a + b, 0);
      const point = (name: string) => metrics.get(name)!.dataPoints as DataPoint<number>[];
      const attributes = {
        'network.transport': 'tcp',
        'server.address': '127.0.0.1',
        'server.port': port,
        'service.name': 'spec',
      };

      expect(point(OTEL_METRIC_NAMES.active)).toMatchObject([{ value: 0, attributes }]);
      expect(point(OTEL_METRIC_NAMES.accepted)).toMatchObject([{ value: sizes.length, attributes }]);
      const durations = metrics.get(OTEL_METRIC_NAMES.duration)!.dataPoints as DataPoint<Histogram>[];
      expect(durations).toHaveLength(1);
      expect(durations[0].value.count).toBe(sizes.length);
      expect(durations[0].value.sum).toBeGreaterThan(0);
      expect(metrics.get(OTEL_METRIC_NAMES.duration)!.descriptor.unit).toBe('s');
      const io = point(OTEL_METRIC_NAMES.io);
      expect(io.find((p) => p.attributes['network.io.direction'] === 'receive')?.value).toBe(total);
      expect(io.find((p) => p.attributes['network.io.direction'] === 'transmit')?.value).toBe(total);
      expect(point(OTEL_METRIC_NAMES.dropped)).toMatchObject([
        { value: 1, attributes: { ...attributes, 'rxnet.drop.reason': 'denied' } },
      ]);
    } finally {
      subscription.unsubscribe();
      await provider.shutdown();
    }
    await expectTcpHandlesBackTo(baseline);
  });

  it('counts the bytes of connections still open when it is read, and tells a unix socket server as unix', async () => {
    const reader = new TestReader();
    const provider = new MeterProvider({ readers: [reader] });
    let now = 1000;
    const recorder = otelMetrics({ meter: provider.getMeter('test'), now: () => now });
    const conn = { bytesRead: 100, bytesWritten: 40 } as never;
    recorder.events({ type: 'listening', address: '/tmp/rxnet.sock' });
    recorder.events({ type: 'connection', connection: conn, open: 1 });
    let metrics = await collected(reader);
    const io = () => metrics.get(OTEL_METRIC_NAMES.io)!.dataPoints as DataPoint<number>[];
    expect(io().map((p) => [p.attributes['network.io.direction'], p.value])).toEqual([
      ['receive', 100],
      ['transmit', 40],
    ]);
    expect(io()[0].attributes).toMatchObject({ 'network.transport': 'unix', 'server.address': '/tmp/rxnet.sock' });
    now = 3500;
    recorder.events({ type: 'disconnect', connection: conn, hadError: false, open: 0 });
    metrics = await collected(reader);
    const duration = metrics.get(OTEL_METRIC_NAMES.duration)!.dataPoints as DataPoint<Histogram>[];
    expect(duration[0].value).toMatchObject({ count: 1, sum: 2.5 });
    // Counted once: closed connections' bytes are kept, not read again.
    expect(io().map((p) => p.value)).toEqual([100, 40]);
    await provider.shutdown();
  });

  it('serves the same figures to Prometheus: the exporter text parses and carries them', async () => {
    const exporter = new PrometheusExporter({ preventServerStart: true });
    const provider = new MeterProvider({ readers: [exporter] });
    const recorder = otelMetrics({ meter: provider.getMeter('test') });
    // The exporter's handler on a server of the test's own, on a free port.
    const scrape = http.createServer((request, response) => exporter.getMetricsRequestHandler(request, response));
    await new Promise<void>((resolve) => scrape.listen(0, '127.0.0.1', resolve));
    const port$ = new ReplaySubject<number>(1);
    let disconnects = 0;
    const subscription = listen({
      port: 0,
      host: '127.0.0.1',
      listening: (a) => typeof a !== 'string' && port$.next(a.port),
      events: (event) => {
        recorder.events(event);
        if (event.type === 'disconnect') disconnects++;
      },
    })
      .pipe(serveEach((conn) => conn.data$.pipe(sendTo(conn))))
      .subscribe();
    try {
      const port = await firstValueFrom(port$);
      await Promise.all([client(port, Buffer.alloc(1000, 1)), client(port, Buffer.alloc(234, 2))]);
      while (disconnects < 2) await new Promise((resolve) => setImmediate(resolve));
      const text = await new Promise<string>((resolve, reject) => {
        http
          .get({ host: '127.0.0.1', port: (scrape.address() as net.AddressInfo).port, path: '/metrics' }, (res) => {
            let body = '';
            res.setEncoding('utf8');
            res.on('data', (chunk: string) => (body += chunk));
            res.on('end', () => resolve(body));
          })
          .on('error', reject);
      });
      // The text format: "# HELP"/"# TYPE" lines, then `name{label="value",...} number` samples.
      const samples = text
        .split('\n')
        .filter((line) => line !== '' && !line.startsWith('#'))
        .map((line) => {
          const m = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(\{(.*)\})? (\S+)/.exec(line);
          if (m === null) throw new Error(`not a sample line: ${line}`);
          const labels = Object.fromEntries([...(m[3] ?? '').matchAll(/(\w+)="([^"]*)"/g)].map((l) => [l[1], l[2]]));
          return { name: m[1], labels, value: Number(m[4]) };
        });
      const one = (name: RegExp, labels: Record<string, string> = {}) =>
        samples.filter((x) => name.test(x.name) && Object.entries(labels).every(([k, v]) => x.labels[k] === v));
      expect(one(/^rxnet_server_connections/).map((x) => x.value)).toEqual([2]);
      expect(one(/^rxnet_server_active_connections/).map((x) => x.value)).toEqual([0]);
      expect(one(/^rxnet_server_connection_duration.*_count$/).map((x) => x.value)).toEqual([2]);
      expect(one(/^rxnet_server_io/, { network_io_direction: 'receive' }).map((x) => x.value)).toEqual([1234]);
      expect(one(/^rxnet_server_io/, { network_io_direction: 'transmit' }).map((x) => x.value)).toEqual([1234]);
      expect(one(/^rxnet_server_connections/)[0].labels).toMatchObject({
        network_transport: 'tcp',
        server_address: '127.0.0.1',
        server_port: String(port),
      });
    } finally {
      subscription.unsubscribe();
      await new Promise((resolve) => scrape.close(resolve));
      await provider.shutdown();
    }
  });
});

describe('otelMetrics: TLS handshakes, clients, frames and sinks', () => {
  const certs = makeTestCerts();

  it('records the server and client TLS handshake times, the client connect time, and client failures by error type', async () => {
    const baseline = tcpHandleCount();
    const reader = new TestReader();
    const provider = new MeterProvider({ readers: [reader] });
    const recorder = otelMetrics({ meter: provider.getMeter('test') });
    const port$ = new ReplaySubject<number>(1);
    const subscription = listen({
      port: 0,
      host: '127.0.0.1',
      tls: { key: certs.key, cert: certs.cert },
      listening: (a) => typeof a !== 'string' && port$.next(a.port),
      events: recorder.events,
    })
      .pipe(serveEach((conn) => conn.data$.pipe(sendTo(conn))))
      .subscribe();
    try {
      const port = await firstValueFrom(port$);
      // One good client, which has its line echoed (with TLS 1.3 the client is done before the server:
      // the echo says the server finished too), one that does not trust the server, one refused.
      const echoed = await firstValueFrom(
        connect({
          port,
          host: '127.0.0.1',
          tls: { ca: certs.ca, servername: 'localhost' },
          events: recorder.client,
        }).pipe(
          mergeMap((conn) => {
            conn.write('ping\n');
            return conn.data$;
          }),
        ),
      );
      expect(echoed.toString()).toBe('ping\n');
      await expect(
        firstValueFrom(
          connect({
            port,
            host: '127.0.0.1',
            tls: { ca: certs.otherCa, servername: 'localhost' },
            events: recorder.client,
          }),
        ),
      ).rejects.toBeInstanceOf(TlsHandshakeError);
      const closedPort = await freePort();
      await expect(
        firstValueFrom(connect({ port: closedPort, host: '127.0.0.1', events: recorder.client })),
      ).rejects.toMatchObject({
        code: 'ECONNREFUSED',
      });

      const metrics = await collected(reader);
      const histograms = (name: string) => metrics.get(name)!.dataPoints as DataPoint<Histogram>[];
      // The server saw one handshake finish (the untrusting client gave up after it, on its side).
      const server = histograms(OTEL_METRIC_NAMES.tlsHandshake);
      expect(server.reduce((n, p) => n + p.value.count, 0)).toBeGreaterThanOrEqual(1);
      expect(metrics.get(OTEL_METRIC_NAMES.tlsHandshake)!.descriptor.unit).toBe('s');
      // Buckets in seconds, as the conventions advise: a loopback handshake lands in the lowest ones, not all in (0, 5].
      expect(server[0].value.buckets.boundaries.slice(0, 3)).toEqual([0.005, 0.01, 0.025]);
      const target = { 'network.transport': 'tcp', 'server.address': '127.0.0.1', 'server.port': port };
      const connects = histograms(OTEL_METRIC_NAMES.clientConnect);
      expect(connects.find((p) => p.attributes['error.type'] === undefined)).toMatchObject({
        attributes: target,
        value: { count: 2 },
      });
      expect(connects.find((p) => p.attributes['error.type'] === 'ECONNREFUSED')).toMatchObject({
        attributes: { 'server.port': closedPort },
        value: { count: 1 },
      });
      const handshakes = histograms(OTEL_METRIC_NAMES.clientTlsHandshake);
      expect(handshakes.find((p) => p.attributes['error.type'] === undefined)).toMatchObject({
        attributes: target,
        value: { count: 1 },
      });
      expect(handshakes.find((p) => p.attributes['error.type'] !== undefined)).toMatchObject({
        attributes: { ...target, 'error.type': 'UNABLE_TO_VERIFY_LEAF_SIGNATURE' },
        value: { count: 1 },
      });
    } finally {
      subscription.unsubscribe();
      await provider.shutdown();
    }
    await expectTcpHandlesBackTo(baseline);
  });

  it('counts frames by direction and reads sinks for waits, drops and queue peaks, the same for every reader, letting closed ones go into the totals', async () => {
    // Two readers, as with OTLP and Prometheus side by side: a collection must not change what the other sees.
    const reader = new TestReader();
    const other = new TestReader();
    const provider = new MeterProvider({ readers: [reader, other] });
    const recorder = otelMetrics({ meter: provider.getMeter('test') });
    const received: string[] = [];
    of('a', 'b', 'c')
      .pipe(recorder.countFrames('receive'))
      .subscribe((x) => received.push(x));
    of('x').pipe(recorder.countFrames('transmit')).subscribe();
    expect(received).toEqual(['a', 'b', 'c']);
    expect(() => recorder.countFrames('sideways' as 'receive')).toThrow(InvalidArgumentError);

    const open = { closed: false } as Connection;
    const gone = { closed: false } as Connection;
    const first = recorder.sendStats(open);
    const second = recorder.sendStats(gone);
    Object.assign(first, { waits: 2, dropped: 1, peakQueued: 7 });
    Object.assign(second, { waits: 3, dropped: 0, peakQueued: 12 });
    (gone as { closed: boolean }).closed = true;

    const read = async (from = reader) => {
      const metrics = await collected(from);
      const value = (name: string, direction?: string) =>
        (metrics.get(name)!.dataPoints as DataPoint<number>[]).find(
          (p) => direction === undefined || p.attributes['network.io.direction'] === direction,
        )!.value;
      return {
        receive: value(OTEL_METRIC_NAMES.frames, 'receive'),
        transmit: value(OTEL_METRIC_NAMES.frames, 'transmit'),
        waits: value(OTEL_METRIC_NAMES.sinkWaits),
        dropped: value(OTEL_METRIC_NAMES.sinkDropped),
        peak: value(OTEL_METRIC_NAMES.sinkQueuePeak),
      };
    };
    const figures = { receive: 3, transmit: 1, waits: 5, dropped: 1, peak: 12 };
    expect(await read()).toEqual(figures);
    expect(await read(other)).toEqual(figures);
    expect(await read()).toEqual(figures);
    // The server tells the connection went: its sink's counts stay in the totals, its peak is no longer current.
    recorder.events({ type: 'disconnect', connection: gone, hadError: false, open: 1 });
    first.waits = 4;
    expect(await read()).toEqual({ ...figures, waits: 7, peak: 7 });
    expect(await read(other)).toEqual({ ...figures, waits: 7, peak: 7 });

    // Connections no server tells of (a client's) are let go by a sweep once the map has doubled
    // (first at 64 connections, then at twice what a sweep left).
    const client = () => ({ closed: false }) as Connection;
    const early = Array.from({ length: 100 }, client);
    for (const c of early) Object.assign(recorder.sendStats(c), { waits: 1, peakQueued: 99 });
    expect(await read()).toMatchObject({ waits: 7 + 100, peak: 99 });
    for (const c of early) (c as { closed: boolean }).closed = true;
    for (const c of Array.from({ length: 30 }, client)) Object.assign(recorder.sendStats(c), { waits: 1 });
    // Swept at 128: the closed ones' waits are in the totals, their peaks no longer count.
    expect(await read()).toMatchObject({ waits: 7 + 100 + 30, peak: 7 });
    await provider.shutdown();
  });
});
