// connectionPair(): its options (checked when called), its addresses and ports, and its default scheduler.
import { firstValueFrom, toArray } from 'rxjs';
import { InvalidArgumentError } from '../../lib/errors';
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

  it('rejects bad wire options', () => {
    expect(() => connectionPair({ latency: -1 })).toThrow(InvalidArgumentError);
    expect(() => connectionPair({ chunking: 0 })).toThrow(InvalidArgumentError);
    expect(() => connectionPair({ highWaterMark: 1.5 })).toThrow(InvalidArgumentError);
  });
});
