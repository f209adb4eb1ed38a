// endOnIdle(): the goodbye-and-FIN idle policy on the test kit: idle vs busy peers, closeTimeout, end of stream.
// The operator contract runs over it in spec/util/operatorContract.spec.ts.
import { Subject, asyncScheduler } from 'rxjs';
import { TestScheduler } from 'rxjs/testing';
import { InvalidArgumentError } from '../../lib/errors';
import { endOnIdle } from '../../lib/time/endOnIdle';
import { idleWatch } from '../../lib/time/idleWatch';
import type { IdleEvent } from '../../lib/time/idleWatch';
import { asText, connectionPair, createTestScheduler } from '../../lib/testing';
import type { MemoryConnection } from '../../lib/testing';
import type { ConnectionEvent } from '../../lib/types';

const marbles = () => createTestScheduler({ assertDeepEqual: (actual, expected) => expect(actual).toEqual(expected) });
const at = (frame: number, work: () => void) => asyncScheduler.schedule(work, frame);
const allIdle = (idleFor: number, first = true): IdleEvent => ({ state: 'allIdle', first, idleFor });

/** The seed's policy: end connections idle for `ms` with a goodbye; done once the FIN is out. */
const policy = (conn: MemoryConnection, ms: number, goodbye = 'idle timeout..') =>
  conn.events$.pipe(idleWatch({ allIdle: ms }), endOnIdle(conn, { goodbye, closeTimeout: 0 }));

