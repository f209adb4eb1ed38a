// connect({ events }): the times and failures a client is told, over real loopback sockets, plain and TLS.
import * as net from 'net';
import * as tls from 'tls';
import { VirtualTimeScheduler, firstValueFrom, mergeMap } from 'rxjs';
import { connect, type ClientEvent } from '../../lib/core/connect';
import { ConnectTimeoutError, InvalidArgumentError, TlsHandshakeError } from '../../lib/errors';
import { makeTestCerts } from '../support/certs';
import { freePort } from '../support/proxies';
import { expectTcpHandlesBackTo, tcpHandleCount } from '../support/net';

/** A plain or TLS echo server on a free loopback port. */
async function echoServer(secure?: { key: Buffer; cert: Buffer }): Promise<{ port: number; close(): Promise<void> }> {
  const sockets = new Set<net.Socket>();
  const onSocket = (socket: net.Socket) => {
    sockets.add(socket);
    socket.on('error', () => undefined).on('close', () => sockets.delete(socket));
    socket.pipe(socket);
  };
  const server = secure ? tls.createServer(secure, onSocket) : net.createServer(onSocket);
  if (secure) server.on('tlsClientError', () => undefined);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    port: (server.address() as net.AddressInfo).port,
    close: async () => {
      for (const socket of sockets) socket.destroy();
      await new Promise((resolve) => server.close(resolve));
    },
  };
}

/** Connects with `events`, writes a line, and resolves with its echo and what `events` was told. */
async function echoOnce(options: Parameters<typeof connect>[0]): Promise<{ echo: string; told: ClientEvent[] }> {
  const told: ClientEvent[] = [];
  const chunk = await firstValueFrom(
    connect({ ...options, events: (event) => told.push(event) }).pipe(
      mergeMap((conn) => {
        conn.write('hi\n');
        return conn.data$;
      }),
    ),
  );
  return { echo: chunk.toString(), told };
}

describe('connect({ events })', () => {
  const certs = makeTestCerts();

  it('tells a plain connect with its time and no handshake, before the connection is emitted', async () => {
    const baseline = tcpHandleCount();
    const server = await echoServer();
    try {
      const { echo, told } = await echoOnce({ port: server.port, host: '127.0.0.1' });
      expect(echo).toBe('hi\n');
      expect(told).toEqual([
        {
          type: 'connect',
          connection: expect.anything(),
          connectMs: expect.any(Number),
          handshakeMs: undefined,
          target: `127.0.0.1:${server.port}`,
        },
      ]);
      expect((told[0] as { connectMs: number }).connectMs).toBeGreaterThanOrEqual(0);
    } finally {
      await server.close();
    }
    await expectTcpHandlesBackTo(baseline);
  });

  it('tells a TLS connect with the TCP and the handshake times apart', async () => {
    const server = await echoServer(certs);
    try {
      const { echo, told } = await echoOnce({ port: server.port, host: '127.0.0.1', tls: { ca: certs.ca } });
      expect(echo).toBe('hi\n');
      expect(told).toEqual([
        expect.objectContaining({ type: 'connect', connectMs: expect.any(Number), handshakeMs: expect.any(Number) }),
      ]);
    } finally {
      await server.close();
    }
  });

  it('tells a refused connect without a TCP time, and a failed handshake with one, then errors as before', async () => {
    const server = await echoServer(certs);
    const closedPort = await freePort();
    try {
      const told: ClientEvent[] = [];
      const events = (event: ClientEvent) => told.push(event);
      const refused = firstValueFrom(connect({ port: closedPort, host: '127.0.0.1', events }));
      await expect(refused).rejects.toMatchObject({ code: 'ECONNREFUSED' });
      const untrusted = firstValueFrom(
        connect({ port: server.port, host: '127.0.0.1', tls: { ca: certs.otherCa }, events }),
      );
      await expect(untrusted).rejects.toBeInstanceOf(TlsHandshakeError);
      expect(told).toEqual([
        {
          type: 'connectError',
          error: expect.objectContaining({ code: 'ECONNREFUSED' }),
          ms: expect.any(Number),
          connectMs: undefined,
          target: `127.0.0.1:${closedPort}`,
        },
        {
          type: 'connectError',
          error: expect.any(TlsHandshakeError),
          ms: expect.any(Number),
          connectMs: expect.any(Number),
          target: `127.0.0.1:${server.port}`,
        },
      ]);
      const [, failed] = told as { ms: number; connectMs: number }[];
      expect(failed.ms).toBeGreaterThanOrEqual(failed.connectMs);
    } finally {
      await server.close();
    }
  });

  it('tells a connect timeout on the connect scheduler, with the time it waited', async () => {
    // A listener whose backlog is never accepted would still complete the TCP handshake; a
    // connect that never finishes is made by unsubscribing from a virtual-time timeout first.
    const scheduler = new VirtualTimeScheduler();
    const server = await echoServer();
    const told: ClientEvent[] = [];
    try {
      const errors: unknown[] = [];
      const subscription = connect({
        port: server.port,
        host: '127.0.0.1',
        timeout: 500,
        scheduler,
        events: (event) => told.push(event),
      }).subscribe({ error: (error) => errors.push(error) });
      scheduler.flush(); // the timeout fires at virtual 500 ms, before the socket connects
      subscription.unsubscribe();
      expect(errors).toEqual([expect.any(ConnectTimeoutError)]);
      expect(told).toEqual([expect.objectContaining({ type: 'connectError', ms: 500, connectMs: undefined })]);
    } finally {
      await server.close();
    }
  });

  it('errors with what `events` threw, and destroys the connection it was about to emit', async () => {
    const server = await echoServer();
    // The listening handle is counted; the connection's two ends are not, once it is gone.
    const listening = tcpHandleCount();
    const boom = new Error('boom');
    try {
      await expect(
        firstValueFrom(
          connect({
            port: server.port,
            host: '127.0.0.1',
            events: () => {
              throw boom;
            },
          }),
        ),
      ).rejects.toBe(boom);
      // Destroyed: its socket is gone, and the server's end saw it close (the server closes none itself).
      await expectTcpHandlesBackTo(listening);
    } finally {
      await server.close();
    }
  });

  it('rejects an `events` that is not a function when created', () => {
    expect(() => connect({ port: 80, events: 'log' as never })).toThrow(InvalidArgumentError);
  });
});
