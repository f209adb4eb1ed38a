// wiretap(): a debug tap that logs each chunk passing by as a hex dump, off unless asked for.
import { Buffer } from 'buffer';
import { tap } from 'rxjs';
import type { MonoTypeOperatorFunction, Observable } from 'rxjs';
import { InvalidArgumentError } from '../errors';
import type { Chunk, Connection } from '../types';
import { checkInteger } from '../util/validate';

/**
 * Which way the chunks flow: read from the peer (`'in'`) or written to it (`'out'`).
 *
 * @example
 * ```ts
 * import { wiretap, type Connection, type WiretapDirection } from 'rxnet';
 *
 * declare const conn: Connection;
 * const direction: WiretapDirection = 'in';
 * conn.data$.pipe(wiretap(conn, direction, { enabled: true })).subscribe();
 * ```
 */
export type WiretapDirection = 'in' | 'out';

/**
 * Options of {@link wiretap}.
 *
 * @example
 * ```ts
 * import { wiretap, type Connection, type WiretapOptions } from 'rxnet';
 *
 * declare const conn: Connection;
 * const lines: string[] = [];
 * const config: WiretapOptions = { enabled: true, maxBytes: 64, log: (text) => lines.push(text) };
 * conn.data$.pipe(wiretap(conn, 'in', config)).subscribe();
 * ```
 */
export interface WiretapOptions {
  /**
   * Log at all? Default: whether the environment variable `RXNET_WIRETAP` is set to something
   * other than `''`, `'0'` or `'false'` when the operator is created. When off, the operator is
   * the identity function: it costs nothing.
   */
  readonly enabled?: boolean;
  /** Where the dumps go, one call per chunk (lines joined by `\n`); `console.error` by default. */
  readonly log?: (text: string) => void;
  /** Bytes of each chunk to dump; the rest is counted, not shown (default 256). */
  readonly maxBytes?: number;
}

/**
 * The environment variable that turns every {@link wiretap} on that has no `enabled` option:
 * `RXNET_WIRETAP`. Read when each operator is created.
 *
 * @example
 * ```ts
 * import { WIRETAP_ENV } from 'rxnet';
 *
 * // Turn dumps on from code, before the pipelines are built (the same as RXNET_WIRETAP=1 in the shell).
 * process.env[WIRETAP_ENV] = '1';
 * ```
 */
export const WIRETAP_ENV = 'RXNET_WIRETAP';

/**
 * Mirrors the source and logs every chunk as a hex dump headed by the connection id and the
 * direction, like Netty's `LoggingHandler`; for debugging a protocol on the wire. Off by
 * default: set `RXNET_WIRETAP=1` or pass `{ enabled: true }`.
 *
 * ```
 * source:  --[68 69 0a]------|
 * output:  --[68 69 0a]------|
 * log:     "conn 7 in 3 B"
 *          "00000000  68 69 0a                                          |hi.|"
 *                                                     ... then "conn 7 in end"
 * ```
 *
 * Put it on `data$` (`'in'`), or in front of a sink (`'out'`): strings are dumped as their UTF-8
 * bytes. Values are passed on untouched and in the same tick.
 *
 * Limits: at most `maxBytes` of each chunk are dumped (16 bytes a line), then `… N more byte(s)`.
 * End of stream: completion logs `end`, an error logs `error: message`; both are passed on. A
 * throwing logger errors the output.
 *
 * @param connection The connection, or its id, named in each dump.
 * @param direction `'in'` for what was read, `'out'` for what is written.
 * @throws InvalidArgumentError at creation for a bad direction or `maxBytes`.
 * @example
 * ```ts
 * import { listen, sendTo, wiretap, serveEach } from 'rxnet';
 *
 * // An echo server that dumps both directions of every connection when RXNET_WIRETAP=1.
 * listen({ port: 8107 })
 *   .pipe(
 *     serveEach((conn) =>
 *       conn.data$.pipe(wiretap(conn, 'in'), wiretap(conn, 'out'), sendTo(conn, { pauseSource: conn })),
 *     ),
 *   )
 *   .subscribe();
 * ```
 */
export function wiretap<T extends Chunk>(
  connection: Connection | number,
  direction: WiretapDirection,
  config: WiretapOptions = {},
): MonoTypeOperatorFunction<T> {
  if (direction !== 'in' && direction !== 'out') {
    throw new InvalidArgumentError('direction', `expected 'in' or 'out', got ${String(direction)}`);
  }
  const maxBytes = checkInteger('maxBytes', config.maxBytes ?? 256, 0);
  const enabled = config.enabled ?? enabledByEnvironment();
  if (!enabled) return identity;
  const log = config.log ?? ((text: string) => console.error(text));
  const id = typeof connection === 'number' ? connection : connection.id;
  const head = `conn ${id} ${direction}`;

  return tap<T>({
    next: (value) => log(hexDump(head, toBuffer(value), maxBytes)),
    error: (error: unknown) => {
      try {
        log(`${head} error: ${error instanceof Error ? error.message : String(error)}`);
      } catch {
        // The source's error is the one to pass on.
      }
    },
    complete: () => log(`${head} end`),
  });
}

/**
 * Formats `bytes` as `hexdump -C` does, under a heading line: offset, 16 bytes in hex (a gap after
 * 8), and the printable ASCII characters between bars.
 *
 * ```
 * conn 7 in 18 B
 * 00000000  68 65 6c 6c 6f 20 72 78  6e 65 74 0d 0a 00 ff 41  |hello rxnet....A|
 * 00000010  42 43                                             |BC|
 * ```
 *
 * Limits: shows the first `maxBytes` bytes (all by default), then `… N more byte(s)`; an empty
 * chunk is the heading alone.
 *
 * @example
 * ```ts
 * import { hexDump } from 'rxnet';
 *
 * console.error(hexDump('frame 1', Buffer.from('hello\r\n')));
 * ```
 */
export function hexDump(heading: string, bytes: Uint8Array, maxBytes = bytes.length): string {
  const shown = Math.min(bytes.length, maxBytes);
  const lines = [`${heading} ${bytes.length} B`];
  for (let offset = 0; offset < shown; offset += 16) {
    const end = Math.min(offset + 16, shown);
    let hex = '';
    let text = '';
    for (let i = offset; i < offset + 16; i++) {
      if (i === offset + 8) hex += ' ';
      if (i < end) {
        const byte = bytes[i];
        hex += HEX[byte] + ' ';
        text += byte >= 0x20 && byte < 0x7f ? String.fromCharCode(byte) : '.';
      } else {
        hex += '   ';
      }
    }
    lines.push(`${offset.toString(16).padStart(8, '0')}  ${hex} |${text}|`);
  }
  if (shown < bytes.length) lines.push(`… ${bytes.length - shown} more byte(s)`);
  return lines.join('\n');
}

const HEX = Array.from({ length: 256 }, (_, i) => i.toString(16).padStart(2, '0'));

function toBuffer(value: Chunk): Uint8Array {
  return typeof value === 'string' ? Buffer.from(value, 'utf8') : value;
}

function enabledByEnvironment(): boolean {
  const value = process.env[WIRETAP_ENV];
  return value !== undefined && value !== '' && value !== '0' && value.toLowerCase() !== 'false';
}

function identity<T>(source: Observable<T>): Observable<T> {
  return source;
}

/** @deprecated The former name of {@link WiretapOptions}, kept so that code written for 0.1 compiles. */
export type WiretapConfig = WiretapOptions;
