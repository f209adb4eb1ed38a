// Marble helpers for byte streams: Buffers from letters, chunks as text or hex, a TestScheduler that compares them.
import { Buffer } from 'buffer';
import { deepStrictEqual } from 'assert';
import { map } from 'rxjs';
import type { OperatorFunction } from 'rxjs';
import { TestScheduler } from 'rxjs/testing';

/**
 * How {@link comparable} shows bytes: `'text'` (UTF-8), or any Buffer encoding (`'hex'` for
 * lowercase hex, `'latin1'`, `'base64'`).
 *
 * @example
 * ```ts
 * import { comparable, type BytesAs } from 'rxnet/testing';
 *
 * const as: BytesAs = 'hex';
 * comparable({ frame: Buffer.from([1, 2]) }, { bytesAs: as }); // { frame: '0102' }
 * ```
 */
export type BytesAs = BufferEncoding | 'text';

/**
 * Turns a marble `values` map of strings (or byte arrays) into Buffers, so a cold or hot
 * Observable in a marble test emits real chunks.
 *
 * ```
 * cold('-a-b|', bytes({ a: 'he', b: [0x6c, 0x6c, 0x6f] }))   emits Buffer 'he', then Buffer 'llo'
 * ```
 *
 * Strings are encoded with `encoding` (default UTF-8; `'hex'` reads hex fixtures, `'latin1'`
 * one byte per character). Buffers and Uint8Arrays given are copied.
 *
 * @example
 * ```ts
 * import { bytes } from 'rxnet/testing';
 * const values = bytes({ a: 'hello\n', b: [0xff, 0x00] });   // UTF-8 text, raw bytes
 * const frames = bytes({ h: '00000002abcd' }, 'hex');      // a hex fixture
 * ```
 */
export function bytes(
  values: Record<string, string | readonly number[] | Uint8Array>,
  encoding: BufferEncoding = 'utf8',
): Record<string, Buffer> {
  const out: Record<string, Buffer> = {};
  for (const [key, value] of Object.entries(values)) {
    out[key] = typeof value === 'string' ? Buffer.from(value, encoding) : Buffer.from(value as Uint8Array);
  }
  return out;
}

/**
 * Maps each chunk to a string (UTF-8 by default), so `expectObservable` can be given strings.
 *
 * ```
 * data$:            -[68 69]--[21]-|
 * asText():         -'hi'-----'!'--|
 * asText('hex'):    -'6869'---'21'-|
 * ```
 *
 * A chunk cut inside a multi-byte character shows replacement characters: use `'latin1'`, or
 * `'hex'`, to see each byte. Errors and completion pass through.
 *
 * @example
 * ```ts
 * import { asText, connectionPair } from 'rxnet/testing';
 * const [, server] = connectionPair();
 * server.data$.pipe(asText()).subscribe((text) => console.log(text));
 * ```
 */
export function asText(encoding: BufferEncoding = 'utf8'): OperatorFunction<Uint8Array, string> {
  return map((chunk) => toBuffer(chunk).toString(encoding));
}

/**
 * Maps each chunk to lowercase hex; shorthand for `asText('hex')`.
 *
 * ```
 * data$:    -[00 02 ab cd]-|
 * asHex():  -'0002abcd'----|
 * ```
 *
 * @example
 * ```ts
 * import { asHex, connectionPair } from 'rxnet/testing';
 * const [, server] = connectionPair();
 * server.data$.pipe(asHex()).subscribe((hex) => console.log(hex));
 * ```
 */
export function asHex(): OperatorFunction<Uint8Array, string> {
  return asText('hex');
}

/**
 * Options of {@link comparable}, and so of {@link createTestScheduler} (see {@link CreateTestSchedulerOptions}).
 *
 * @example
 * ```ts
 * import { createTestScheduler, type ComparableOptions } from 'rxnet/testing';
 *
 * const binary: ComparableOptions = { bytesAs: 'hex' };
 * const scheduler = createTestScheduler(binary); // expected values written as hex strings
 * ```
 */
export interface ComparableOptions {
  /**
   * How Buffers and Uint8Arrays are shown: `'text'` (default) decodes them as UTF-8, any
   * Buffer encoding (`'hex'`, `'latin1'`, `'base64'`) encodes them as such.
   */
  readonly bytesAs?: BytesAs;
}

/**
 * Turns values into plain data that compares well and reads well in a diff: Buffers become
 * strings (text by default, or hex), errors become `{ name, code, ...their own fields }`
 * (with `message` only when they have no `code`, never the stack), marble frames become
 * `{ frame, kind, value?, error? }`; arrays and plain objects are walked, class instances kept.
 *
 * ```
 * comparable(Buffer.from('hi'))                       'hi'
 * comparable(Buffer.from('hi'), { bytesAs: 'hex' })   '6869'
 * comparable(new IdleTimeoutError(5))                 { name: 'IdleTimeoutError', code: 'ERR_IDLE_TIMEOUT', ms: 5 }
 * ```
 *
 * So a Buffer equals the string it decodes to: in a marble test of bytes, expected values can
 * be written as plain strings. Use it with any assertion library:
 *
 * @example
 * ```ts
 * import { TestScheduler } from 'rxjs/testing';
 * import { comparable } from 'rxnet/testing';
 *
 * const scheduler = new TestScheduler((actual, expected) => {
 *   expect(comparable(actual)).toEqual(comparable(expected));
 * });
 * ```
 */
