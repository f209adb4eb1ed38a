// pool(): lending, waiting, limits, dead connections never lent, idle and lifetime limits, validate, handshake, attach, close; in virtual time.
import {
  EMPTY,
  NEVER,
  Observable,
  Subject,
  asyncScheduler,
  concat,
  firstValueFrom,
  lastValueFrom,
  map,
  of,
  take,
  throwError,
  timeout,
  timer,
} from 'rxjs';
import { pool } from '../../lib/client/pool';
import { requester } from '../../lib/client/requester';
import { linesCodec } from '../../lib/framing/lines/linesCodec';
import { AcquireTimeoutError, ClientClosedError, InvalidArgumentError, QueueOverflowError } from '../../lib/errors';
import { decodeLines } from '../../lib/framing/lines/decodeLines';
import { memoryServer } from '../../lib/testing';
import type { Connection } from '../../lib/types';
import { virtual } from '../support/memory';

/** A memory server answering each line `n:line`, n the connection's number (from 1); `accepted` keeps the server sides. */
function numberingServer() {
  const server = memoryServer();
  const accepted: Connection[] = [];
  const clients: Connection[] = [];
  server.listen().subscribe((conn) => {
    const n = accepted.push(conn);
    conn.data$.pipe(decodeLines()).subscribe({
      next: (line: Buffer) => !conn.writeEnded && conn.write(`${n}:${line.toString()}\n`),
      error: () => undefined,
    });
  });
  const connect = () => {
    const client = server.connect();
    clients.push(client);
    return client;
  };
  /** Whether the pool's side of connection n (from 1) was ended or closed. */
  const ended = (n: number) => clients[n - 1].writeEnded || clients[n - 1].closed;
  return { server, accepted, clients, connect, ended };
}

/** Writes `line` and emits the reply line, as a use would. */
const ask = (conn: Connection, line: string) =>
  new Observable<string>((subscriber) => {
    const reading = conn.data$.pipe(decodeLines(), take(1), map(String)).subscribe(subscriber);
    conn.write(`${line}\n`);
    return reading;
  });

/** Lines of text both ways, for a requester as the pooled resource. */
const lines = linesCodec({ encoding: 'utf8' });

