// InProcessBus and Hub({ backplane }): hubs on one bus are one room; each sender's messages once, in order, never back to itself.
import { mergeMap } from 'rxjs';
import { TestScheduler } from 'rxjs/testing';
import { InProcessBus, type BackplaneMessage } from '../../lib/hub/backplane';
import { InvalidArgumentError } from '../../lib/errors';
import { Hub } from '../../lib/hub/Hub';
import { decodeLines } from '../../lib/framing/lines/decodeLines';
import { memoryServer, type MemoryConnection } from '../../lib/testing';

function text(connection: MemoryConnection): { value: string } {
  const out = { value: '' };
  connection.data$.subscribe((chunk) => (out.value += chunk.toString()));
  return out;
}

describe('InProcessBus', () => {
  it('delivers a message to every other backplane once, with its origin and per-sender numbers, never to its sender', () => {
    const bus = new InProcessBus();
    const [a, b, c] = ['A', 'B', 'C'].map((id) => bus.backplane(id));
    const seen: Record<string, string[]> = { A: [], B: [], C: [] };
    for (const [id, bp] of [
      ['A', a],
      ['B', b],
      ['C', c],
    ] as const) {
      bp.messages$.subscribe((m: BackplaneMessage) => seen[id].push(`${m.origin}${m.seq}:${m.payload}`));
    }
    a.publish('x');
    b.publish(Buffer.from('y'));
    a.publish(new Uint8Array([0x7a]));
    expect(seen).toEqual({ A: ['B1:y'], B: ['A1:x', 'A2:z'], C: ['A1:x', 'B1:y', 'A2:z'] });
    expect(a.connected).toBe(true);
  });

  it('refuses a server id already on the bus, and a closed backplane leaves it', async () => {
    const bus = new InProcessBus();
    const a = bus.backplane('A');
    expect(() => bus.backplane('A')).toThrow(InvalidArgumentError);
    await a.close();
    expect(() => bus.backplane('A')).not.toThrow();
  });
});

describe('Hub({ backplane })', () => {
  it('makes hubs of two servers one room: every line reaches every other member once, in order', () => {
    new TestScheduler((x, y) => expect(x).toEqual(y)).run(({ flush }) => {
      const bus = new InProcessBus();
      const clients: MemoryConnection[] = [];
      for (const id of ['A', 'B']) {
        const hub = new Hub<Buffer>({ backplane: bus.backplane(id) });
        const server = memoryServer();
        server
          .listen()
          .pipe(mergeMap((conn) => hub.join(conn, conn.data$.pipe(decodeLines({ includeDelimiter: true })))))
          .subscribe();
        clients.push(server.connect(), server.connect());
      }
      const got = clients.map(text);
      clients[0].write('a1\na2\n');
      clients[2].write('b1\n');
      clients[0].write('a3\n');
      flush();
      // Per sender, in order; between senders, any interleaving.
      const bySender = (value: string) => {
        const all = value.split('\n').filter(Boolean);
        return { a: all.filter((l) => l.startsWith('a')), b: all.filter((l) => l.startsWith('b')) };
      };
      expect(got.map((g) => bySender(g.value))).toEqual([
        { a: [], b: ['b1'] },
        { a: ['a1', 'a2', 'a3'], b: ['b1'] },
        { a: ['a1', 'a2', 'a3'], b: [] },
        { a: ['a1', 'a2', 'a3'], b: ['b1'] },
      ]);
    });
  });
});
