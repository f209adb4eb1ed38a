// The Connection contract: one set of checks that a loopback socket pair and an in-memory pair must both pass, so the
// test kit stays faithful. spec/testing/contract.spec.ts runs it on memory, spec/integration/contract.spec.ts on sockets.
import { firstValueFrom, lastValueFrom, toArray } from 'rxjs';
import { WriteAfterEndError } from '../../lib/errors';
import type { Connection, ConnectionEvent } from '../../lib/types';

/** Two connected ends: what `a` writes, `b` reads, and back. */
export interface Pair {
  a: Connection;
  b: Connection;
  teardown(): void;
}

const text = (chunks: Buffer[]) => Buffer.concat(chunks).toString();
const closedEvent = (conn: Connection) =>
  lastValueFrom(conn.events$.pipe(toArray())).then((events) => events[events.length - 1]);

/** Defines the contract's specs for the pairs `makePair` opens, one per spec. */
export function connectionContract(name: string, makePair: () => Promise<Pair>): void {
  describe(`Connection contract on ${name}`, () => {
    let pair: Pair;
    beforeEach(async () => {
      pair = await makePair();
    });
    afterEach(() => pair.teardown());

    it("delivers a's bytes on b's data$ in order, which completes on a's FIN", async () => {
      const { a, b } = pair;
      const received = lastValueFrom(b.data$.pipe(toArray()));
      a.write('one ');
      a.write(Buffer.from('two '));
      a.end(Uint8Array.from(Buffer.from('three')));
      expect(text(await received)).toBe('one two three');
    });

    it('loses no byte written before data$ is subscribed', async () => {
      const { a, b } = pair;
      await new Promise<void>((resolve) => a.end('early bird', () => resolve()));
      expect(text(await lastValueFrom(b.data$.pipe(toArray())))).toBe('early bird');
    });

    it('half-closes: b still writes after reading the FIN; both close without error once both ended', async () => {
      const { a, b } = pair;
      const aClose = closedEvent(a);
      const bClose = closedEvent(b);
      const reply = lastValueFrom(a.data$.pipe(toArray()));
      a.end('question');
      const question = text(await lastValueFrom(b.data$.pipe(toArray())));
      expect(b.writeEnded).toBe(false);
      b.end(`answer to ${question}`);
      expect(text(await reply)).toBe('answer to question');
      expect(await aClose).toEqual({ type: 'close', hadError: false });
      expect(await bClose).toEqual({ type: 'close', hadError: false });
      expect([a.closed, b.closed]).toEqual([true, true]);
    });

    it('throws WriteAfterEndError on write after end()', () => {
      pair.a.end();
      expect(() => pair.a.write('late')).toThrow(WriteAfterEndError);
    });

    it("reports flushed writes as 'written' while events$ is observed, and calls end's callback once flushed", async () => {
      const { a, b } = pair;
      const events: ConnectionEvent[] = [];
      const sub = a.events$.subscribe((e) => events.push(e));
      b.data$.subscribe();
      a.write('12345');
      await new Promise<void>((resolve) => a.end('678', () => resolve()));
      const written = events.filter((e): e is Extract<ConnectionEvent, { type: 'written' }> => e.type === 'written');
      expect(written.reduce((sum, e) => sum + e.bytes, 0)).toBe(8);
      expect(events.map((e) => e.type)).toContain('finish');
      sub.unsubscribe();
    });

    it('fails the destroyed side with its error, and the peer reads a FIN', async () => {
      const { a, b } = pair;
      const failure = new Error('gave up');
      const aData = lastValueFrom(a.data$.pipe(toArray())).catch((e) => e);
      const bData = lastValueFrom(b.data$.pipe(toArray()));
      const aWritable = lastValueFrom(a.writable$).catch((e) => e);
      a.destroy(failure);
      expect(await aData).toBe(failure);
      expect(await aWritable).toBe(failure);
      expect(await bData).toEqual([]);
    });

    it('holds reading while paused and delivers on resume', async () => {
      const { a, b } = pair;
      b.pause();
      const chunks: Buffer[] = [];
      b.data$.subscribe((c) => chunks.push(c));
      await new Promise<void>((resolve) => a.write('wait', () => resolve()));
      expect(chunks).toEqual([]);
      const got = firstValueFrom(b.data$);
      b.resume();
      expect((await got).toString()).toBe('wait');
    });
  });
}