describe('pool', () => {
  it('lends at most max connections; a use beyond waits for one given back, which is reused', () => {
    virtual((at) => {
      const { connect, accepted, ended } = numberingServer();
      const conns = pool(connect, { max: 2 });
      const replies: [number, string][] = [];
      const slow = (line: string, ms: number) => (conn: Connection) =>
        ask(conn, line).pipe(
          (source) =>
            new Observable<string>((s) =>
              source.subscribe({
                next: (v) =>
                  void timer(ms).subscribe(() => {
                    s.next(v);
                    s.complete();
                  }),
                error: (e) => s.error(e),
              }),
            ),
        );
      for (const [line, ms] of [
        ['a', 10],
        ['b', 20],
        ['c', 5],
      ] as const) {
        conns.use(slow(line, ms)).subscribe((reply) => replies.push([asyncScheduler.now(), reply]));
      }
      at(1, () =>
        expect({ size: conns.size, busy: conns.busy, waiting: conns.waiting }).toEqual({
          size: 2,
          busy: 2,
          waiting: 1,
        }),
      );
      at(30, () => {
        expect(replies).toEqual([
          [10, '1:a'],
          [15, '1:c'],
          [20, '2:b'],
        ]);
        expect(accepted).toHaveLength(2);
        expect({ size: conns.size, idle: conns.idle, busy: conns.busy, waiting: conns.waiting }).toEqual({
          size: 2,
          idle: 2,
          busy: 0,
          waiting: 0,
        });
        conns.close();
      });
      at(31, () => expect([ended(1), ended(2)]).toEqual([true, true]));
    });
  });

  it('errors a use that waited acquireTimeout with AcquireTimeoutError, and one beyond maxWaiting with QueueOverflowError', () => {
    virtual((at) => {
      const { connect } = numberingServer();
      const conns = pool(connect, { max: 1, acquireTimeout: 50, maxWaiting: 1 });
      const errors: unknown[] = [];
      conns.use(() => timer(100)).subscribe();
      conns.use(() => of(1)).subscribe({ error: (e) => errors.push([asyncScheduler.now(), e]) });
      conns.use(() => of(2)).subscribe({ error: (e) => errors.push([asyncScheduler.now(), e]) });
      at(60, () => {
        expect(errors).toEqual([
          [0, new QueueOverflowError(1, Infinity, 1, 0, 'pool', 'a connection')],
          [50, new AcquireTimeoutError(50, 1)],
        ]);
        expect(conns.waiting).toBe(0);
        conns.close();
      });
    });
  });

  it('destroys the connection of a use that errors, and of a use of the connection itself that was left unfinished', () => {
    virtual((at) => {
      const { connect, ended } = numberingServer();
      const conns = pool(connect, { max: 1 });
      const seen: unknown[] = [];
      conns.use(() => throwError(() => new Error('protocol confused'))).subscribe({ error: (e) => seen.push(e) });
      at(1, () => {
        expect(seen).toEqual([new Error('protocol confused')]);
        expect(ended(1)).toBe(true);
        expect(conns.size).toBe(0);
      });
      // Given up before its reply: the reply must not reach the next use of that connection.
      at(2, () =>
        conns
          .use((conn) => ask(conn, 'first'))
          .pipe(timeout({ first: 0, with: () => EMPTY }))
          .subscribe(),
      );
      at(4, () => conns.use((conn) => ask(conn, 'second')).subscribe((reply) => seen.push(reply)));
      at(10, () => {
        expect(seen.slice(1)).toEqual(['3:second']);
        expect(ended(2)).toBe(true);
        conns.close();
      });
    });
  });

  it('gives back the connection of an attached use that was left: a requester drops the late reply', () => {
    virtual((at) => {
      const { connect, accepted } = numberingServer();
      const rpcs = pool(connect, { max: 1, attach: (conn) => requester(conn, lines) });
      const seen: string[] = [];
      rpcs
        .use((rpc) => rpc.request('first'))
        .pipe(take(0))
        .subscribe();
      at(4, () => rpcs.use((rpc) => rpc.request('second')).subscribe((reply) => seen.push(reply)));
      at(10, () => {
        expect(seen).toEqual(['1:second']);
        expect(accepted).toHaveLength(1);
        rpcs.close();
      });
    });
  });

  it('never lends a connection the peer closed or reset while idle, nor one that sent bytes unasked', () => {
    virtual((at) => {
      const { connect, accepted } = numberingServer();
      const conns = pool(connect, { max: 3 });
      const replies: string[] = [];
      for (const line of ['a', 'b', 'c']) conns.use((conn) => ask(conn, line)).subscribe((r) => replies.push(r));
      at(5, () => {
        expect(conns.idle).toBe(3);
        accepted[0].end(); // FIN
        accepted[1].destroy(Object.assign(new Error('reset'), { code: 'ECONNRESET' }));
        accepted[2].write('surprise\n');
      });
      at(10, () => expect({ size: conns.size, idle: conns.idle }).toEqual({ size: 0, idle: 0 }));
      at(11, () => conns.use((conn) => ask(conn, 'd')).subscribe((r) => replies.push(r)));
      at(20, () => {
        expect(replies).toEqual(['1:a', '2:b', '3:c', '4:d']);
        conns.close();
      });
    });
  });

  it('ends idle connections beyond min after idleTimeout, keeps min open and reopens it when one is lost', () => {
    virtual((at) => {
      const { connect, accepted } = numberingServer();
      const conns = pool(connect, { max: 3, min: 1, idleTimeout: 100 });
      at(0, () => expect(conns.size).toBe(1));
      at(10, () => {
        for (const line of ['a', 'b', 'c']) conns.use((conn) => ask(conn, line)).subscribe();
      });
      at(20, () => expect(conns.idle).toBe(3));
      at(150, () => expect({ size: conns.size, idle: conns.idle }).toEqual({ size: 1, idle: 1 }));
      at(160, () => accepted.filter((conn) => !conn.closed).forEach((conn) => conn.destroy()));
      at(170, () => {
        expect(conns.size).toBe(1);
        expect(accepted).toHaveLength(4);
        conns.close();
      });
    });
  });

  it('does not lend a connection past maxLifetime: an idle one is ended then, a busy one when given back', () => {
    virtual((at) => {
      const { connect, ended } = numberingServer();
      const conns = pool(connect, { max: 2, maxLifetime: 100, idleTimeout: 0 });
      conns.use(() => timer(150)).subscribe();
      conns.use((conn) => ask(conn, 'a')).subscribe();
      at(101, () => {
        expect([ended(1), ended(2)]).toEqual([false, true]);
        expect({ size: conns.size, busy: conns.busy }).toEqual({ size: 1, busy: 1 });
      });
      at(151, () => expect({ size: conns.size, idle: conns.idle }).toEqual({ size: 0, idle: 0 }));
      at(160, () => conns.use((conn) => ask(conn, 'b')).subscribe((reply) => expect(reply).toBe('3:b')));
      at(170, () => conns.close());
    });
  });

  it('validates an idle connection before lending it: one that fails is destroyed and another tried', () => {
    virtual((at) => {
      const { connect, ended } = numberingServer();
      let healthy = true;
      const conns = pool(connect, {
        max: 2,
        validate: (conn) => (healthy ? ask(conn, 'ping').pipe(map(Boolean)) : of(false)),
      });
      conns.use((conn) => ask(conn, 'a')).subscribe();
      at(5, () => conns.use((conn) => ask(conn, 'b')).subscribe((reply) => expect(reply).toBe('1:b')));
      at(10, () => (healthy = false));
      at(11, () => conns.use((conn) => ask(conn, 'c')).subscribe((reply) => expect(reply).toBe('2:c')));
      at(20, () => {
        expect([ended(1), ended(2)]).toEqual([true, false]);
        expect(conns.size).toBe(1);
        conns.close();
      });
    });
  });

  it('runs the handshake on each new connection; a failed handshake or connect errors the waiting use', () => {
    virtual((at) => {
      const { server, accepted } = numberingServer();
      let attempt = 0;
      const conns = pool(() => server.connect(), {
        max: 1,
        handshake: (conn) => (++attempt === 2 ? throwError(() => new Error('AUTH failed')) : ask(conn, 'AUTH')),
      });
      const seen: unknown[] = [];
      conns.use((conn) => ask(conn, 'a')).subscribe((reply) => seen.push(reply));
      at(5, () => conns.use(() => throwError(() => new Error('bad use'))).subscribe({ error: () => undefined }));
      at(10, () =>
        conns.use((conn) => ask(conn, 'b')).subscribe({ next: (r) => seen.push(r), error: (e) => seen.push(e) }),
      );
      at(20, () => conns.use((conn) => ask(conn, 'c')).subscribe((reply) => seen.push(reply)));
      at(30, () => {
        expect(seen).toEqual(['1:a', new Error('AUTH failed'), '3:c']);
        expect(accepted).toHaveLength(3);
        conns.close();
      });
    });
    virtual((at) => {
      const refused = pool(() => memoryServer().connect(), { max: 1 });
      refused.use(() => of(1)).subscribe({ error: (e) => expect(e).toMatchObject({ code: 'ECONNREFUSED' }) });
      at(1, () => expect(refused.size).toBe(0));
    });
  });

  it('gives the handshake and each use the attached resource: a requester per connection, made once', () => {
    virtual((at) => {
      const { connect, accepted } = numberingServer();
      const made: unknown[] = [];
      const greetings: string[] = [];
      const rpcs = pool(connect, {
        max: 2,
        attach: (conn) => {
          const rpc = requester(conn, lines);
          made.push(rpc);
          return rpc;
        },
        handshake: (_conn, rpc) => rpc.request('hello').pipe(map((reply) => greetings.push(reply))),
      });
      const replies: string[] = [];
      for (const line of ['a', 'b', 'c', 'd']) rpcs.use((rpc) => rpc.request(line)).subscribe((r) => replies.push(r));
      at(10, () => {
        expect(replies.sort()).toEqual(['1:a', '1:c', '2:b', '2:d']);
        expect(greetings.sort()).toEqual(['1:hello', '2:hello']);
        expect(made).toHaveLength(2);
        expect(accepted).toHaveLength(2);
        rpcs.close();
      });
    });
  });

  it('close(): errors waiting uses with ClientClosedError, ends idle connections at once and busy ones when given back', () => {
    virtual((at) => {
      const { connect, ended } = numberingServer();
      const conns = pool(connect, { max: 3 });
      const busy = new Subject<string>();
      const errors: unknown[] = [];
      conns.use(() => busy).subscribe();
      conns.use(() => timer(1000)).subscribe();
      conns.use((conn) => ask(conn, 'a')).subscribe();
      at(5, () => {
        expect(conns.idle).toBe(1);
        conns.use(() => timer(1000)).subscribe(); // the idle one
        conns.use(() => of(1)).subscribe({ error: (e) => errors.push(e) }); // waits
        conns.close();
        expect(errors).toEqual([new ClientClosedError('pool', 1)]);
        expect([ended(1), ended(2), ended(3)]).toEqual([false, false, false]);
        conns.use(() => of(1)).subscribe({ error: (e) => errors.push(e) });
        expect(errors).toEqual([new ClientClosedError('pool', 1), new ClientClosedError('pool', 0)]);
      });
      at(8, () => busy.complete());
      at(9, () => expect([ended(1), ended(2), ended(3)]).toEqual([true, false, false]));
      at(1010, () => {
        expect([ended(1), ended(2), ended(3)]).toEqual([true, true, true]);
        expect(conns.size).toBe(0);
      });
    });
  });

  it('works with await: lastValueFrom of a use gives its connection back, firstValueFrom of an attached use too', async () => {
    const { connect } = numberingServer();
    const conns = pool(connect, { max: 1 });
    await expect(lastValueFrom(conns.use((conn) => ask(conn, 'a')))).resolves.toBe('1:a');
    await expect(lastValueFrom(conns.use((conn) => ask(conn, 'b')))).resolves.toBe('1:b');
    conns.close();
    const rpcs = pool(numberingServer().connect, { max: 1, attach: (conn) => requester(conn, lines) });
    await expect(firstValueFrom(rpcs.use((rpc) => rpc.request('a')))).resolves.toBe('1:a');
    await expect(firstValueFrom(rpcs.use((rpc) => rpc.request('b')))).resolves.toBe('1:b');
    rpcs.close();
  });

  describe('hostile and unlucky cases', () => {
    it('backs refills of min off while connects fail (synchronously here): no loop, a few attempts a second', () => {
      virtual((at) => {
        let attempts = 0;
        const conns = pool(
          () => {
            attempts++;
            throw Object.assign(new Error('connect ECONNREFUSED'), { code: 'ECONNREFUSED' });
          },
          { min: 1 },
        );
        at(1000, () => {
          expect(attempts).toBeGreaterThanOrEqual(3);
          expect(attempts).toBeLessThanOrEqual(6); // 0, 100, 300, 700 ms
          conns.close();
        });
      });
    });

    it('backs refills of min off when the server accepts and closes at once', () => {
      virtual((at) => {
        const server = memoryServer();
        let accepted = 0;
        server.listen().subscribe((conn) => {
          accepted++;
          conn.destroy();
        });
        const conns = pool(() => server.connect(), { min: 1, max: 2 });
        at(1000, () => {
          expect(accepted).toBeGreaterThanOrEqual(3);
          expect(accepted).toBeLessThanOrEqual(8);
          conns.close();
        });
      });
    });

    it('bounds the handshake and validate by setupTimeout; close() gives up a connection being opened', () => {
      virtual((at) => {
        const { connect, clients, ended } = numberingServer();
        const stuck = pool(connect, { max: 1, handshake: () => NEVER, setupTimeout: 50 });
        const errors: unknown[] = [];
        stuck.use(() => of(1)).subscribe({ error: (e) => errors.push([asyncScheduler.now(), e.name]) });
        at(60, () => {
          expect(errors).toEqual([[50, 'TimeoutError']]);
          expect({ size: stuck.size, ended: ended(1) }).toEqual({ size: 0, ended: true });
          stuck.use(() => of(1)).subscribe({ error: () => undefined });
          expect(stuck.size).toBe(1);
          stuck.close();
          expect({ size: stuck.size, ended: ended(2) }).toEqual({ size: 0, ended: true });
        });
        let checks = 0;
        const picky = pool(connect, { max: 1, validate: () => (++checks === 1 ? NEVER : of(true)), setupTimeout: 50 });
        at(100, () => picky.use((conn) => ask(conn, 'a')).subscribe());
        at(110, () => picky.use((conn) => ask(conn, 'b')).subscribe((reply) => errors.push(reply)));
        at(200, () => {
          expect(errors.slice(1)).toEqual(['4:b']); // the third connection's validate never answered: a fourth served
          expect(clients).toHaveLength(4);
          picky.close();
        });
      });
    });

    it('ends the use of a connection that emitted at once and was cut by take(1) as it was granted: nothing stays busy', () => {
      virtual((at) => {
        const { connect } = numberingServer();
        const conns = pool(connect, { max: 1 });
        conns.use(() => timer(10)).subscribe();
        conns
          .use(() => concat(of('x'), NEVER))
          .pipe(take(1))
          .subscribe();
        at(20, () => {
          // Left unfinished, a use of the connection itself costs the connection (a reply may still come).
          expect({ busy: conns.busy, size: conns.size, waiting: conns.waiting }).toEqual({
            busy: 0,
            size: 0,
            waiting: 0,
          });
          conns.close();
        });
      });
    });

    it('serves 3,000 uses that finish at once behind a busy connection without recursion', () => {
      virtual((at) => {
        const { connect } = numberingServer();
        const conns = pool(connect, { max: 1 });
        let done = 0;
        conns.use(() => timer(10)).subscribe();
        for (let i = 0; i < 3000; i++) conns.use(() => of(i)).subscribe({ complete: () => done++ });
        at(20, () => {
          expect(done).toBe(3000);
          expect({ busy: conns.busy, idle: conns.idle, waiting: conns.waiting }).toEqual({
            busy: 0,
            idle: 1,
            waiting: 0,
          });
          conns.close();
        });
      });
    });

    it('maxWaiting 0 still lends an idle connection', () => {
      virtual((at) => {
        const { connect } = numberingServer();
        const conns = pool(connect, { min: 1, maxWaiting: 0 });
        const seen: unknown[] = [];
        at(1, () => conns.use(() => of('served')).subscribe({ next: (v) => seen.push(v), error: (e) => seen.push(e) }));
        at(2, () => {
          expect(seen).toEqual(['served']);
          conns.close();
        });
      });
    });
  });

  describe('argument checks', () => {
    const connect = () => memoryServer().connect();
    it.each([
      ['connect', () => pool(undefined as never)],
      ['options', () => pool(connect, null as never)],
      ['max', () => pool(connect, { max: 0 })],
      ['min', () => pool(connect, { min: -1 })],
      ['min', () => pool(connect, { max: 2, min: 3 })],
      ['idleTimeout', () => pool(connect, { idleTimeout: 1.5 })],
      ['maxLifetime', () => pool(connect, { maxLifetime: -1 })],
      ['acquireTimeout', () => pool(connect, { acquireTimeout: -1 })],
      ['maxWaiting', () => pool(connect, { maxWaiting: -1 })],
      ['setupTimeout', () => pool(connect, { setupTimeout: -1 })],
      ['validate', () => pool(connect, { validate: true as never })],
      ['attach', () => pool(connect, { attach: 'x' as never })],
      ['handshake', () => pool(connect, { handshake: 1 as never })],
      ['scheduler', () => pool(connect, { scheduler: {} as never })],
      ['port', () => pool({ port: -1 })],
    ])('throws InvalidArgumentError for a bad %s', (argument, make) => {
      expect(make).toThrow(InvalidArgumentError);
      expect(make).toThrow(expect.objectContaining({ argument }));
    });
  });
});
