// serveEach(): a handler per connection; one connection's failure ends that connection only.
import { Observable, Subject, asyncScheduler, finalize, map, merge, mergeMap, of, takeUntil, throwError } from 'rxjs';
import { InvalidArgumentError } from '../../lib/errors';
import { decodeLines } from '../../lib/framing/lines/decodeLines';
import { sendTo } from '../../lib/core/sendTo';
import { serveEach } from '../../lib/core/serveEach';
import { asText, connectionPair, createTestScheduler, memoryServer } from '../../lib/testing';
import type { MemoryConnection } from '../../lib/testing';
import type { Connection } from '../../lib/types';

const marbles = () => createTestScheduler({ assertDeepEqual: (actual, expected) => expect(actual).toEqual(expected) });

/** Server-side ends of three in-memory connections, and their peers. */
function threeConnections(): { a: MemoryConnection; b: MemoryConnection; c: MemoryConnection } {
  const [a] = connectionPair();
  const [b] = connectionPair();
  const [c] = connectionPair();
  return { a, b, c };
}

describe('serveEach', () => {
  it("subscribes each connection's handler as the connection arrives and ignores the values", () => {
    marbles().run(({ cold, hot, expectObservable, expectSubscriptions }) => {
      const { a, b } = threeConnections();
      const ha = hot('--x--y--|');
      const hb = hot('-----z---|');
      const handlers = new Map<Connection, Observable<string>>([
        [a, ha],
        [b, hb],
      ]);
      const server = cold('-a--b|', { a, b });
      expectObservable(server.pipe(serveEach((conn) => handlers.get(conn)!))).toBe('---------|');
      expectSubscriptions(ha.subscriptions).toBe('-^------!');
      expectSubscriptions(hb.subscriptions).toBe('----^----!');
    });
  });

  it('completes only when the server completed and every handler completed', () => {
    marbles().run(({ cold, expectObservable }) => {
      const { a, b } = threeConnections();
      const handlers = new Map<Connection, Observable<never>>([
        [a, cold('------|')],
        [b, cold('-|')],
      ]);
      // The server completes at frame 3; a's handler runs until frame 7.
      expectObservable(cold('-ab|', { a, b }).pipe(serveEach((conn) => handlers.get(conn)!))).toBe('-------|');
      // No connection and the server completes: completes at once.
      expectObservable(cold<Connection>('--|').pipe(serveEach(() => cold('-|')))).toBe('--|');
    });
  });

  it("keeps one handler's error to its connection: destroyed, told to onError, the others go on", () => {
    marbles().run(({ cold, hot, expectObservable, expectSubscriptions, flush }) => {
      const { a, b, c } = threeConnections();
      const failure = new Error('reset');
      const ha = hot('---#', undefined, failure);
      const hb = hot('------|');
      const hc = hot('--------|');
      const handlers = new Map<Connection, Observable<unknown>>([
        [a, ha],
        [b, hb],
        [c, hc],
      ]);
      const errors: [unknown, number][] = [];
      const served = cold('-abc|', { a, b, c }).pipe(
        serveEach((conn) => handlers.get(conn)!, { onError: (error, conn) => errors.push([error, conn.id]) }),
      );
      expectObservable(served).toBe('--------|');
      expectSubscriptions(ha.subscriptions).toBe('-^-!');
      expectSubscriptions(hb.subscriptions).toBe('--^---!');
      expectSubscriptions(hc.subscriptions).toBe('---^----!');
      flush();
      expect(errors).toEqual([[failure, a.id]]);
      expect(a.closed).toBe(true);
      expect(b.closed).toBe(false);
      expect(c.closed).toBe(false);
    });
  });

  it('treats a handler that throws, or returns what is not an ObservableInput, as that connection failing', () => {
    marbles().run(({ cold, expectObservable, flush }) => {
      const { a, b, c } = threeConnections();
      const thrown = new Error('bad handler');
      const errors: unknown[] = [];
      const served = cold('-abc|', { a, b, c }).pipe(
        serveEach(
          (conn): Observable<unknown> => {
            if (conn === a) throw thrown;
            if (conn === b) return 42 as unknown as Observable<unknown>;
            return cold('--|');
          },
          { onError: (error) => errors.push(error) },
        ),
      );
      expectObservable(served).toBe('-----|');
      flush();
      expect(errors[0]).toBe(thrown);
      expect(errors[1]).toBeInstanceOf(TypeError);
      expect(errors).toHaveLength(2);
      expect([a.closed, b.closed, c.closed]).toEqual([true, true, false]);
    });
  });

  it("passes on the server's own error, unsubscribing the handlers", () => {
    marbles().run(({ cold, hot, expectObservable, expectSubscriptions }) => {
      const { a } = threeConnections();
      const bind = new Error('EADDRINUSE');
      const ha = hot('-------|');
      expectObservable(cold('-a--#', { a }, bind).pipe(serveEach(() => ha))).toBe('----#', undefined, bind);
      expectSubscriptions(ha.subscriptions).toBe('-^--!');
    });
  });

  it('unsubscribes every handler, then the server, when unsubscribed', () => {
    marbles().run(({ cold, hot, expectObservable, expectSubscriptions }) => {
      const { a, b, c } = threeConnections();
      const handlers = [hot('-----|'), hot('------|'), hot('-------|')];
      const conns = [a, b, c];
      const server = cold('-abc----|', { a, b, c });
      expectObservable(
        server.pipe(serveEach((conn) => handlers[conns.indexOf(conn as MemoryConnection)])),
        '^---!',
      ).toBe('-----');
      expectSubscriptions(server.subscriptions).toBe('^---!');
      expectSubscriptions(handlers[0].subscriptions).toBe('-^--!');
      expectSubscriptions(handlers[1].subscriptions).toBe('--^-!');
      expectSubscriptions(handlers[2].subscriptions).toBe('---^!');
    });
  });

  it('unsubscribes the handlers before the server, so a server teardown cannot fail a handler', () => {
    const order: string[] = [];
    const { a, b } = threeConnections();
    const server = new Observable<Connection>((subscriber) => {
      subscriber.next(a);
      subscriber.next(b);
      return () => order.push('server');
    });
    const handler = (conn: Connection) =>
      new Observable<never>(() => () => order.push(`handler ${conn === a ? 'a' : 'b'}`));
    server.pipe(serveEach(handler)).subscribe().unsubscribe();
    expect(order).toEqual(['handler b', 'handler a', 'server']);
  });

  it('unsubscribes every handler even when tearing one down makes others finish, and reports nothing then', () => {
    const { a, b, c } = threeConnections();
    const [d] = connectionPair();
    const stop = new Subject<void>();
    const live = new Set<Connection>();
    const errors: unknown[] = [];
    let completed = false;
    const conns = new Subject<Connection>();
    const running = conns
      .pipe(
        serveEach(
          (conn) => {
            const handler = new Observable<never>(() => {
              live.add(conn);
              return () => live.delete(conn);
            });
            // b ends and d fails when stop fires; c's teardown fires it (a shared shutdown notifier).
            if (conn === b) return handler.pipe(takeUntil(stop));
            if (conn === d) return merge(handler, stop.pipe(mergeMap(() => throwError(() => new Error('torn')))));
            if (conn === c) return handler.pipe(finalize(() => stop.next()));
            return handler;
          },
          { onError: (error) => errors.push(error) },
        ),
      )
      .subscribe({ complete: () => (completed = true) });
    conns.next(a);
    conns.next(b);
    conns.next(d);
    conns.next(c);
    expect(live.size).toBe(4);
    running.unsubscribe();
    expect(live.size).toBe(0);
    expect(conns.observed).toBe(false);
    expect(errors).toEqual([]);
    expect(completed).toBe(false);
  });

  it("ends the server's Observable with the error onError throws", () => {
    marbles().run(({ cold, expectObservable }) => {
      const { a } = threeConnections();
      const fatal = new Error('log sink is down');
      const served = cold('-a---|', { a }).pipe(
        serveEach(() => throwError(() => new Error('reset')), {
          onError: () => {
            throw fatal;
          },
        }),
      );
      expectObservable(served).toBe('-#', undefined, fatal);
    });
  });

  it('forgets a finished handler at once: thousands of short connections leave nothing behind', () => {
    const conns = new Subject<Connection>();
    let live = 0;
    const served = conns
      .pipe(
        serveEach(
          () =>
            new Observable<never>((subscriber) => {
              live++;
              asyncScheduler.schedule(() => subscriber.complete());
              return () => live--;
            }),
        ),
      )
      .subscribe();
    const [a] = connectionPair();
    for (let i = 0; i < 3; i++) conns.next(a);
    expect(live).toBe(3);
    served.unsubscribe();
    expect(live).toBe(0);
    // Synchronous handlers: each is done before the next arrives.
    let done = 0;
    const sync = conns.pipe(serveEach(() => of(1).pipe(map(() => done++)))).subscribe();
    for (let i = 0; i < 5000; i++) conns.next(a);
    expect(done).toBe(5000);
    sync.unsubscribe();
  });

  it('rejects a handler or onError that is not a function with InvalidArgumentError', () => {
    expect(() => serveEach(undefined as unknown as () => Observable<never>)).toThrow(InvalidArgumentError);
    expect(() => serveEach(() => of(1), { onError: 'log' as unknown as () => void })).toThrow(InvalidArgumentError);
  });

  it('serves a line protocol on a memory server; a client that breaks the framing is dropped alone', () => {
    marbles().run(({ cold, expectObservable, flush }) => {
      const server = memoryServer();
      const errors: string[] = [];
      const dropped: Connection[] = [];
      server
        .listen()
        .pipe(
          serveEach(
            (conn) =>
              conn.data$.pipe(
                decodeLines({ maxLength: 8 }),
                map((line) => `> ${line}\n`),
                sendTo(conn),
              ),
            {
              onError: (error, conn) => {
                errors.push((error as Error).name);
                dropped.push(conn);
              },
            },
          ),
        )
        .subscribe();
      const good = server.connect();
      const bad = server.connect();
      cold('-a--b|', { a: 'hi\n', b: 'there\n' }).pipe(sendTo(good)).subscribe();
      cold('--a|', { a: 'far too long a line\n' })
        .pipe(sendTo(bad, { end: false }))
        .subscribe();
      expectObservable(good.data$.pipe(asText())).toBe('-a--b|', { a: '> hi\n', b: '> there\n' });
      flush();
      expect(errors).toEqual(['FrameTooLongError']);
      // The server's side of the bad client was destroyed; the client read a FIN.
      expect(dropped.map((conn) => [conn.closed, conn.remotePort])).toEqual([[true, bad.localPort]]);
      expect(good.closed).toBe(true);
    });
  });
});
