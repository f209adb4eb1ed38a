// Marble helpers: bytes() values, asText/asHex, comparable() and the byte-aware TestScheduler.
import { of } from 'rxjs';
import { IdleTimeoutError } from '../../lib/errors';
import { asHex, asText, bytes, comparable, createTestScheduler } from '../../lib/testing';

describe('bytes', () => {
  it('makes Buffers from strings (UTF-8 or another encoding) and byte arrays', () => {
    const values = bytes({ a: 'hé', b: [1, 2, 255], c: Uint8Array.of(7) });
    expect(values.a.equals(Buffer.from([0x68, 0xc3, 0xa9]))).toBe(true);
    expect(values.b.equals(Buffer.from([1, 2, 255]))).toBe(true);
    expect(Buffer.isBuffer(values.c)).toBe(true);
    expect(bytes({ h: '0002abcd' }, 'hex').h.equals(Buffer.from([0, 2, 0xab, 0xcd]))).toBe(true);
  });
});

describe('asText and asHex', () => {
  it('map chunks to strings', () => {
    const out: string[] = [];
    of(Buffer.from('hi'), Uint8Array.of(0xca, 0xfe))
      .pipe(asHex())
      .subscribe((s) => out.push(s));
    of(Buffer.from('hé'))
      .pipe(asText())
      .subscribe((s) => out.push(s));
    of(Buffer.from('hé'))
      .pipe(asText('latin1'))
      .subscribe((s) => out.push(s));
    expect(out).toEqual(['6869', 'cafe', 'hé', 'hÃ©']);
  });
});

describe('comparable', () => {
  it('shows bytes as text by default, or in the encoding asked for', () => {
    expect(comparable(Buffer.from('hi'))).toBe('hi');
    expect(comparable(Buffer.from('hi'), { bytesAs: 'hex' })).toBe('6869');
  });

  it('shows errors as name, code and own fields; the message only when there is no code', () => {
    expect(comparable(new IdleTimeoutError(5))).toEqual({ name: 'IdleTimeoutError', code: 'ERR_IDLE_TIMEOUT', ms: 5 });
    expect(comparable(new TypeError('bad'))).toEqual({ name: 'TypeError', message: 'bad' });
  });

  it('walks arrays and plain objects and keeps class instances as they are', () => {
    const date = new Date(0);
    expect(comparable([{ type: 'data', chunk: Buffer.from('x') }, date])).toEqual([{ type: 'data', chunk: 'x' }, date]);
  });
});

describe('createTestScheduler', () => {
  it('lets expected values be strings for Buffers', () => {
    createTestScheduler().run(({ cold, expectObservable }) => {
      expectObservable(cold('-a|', bytes({ a: 'ok' }))).toBe('-a|', { a: 'ok' });
    });
  });

  it('compares in hex when asked', () => {
    createTestScheduler({ bytesAs: 'hex' }).run(({ cold, expectObservable }) => {
      expectObservable(cold('-a|', { a: Buffer.from([0xca, 0xfe]) })).toBe('-a|', { a: 'cafe' });
    });
  });

  it('compares errors by name, code and data, not by identity', () => {
    createTestScheduler().run(({ cold, expectObservable }) => {
      expectObservable(cold('-#', undefined, new IdleTimeoutError(3))).toBe('-#', undefined, new IdleTimeoutError(3));
    });
  });

  it('fails on different bytes, with Node assert by default', () => {
    expect(() =>
      createTestScheduler().run(({ cold, expectObservable }) => {
        expectObservable(cold('-a|', bytes({ a: 'one' }))).toBe('-a|', { a: 'two' });
      }),
    ).toThrow(/deep-equal|deepStrictEqual|Expected/);
    expect(() =>
      createTestScheduler().run(({ cold, expectObservable }) => {
        expectObservable(cold('-#', undefined, new IdleTimeoutError(3))).toBe('-#', undefined, new IdleTimeoutError(4));
      }),
    ).toThrow();
  });
});
