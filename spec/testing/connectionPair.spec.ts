// connectionPair(): its addresses and ports, and its default scheduler. Its wire options: MemoryWire.spec.ts.
import { firstValueFrom, toArray } from 'rxjs';
import { asText, connectionPair } from '../../lib/testing';

describe('connectionPair', () => {
  it('reports memory addresses, each side seeing the other port', () => {
    const [client, server] = connectionPair();
    expect(client.remotePort).toBe(server.localPort);
    expect(server.remotePort).toBe(client.localPort);
    expect(client.remoteAddress).toBe('memory');
  });

  it('runs in real time outside TestScheduler.run', async () => {
    const [client, server] = connectionPair({ latency: 5 });
    client.end('real time');
    const chunks = await firstValueFrom(server.data$.pipe(asText(), toArray()));
    expect(chunks).toEqual(['real time']);
    server.end();
    await firstValueFrom(client.events$.pipe(toArray()));
    expect([client.closed, server.closed]).toEqual([true, true]);
  });
});
