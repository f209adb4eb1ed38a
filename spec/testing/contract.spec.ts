// The same Connection behaviour checked on a real loopback pair and on an in-memory pair, so the kit stays faithful.
import { ReplaySubject, Subscription, firstValueFrom, lastValueFrom, toArray } from 'rxjs';
import { connect } from '../../lib/core/connect';
import { WriteAfterEndError } from '../../lib/errors';
import { listen } from '../../lib/core/listen';
import { connectionPair } from '../../lib/testing';
import type { Connection, ConnectionEvent } from '../../lib/types';

interface Pair {
  a: Connection;
  b: Connection;
  teardown(): void;
}

/** A client connection (a) and the server's side of it (b), over 127.0.0.1. */
async function socketPair(): Promise<Pair> {
  const port = new ReplaySubject<number>(1);
  const accepted = new ReplaySubject<Connection>(1);
  const subscriptions = new Subscription();
  subscriptions.add(
    listen({
      port: 0,
      host: '127.0.0.1',
      listening: (address) => typeof address !== 'string' && port.next(address.port),
    }).subscribe(accepted),
  );
  const clientSide = new ReplaySubject<Connection>(1);
  subscriptions.add(connect({ port: await firstValueFrom(port), host: '127.0.0.1' }).subscribe(clientSide));
  const [a, b] = await Promise.all([firstValueFrom(clientSide), firstValueFrom(accepted)]);
  return { a, b, teardown: () => subscriptions.unsubscribe() };
}

/** An in-memory pair on the real asyncScheduler. */
async function memoryPair(): Promise<Pair> {
  const [a, b] = connectionPair();
  return { a, b, teardown: () => (a.destroy(), b.destroy()) };
}

const text = (chunks: Buffer[]) => Buffer.concat(chunks).toString();
const closedEvent = (conn: Connection) =>
  lastValueFrom(conn.events$.pipe(toArray())).then((events) => events[events.length - 1]);

describe.each([
  ['a loopback socket pair', socketPair],
  ['an in-memory pair', memoryPair],
])('Connection contract on %s', (_name, makePair) => {
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