describe('endOnIdle', () => {
  it('says goodbye and ends an idle connection, emits the event and completes once flushed (closeTimeout 0)', () => {
    marbles().run(({ expectObservable }) => {
      const [client, server] = connectionPair();
      server.data$.subscribe();
      at(1, () => client.write('hi'));
      expectObservable(policy(server, 5)).toBe('------(a|)', { a: allIdle(5) });
      expectObservable(client.data$.pipe(asText())).toBe('------(g|)', { g: 'idle timeout..' });
    });
  });

  it('leaves a busy connection alone', () => {
    marbles().run(({ expectObservable }) => {
      const [client, server] = connectionPair();
      server.data$.subscribe();
      for (const frame of [2, 6, 10, 14]) at(frame, () => client.write('.'));
      expectObservable(policy(server, 5), '^-----------------!').toBe('-');
      at(18, () => expect(server.writeEnded).toBe(false));
    });
  });

  it('counts our own flushed writes as activity of a connection that only writes', () => {
    marbles().run(({ expectObservable }) => {
      const [client, server] = connectionPair();
      client.data$.subscribe();
      for (const frame of [3, 6, 9]) at(frame, () => server.write('tick'));
      expectObservable(policy(server, 4)).toBe('-------------(a|)', { a: allIdle(4) });
    });
  });

  it('asks a goodbye function for the message, given the idle event', () => {
    marbles().run(({ expectObservable }) => {
      const [client, server] = connectionPair();
      const goodbye = (e: IdleEvent) => `${e.state} for ${e.idleFor} ms\n`;
      server.events$.pipe(idleWatch({ readIdle: 3 }), endOnIdle(server, { goodbye })).subscribe();
      expectObservable(client.data$.pipe(asText())).toBe('---(g|)', { g: 'readIdle for 3 ms\n' });
    });
  });

  it('sends a bare FIN without a goodbye', () => {
    marbles().run(({ expectObservable }) => {
      const [client, server] = connectionPair();
      server.events$.pipe(idleWatch({ allIdle: 2 }), endOnIdle(server)).subscribe();
      expectObservable(client.data$).toBe('--|');
    });
  });

  it('writes nothing to a connection already ended, and completes at once', () => {
    marbles().run(({ hot, expectObservable }) => {
      const [client, server] = connectionPair();
      server.end();
      const idle$ = hot<IdleEvent>('--a--', { a: allIdle(2) });
      expectObservable(idle$.pipe(endOnIdle(server, { goodbye: 'late', closeTimeout: 0 }))).toBe('--(a|)', {
        a: allIdle(2),
      });
      expectObservable(client.data$).toBe('|');
    });
  });

  it('destroys a peer that never answers our FIN after 10 s by default', () => {
    marbles().run(({ expectObservable }) => {
      const [client, server] = connectionPair();
      client.data$.subscribe();
      server.data$.subscribe();
      const events = server.events$.pipe(idleWatch({ allIdle: 3 }), endOnIdle(server, { goodbye: 'bye' }));
      expectObservable(events).toBe('---a 9999ms |', { a: allIdle(3) });
      at(10_002, () => expect(server.closed).toBe(false));
      at(10_004, () => expect(server.closed).toBe(true));
    });
  });

  it('destroys a peer that does not answer our FIN within closeTimeout, then completes', () => {
    marbles().run(({ expectObservable }) => {
      const [client, server] = connectionPair();
      client.data$.subscribe();
      server.data$.subscribe();
      const events = server.events$.pipe(
        idleWatch({ allIdle: 3 }),
        endOnIdle(server, { goodbye: 'bye', closeTimeout: 4 }),
      );
      expectObservable(events).toBe('---a---|', { a: allIdle(3) });
      at(8, () => expect(server.closed).toBe(true));
    });
  });

  it('completes when a peer that answers our FIN closes before closeTimeout', () => {
    marbles().run(({ expectObservable }) => {
      const [client, server] = connectionPair({ latency: 1 });
      client.data$.subscribe();
      // The client ends as soon as it has read our FIN, as a plain Node socket does.
      client.events$.subscribe((e) => e.type === 'end' && client.end());
      server.data$.subscribe();
      const events = server.events$.pipe(
        idleWatch({ allIdle: 3 }),
        endOnIdle(server, { goodbye: 'bye', closeTimeout: 10 }),
      );
      expectObservable(events).toBe('---a-|', { a: allIdle(3) });
    });
  });

  it('completes, ending nothing, when the watch completes first (the connection closed)', () => {
    marbles().run(({ hot, expectObservable }) => {
      const [, server] = connectionPair();
      expectObservable(hot<IdleEvent>('---|').pipe(endOnIdle(server, { goodbye: 'x' }))).toBe('---|');
      at(4, () => expect(server.writeEnded).toBe(false));
    });
  });

  it('passes an error of its source on', () => {
    marbles().run(({ hot, expectObservable }) => {
      const [, server] = connectionPair();
      const failure = new Error('boom');
      expectObservable(hot<IdleEvent>('--#', undefined, failure).pipe(endOnIdle(server))).toBe(
        '--#',
        undefined,
        failure,
      );
    });
  });

  it('turns a throwing goodbye function into an error notification', () => {
    marbles().run(({ hot, expectObservable }) => {
      const [, server] = connectionPair();
      const failure = new Error('no message');
      const goodbye = () => {
        throw failure;
      };
      expectObservable(hot<IdleEvent>('-a-', { a: allIdle(1) }).pipe(endOnIdle(server, { goodbye }))).toBe(
        '-#',
        undefined,
        failure,
      );
    });
  });

  it('stops listening to its source at the first event', () => {
    const scheduler = new TestScheduler(() => undefined);
    const [, server] = connectionPair({ scheduler });
    const idle$ = new Subject<IdleEvent>();
    idle$.pipe(endOnIdle(server, { scheduler })).subscribe();
    idle$.next(allIdle(1));
    expect(idle$.observed).toBe(false);
    expect(server.writeEnded).toBe(true);
  });

  it('rejects a closeTimeout that is not an integer >= 0 when created', () => {
    const [, server] = connectionPair();
    expect(() => endOnIdle(server, { closeTimeout: -1 })).toThrow(InvalidArgumentError);
    expect(() => endOnIdle(server, { closeTimeout: 0.5 })).toThrow(InvalidArgumentError);
  });

  it('needs no data$ subscriber: the watch and policy read events$ only', () => {
    marbles().run(({ expectObservable }) => {
      const [client, server] = connectionPair();
      const events: ConnectionEvent['type'][] = [];
      server.events$.subscribe((e) => events.push(e.type));
      at(1, () => client.write('unread'));
      expectObservable(policy(server, 2)).toBe('--(a|)', { a: allIdle(2) });
      // Only our own FIN makes the connection read on unobserved (to see the peer's FIN), as a socket does.
      at(3, () => expect(events).toEqual(['written', 'finish', 'data']));
    });
  });
});
