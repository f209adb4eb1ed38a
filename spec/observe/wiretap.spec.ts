// wiretap(): hex dumps with connection id and direction, off by default, logger injectable.
import { Subject, map, of, throwError } from 'rxjs';
import { InvalidArgumentError } from '../../lib/errors';
import { sendTo } from '../../lib/core/sendTo';
import { WIRETAP_ENV, hexDump, wiretap } from '../../lib/observe/wiretap';
import { asText, bytes, connectionPair, createTestScheduler } from '../../lib/testing';
import { behavesAsOperator } from '../support/operatorContract';

const marbles = () => createTestScheduler({ assertDeepEqual: (actual, expected) => expect(actual).toEqual(expected) });

/** Runs `work` with RXNET_WIRETAP set to `value` (or unset), restoring it after. */
function withEnv(value: string | undefined, work: () => void): void {
  const saved = process.env[WIRETAP_ENV];
  if (value === undefined) delete process.env[WIRETAP_ENV];
  else process.env[WIRETAP_ENV] = value;
  try {
    work();
  } finally {
    if (saved === undefined) delete process.env[WIRETAP_ENV];
    else process.env[WIRETAP_ENV] = saved;
  }
}

describe('wiretap', () => {
  behavesAsOperator(() => wiretap<Buffer>(1, 'in', { enabled: true, log: () => {} }), Buffer.from('x'));

  it('logs each chunk as a hex dump headed by the connection id and direction, and passes it on', () => {
    const logs: string[] = [];
    const out: Buffer[] = [];
    const chunk = Buffer.from('hello rxnet\r\n\x00\xffABC', 'latin1');
    of(chunk)
      .pipe(wiretap(7, 'in', { enabled: true, log: (t) => logs.push(t) }))
      .subscribe((c) => out.push(c));
    expect(out).toEqual([chunk]);
    expect(out[0]).toBe(chunk);
    expect(logs).toEqual([
      [
        'conn 7 in 18 B',
        '00000000  68 65 6c 6c 6f 20 72 78  6e 65 74 0d 0a 00 ff 41  |hello rxnet....A|',
        '00000010  42 43                                             |BC|',
      ].join('\n'),
      'conn 7 in end',
    ]);
  });

  it("dumps strings written out as their UTF-8 bytes, naming the connection's id", () => {
    marbles().run(({ cold, flush }) => {
      const [client, server] = connectionPair();
      const logs: string[] = [];
      cold('-a|', { a: 'é!' })
        .pipe(wiretap(client, 'out', { enabled: true, log: (t) => logs.push(t) }), sendTo(client))
        .subscribe();
      server.data$.pipe(asText(), wiretap(server, 'in', { enabled: true, log: (t) => logs.push(t) })).subscribe();
      flush();
      expect(logs).toEqual([
        `conn ${client.id} out 3 B\n00000000  c3 a9 21                                          |..!|`,
        `conn ${server.id} in 3 B\n00000000  c3 a9 21                                          |..!|`,
        `conn ${client.id} out end`,
        `conn ${server.id} in end`,
      ]);
    });
  });

  it('shows at most maxBytes of a chunk and counts the rest', () => {
    const logs: string[] = [];
    of(Buffer.alloc(40, 0x61))
      .pipe(wiretap(1, 'out', { enabled: true, maxBytes: 20, log: (t) => logs.push(t) }))
      .subscribe();
    expect(logs[0].split('\n')).toEqual([
      'conn 1 out 40 B',
      '00000000  61 61 61 61 61 61 61 61  61 61 61 61 61 61 61 61  |aaaaaaaaaaaaaaaa|',
      '00000010  61 61 61 61                                       |aaaa|',
      '… 20 more byte(s)',
    ]);
  });

  it('logs an error and passes it on unchanged, even when the logger throws on it', () => {
    const failure = new Error('ECONNRESET');
    const logs: string[] = [];
    let received: unknown;
    throwError(() => failure)
      .pipe(wiretap(3, 'in', { enabled: true, log: (t) => logs.push(t) }))
      .subscribe({ error: (e) => (received = e) });
    expect(logs).toEqual(['conn 3 in error: ECONNRESET']);
    expect(received).toBe(failure);
    throwError(() => failure)
      .pipe(
        wiretap(3, 'in', {
          enabled: true,
          log: () => {
            throw new Error('log full');
          },
        }),
      )
      .subscribe({ error: (e) => (received = e) });
    expect(received).toBe(failure);
  });

  it('turns a logger that throws on a chunk into an error notification', () => {
    const broken = new Error('log full');
    let received: unknown;
    of(Buffer.from('x'))
      .pipe(
        wiretap(3, 'in', {
          enabled: true,
          log: () => {
            throw broken;
          },
        }),
      )
      .subscribe({ error: (e) => (received = e) });
    expect(received).toBe(broken);
  });

  it('is off by default and then returns the source itself, logging nothing', () => {
    withEnv(undefined, () => {
      const source = new Subject<Buffer>();
      const log = jest.fn();
      expect(wiretap(1, 'in', { log })(source)).toBe(source);
      source.next(Buffer.from('x'));
      expect(log).not.toHaveBeenCalled();
    });
  });

  it('is on when RXNET_WIRETAP is set (other than 0 or false) at creation, unless enabled says otherwise', () => {
    const source = new Subject<Buffer>();
    for (const [value, on] of [
      ['1', true],
      ['yes', true],
      ['0', false],
      ['false', false],
      ['', false],
    ] as const) {
      withEnv(value, () => expect(wiretap(1, 'in', { log: () => {} })(source) !== source).toBe(on));
    }
    withEnv('1', () => expect(wiretap(1, 'in', { enabled: false })(source)).toBe(source));
  });

  it('rejects a bad direction or maxBytes at creation', () => {
    expect(() => wiretap(1, 'sideways' as never)).toThrow(InvalidArgumentError);
    expect(() => wiretap(1, 'in', { maxBytes: -1 })).toThrow(
      expect.objectContaining({ code: 'ERR_INVALID_ARGUMENT', argument: 'maxBytes' }),
    );
  });

  it('dumps an empty chunk as a heading alone', () => {
    expect(hexDump('conn 1 in', Buffer.alloc(0))).toBe('conn 1 in 0 B');
  });

  it('passes values through mapped pipelines untouched', () => {
    marbles().run(({ cold, expectObservable }) => {
      const values = bytes({ a: 'ab', b: 'cd' });
      const logs: string[] = [];
      expectObservable(
        cold('-a-b|', values).pipe(
          wiretap(1, 'in', { enabled: true, log: (t) => logs.push(t) }),
          map((c) => c.toString()),
        ),
      ).toBe('-a-b|', { a: 'ab', b: 'cd' });
    });
  });
});