export function comparable(value: unknown, options: ComparableOptions = {}): unknown {
  return normalize(value, options.bytesAs ?? 'text');
}

/**
 * Options of {@link createTestScheduler}: how bytes compare (those of {@link comparable}) and the assertion.
 *
 * @example
 * ```ts
 * import { createTestScheduler, type CreateTestSchedulerOptions } from 'rxnet/testing';
 *
 * // Jest's diffs instead of Node's assert, bytes compared as hex.
 * const options: CreateTestSchedulerOptions = { bytesAs: 'hex', assertDeepEqual: (a, e) => expect(a).toEqual(e) };
 * const scheduler = createTestScheduler(options);
 * ```
 */
export interface CreateTestSchedulerOptions extends ComparableOptions {
  /** Throws when `actual` and `expected` differ (both already through `comparable`); Node's `assert.deepStrictEqual` by default. */
  readonly assertDeepEqual?: (actual: unknown, expected: unknown) => void;
}

/**
 * A `TestScheduler` whose `expectObservable` and `expectSubscriptions` compare through
 * {@link comparable}: chunks as text (or hex), errors by name, code and data.
 *
 * ```
 * expectObservable(server.data$).toBe('-a-b|', { a: 'he', b: 'llo' })   strings match Buffers
 * ```
 *
 * The assertion defaults to Node's `assert.deepStrictEqual`, which needs no test framework;
 * pass your framework's (`(a, e) => expect(a).toEqual(e)`) for its diffs.
 *
 * @example
 * ```ts
 * import { asyncScheduler } from 'rxjs';
 * import { connectionPair, createTestScheduler } from 'rxnet/testing';
 *
 * createTestScheduler({ bytesAs: 'hex' }).run(({ expectObservable }) => {
 *   const [client, server] = connectionPair({ latency: 2 });
 *   asyncScheduler.schedule(() => client.end(Buffer.from([0xca, 0xfe])), 1);
 *   expectObservable(server.data$).toBe('---(a|)', { a: 'cafe' });
 * });
 * ```
 */
export function createTestScheduler(options: CreateTestSchedulerOptions = {}): TestScheduler {
  const assert = options.assertDeepEqual ?? deepStrictEqual;
  return new TestScheduler((actual, expected) => assert(comparable(actual, options), comparable(expected, options)));
}

function normalize(value: unknown, bytesAs: BytesAs): unknown {
  if (value instanceof Uint8Array) {
    return bytesAs === 'text' ? toBuffer(value).toString('utf8') : toBuffer(value).toString(bytesAs);
  }
  if (value instanceof Error) return errorData(value, bytesAs);
  if (Array.isArray(value)) return value.map((v) => normalize(v, bytesAs));
  if (isPlainObject(value)) {
    if (isFrame(value)) {
      const n = value.notification;
      const out: Record<string, unknown> = { frame: value.frame, kind: n.kind };
      if (n.kind === 'N') out.value = normalize(n.value, bytesAs);
      if (n.kind === 'E') out.error = normalize(n.error, bytesAs);
      return out;
    }
    const out: Record<string, unknown> = {};
    for (const [k, v] of Object.entries(value)) out[k] = normalize(v, bytesAs);
    return out;
  }
  return value;
}

function errorData(error: Error, bytesAs: BytesAs): Record<string, unknown> {
  const data: Record<string, unknown> = { name: error.name };
  const own = error as unknown as Record<string, unknown>;
  if (own.code === undefined) data.message = error.message;
  for (const [key, v] of Object.entries(own)) {
    if (key !== 'message' && key !== 'stack') data[key] = normalize(v, bytesAs);
  }
  return data;
}

interface Frame {
  frame: number;
  notification: { kind: 'N' | 'E' | 'C'; value?: unknown; error?: unknown };
}

function isFrame(value: object): value is Frame {
  const v = value as Partial<Frame>;
  return typeof v.frame === 'number' && typeof v.notification === 'object' && v.notification !== null;
}

function isPlainObject(value: unknown): value is Record<string, unknown> {
  if (typeof value !== 'object' || value === null) return false;
  const proto = Object.getPrototypeOf(value);
  return proto === Object.prototype || proto === null;
}

function toBuffer(chunk: Uint8Array): Buffer {
  return Buffer.isBuffer(chunk) ? chunk : Buffer.from(chunk.buffer, chunk.byteOffset, chunk.byteLength);
}
