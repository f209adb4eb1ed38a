// reconnectingClient() on real sockets: it rides through a server restart, and what was written while it was down arrives.
import * as net from 'net';
import { filter, firstValueFrom } from 'rxjs';
import { reconnectingClient } from '../../lib/client/reconnectingClient';
import { expectTcpHandlesBackTo, tcpHandleCount } from '../support/net';

/** A plain net server on `port` (0: any) recording what each connection sent, one string per connection. */
async function recorder(
  port = 0,
): Promise<{ server: net.Server; port: number; received: string[]; sockets: net.Socket[] }> {
  const received: string[] = [];
  const sockets: net.Socket[] = [];
  const server = net.createServer((socket) => {
    const index = received.push('') - 1;
    sockets.push(socket);
    socket.on('data', (chunk) => (received[index] += chunk.toString()));
    socket.on('error', () => undefined);
  });
  await new Promise<void>((resolve) => server.listen(port, '127.0.0.1', resolve));
  return { server, port: (server.address() as net.AddressInfo).port, received, sockets };
}

async function until(condition: () => boolean): Promise<void> {
  while (!condition()) await new Promise((resolve) => setImmediate(resolve));
}

it('rides through a server restart: writes made while the server was down arrive after it is back', async () => {
  const baseline = tcpHandleCount();
  const first = await recorder();
  const client = reconnectingClient({
    connect: { host: '127.0.0.1', port: first.port },
    backoff: { initialDelay: 20, maxDelay: 100, jitter: 0 },
  });
  // Reading each connection, as a client does: that is how the server's close is seen.
  client.connection$.subscribe((conn) => conn.data$.subscribe({ error: () => undefined }));
  try {
    await firstValueFrom(client.state$.pipe(filter((s) => s === 'connected')));
    expect(client.write('before\n')).toBe(true);
    await until(() => first.received.join('') === 'before\n');

    // The server goes away.
    await new Promise<void>((resolve) => {
      first.server.close(() => resolve());
      for (const socket of first.sockets) socket.destroy();
    });
    await firstValueFrom(client.state$.pipe(filter((s) => s === 'backing-off')));
    expect(client.write('while down 1\n')).toBe(false);
    expect(client.write('while down 2\n')).toBe(false);
    expect(client.queued).toBe(2);

    // It comes back on the same port: the client reconnects and writes what it kept, in order.
    const second = await recorder(first.port);
    try {
      await until(() => second.received.join('') === 'while down 1\nwhile down 2\n');
      expect(client.state).toBe('connected');
      expect(client.queued).toBe(0);
    } finally {
      client.close();
      await new Promise<void>((resolve) => {
        second.server.close(() => resolve());
        for (const socket of second.sockets) socket.destroy();
      });
    }
  } finally {
    client.close();
  }
  await expectTcpHandlesBackTo(baseline);
});
