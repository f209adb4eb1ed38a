// memoryServer(): an app's server pipeline runs unchanged on it; connect, refuse, address in use, teardown.
import { EMPTY, asyncScheduler, catchError, map, mergeMap, of } from 'rxjs';
import type { RxnetError } from '../../lib/errors';
import type { Observable } from 'rxjs';
import { decodeLines } from '../../lib/framing/lines/decodeLines';
import { sendTo } from '../../lib/core/sendTo';
import { asText, comparable, createTestScheduler, memoryServer } from '../../lib/testing';
import type { Connection } from '../../lib/types';

const marbles = () => createTestScheduler({ assertDeepEqual: (actual, expected) => expect(actual).toEqual(expected) });
const at = (frame: number, work: () => void) => asyncScheduler.schedule(work, frame);

/** An application's server pipeline, written against Observable<Connection> as listen() gives it. */
const app = (conns$: Observable<Connection>) =>
  conns$.pipe(
    mergeMap((conn) =>
      conn.data$.pipe(
        decodeLines(),
        map((line) => `Sending: ${line}\n`),
        sendTo(conn),
      ),
    ),
  );

describe('memoryServer', () => {
  it('runs an application pipeline unchanged, each client getting its own replies', () => {
    marbles().run(({ cold, expectObservable }) => {
      const server = memoryServer();
      app(server.listen()).subscribe();
      const dwarves = server.connect();
      const elves = server.connect();
      cold('-a--|', { a: 'More Axes\n' }).pipe(sendTo(dwarves)).subscribe();
      cold('--a-|', { a: 'More Arrows\n' }).pipe(sendTo(elves)).subscribe();
      expectObservable(dwarves.data$.pipe(asText())).toBe('-a--|', { a: 'Sending: More Axes\n' });
      expectObservable(elves.data$.pipe(asText())).toBe('--a-|', { a: 'Sending: More Arrows\n' });
    });
  });

  it("keeps listen's first-byte and frame deadlines in virtual time when asked: a silent and a dripping client are cut, an honest one served", () => {
    marbles().run(({ expectObservable }) => {
      const server = memoryServer({ firstByteTimeout: 500, frameTimeout: 1000 });
      const failures: [number, string][] = [];
      server
        .listen()
        .pipe(
          mergeMap((conn) => {
            conn.events$.subscribe((e) => {
              if (e.type === 'close' && conn.closeReason)
                failures.push([asyncScheduler.now(), (conn.closeReason as RxnetError).code]);
            });
            return app(of(conn)).pipe(catchError(() => EMPTY));
          }),
        )
        .subscribe();
      const silent = server.connect();
      const dripping = server.connect();
      const honest = server.connect();
      for (let t = 0; t <= 1500; t += 300) at(t, () => !dripping.writeEnded && !dripping.closed && dripping.write('x'));
      at(100, () => honest.write('More Axes\n'));
      at(1400, () => honest.end('More Arrows\n'));
      expectObservable(honest.data$.pipe(asText())).toBe('100ms a 1299ms (b|)', {
        a: 'Sending: More Axes\n',
        b: 'Sending: More Arrows\n',
      });
      expectObservable(silent.data$.pipe(asText())).toBe('500ms |');
      expectObservable(dripping.data$.pipe(asText())).toBe('1000ms |');
      at(2000, () =>
        expect(failures).toEqual([
          [500, 'ERR_FIRST_BYTE_TIMEOUT'],
          [1000, 'ERR_FRAME_TIMEOUT'],
        ]),
      );
    });
  });

  it('hands the listener the server side of each connect(), whose peer is the client', () => {
    const server = memoryServer({ port: 8108 });
    const accepted: Connection[] = [];
    const subscription = server.listen().subscribe((conn) => accepted.push(conn));
    const client = server.connect();
    expect(accepted).toEqual([client.peer]);
    expect(server.connections).toEqual([client.peer]);
    expect(client.remotePort).toBe(8108);
    expect(server.listening).toBe(true);
    subscription.unsubscribe();
    expect(server.listening).toBe(false);
  });

  it('refuses connect() with ECONNREFUSED while nobody listens', () => {
    const server = memoryServer({ port: 7 });
    let error: unknown;
    try {
      server.connect();
    } catch (e) {
      error = e;
    }
    expect(comparable(error)).toEqual({
      name: 'Error',
      code: 'ECONNREFUSED',
      errno: -111,
      syscall: 'connect',
      address: 'memory',
      port: 7,
    });
  });

  it('errors a second concurrent listener with EADDRINUSE, and listens again after the first left', () => {
    const server = memoryServer();
    const first = server.listen().subscribe();
    let error: unknown;
    server.listen().subscribe({ error: (e) => (error = e) });
    expect((error as NodeJS.ErrnoException).code).toBe('EADDRINUSE');
    first.unsubscribe();
    const again = server.listen().subscribe();
    expect(server.listening).toBe(true);
    again.unsubscribe();
  });

  it('destroys the connections still open when the listener unsubscribes; clients read a FIN', () => {
    marbles().run(({ expectObservable }) => {
      const server = memoryServer();
      const subscription = server.listen().subscribe();
      const client = server.connect();
      at(3, () => subscription.unsubscribe());
      expectObservable(client.data$).toBe('---|');
      at(4, () => {
        expect(client.peer.closed).toBe(true);
        expect(server.connections).toEqual([]);
      });
    });
  });

  it('forgets connections that closed', () => {
    marbles().run(() => {
      const server = memoryServer();
      server
        .listen()
        .pipe(mergeMap((conn) => conn.data$.pipe(sendTo(conn))))
        .subscribe();
      const client = server.connect();
      client.data$.subscribe();
      at(1, () => client.end());
      at(2, () => expect(server.connections).toEqual([]));
    });
  });

  it('takes wire options per connection', () => {
    marbles().run(({ expectObservable }) => {
      const server = memoryServer({ latency: 1 });
      server.listen().subscribe((conn) => conn.end('hey'));
      const client = server.connect({ chunking: 1 });
      expectObservable(client.data$).toBe('-(hey|)', { h: 'h', e: 'e', y: 'y' });
    });
  });
});
