// The values a RESP2/RESP3 message carries: a small typed model shared by the decoder and the encoders.
import type { Buffer } from 'buffer';

/**
 * An error reply (`-ERR unknown command\r\n`, or RESP3's blob error `!`), kept as a value: the
 * decoder hands it out like any reply and never throws it. Not an `Error`, so no stack is captured.
 *
 * ```
 * -WRONGTYPE Operation against a key\r\n   →  RespError { prefix: 'WRONGTYPE', message: 'WRONGTYPE Operation against a key' }
 * ```
 *
 * Limits and end of stream: those of the decoder that read it (its line is bounded by `maxBulkLength`).
 *
 * @example
 * ```ts
 * import { RespError, encodeResp } from 'rxnet';
 *
 * const reply = new RespError('ERR unknown command');
 * console.log(reply.prefix); // ERR
 * encodeResp(reply); // <-ERR unknown command\r\n>
 * ```
 */
export class RespError {
  /** An error whose text is `message`, its first word being its kind (`ERR`, `WRONGTYPE`, `MOVED`, ...). */
  constructor(
    /** The whole text of the error, its prefix included. */
    readonly message: string,
  ) {}

  /** The first word of the message, upper case by convention: `ERR`, `WRONGTYPE`, `NOAUTH`, `MOVED`. */
  get prefix(): string {
    const space = this.message.indexOf(' ');
    return space < 0 ? this.message : this.message.slice(0, space);
  }
}

/**
 * A RESP3 verbatim string (`=`): text with a three-letter format, `txt` or `mkd`.
 *
 * ```
 * =15\r\ntxt:Some string\r\n   →  RespVerbatim { format: 'txt', text: 'Some string' }
 * ```
 *
 * Limits and end of stream: a bulk string's (`maxBulkLength`).
 *
 * @example
 * ```ts
 * import { RespVerbatim, encodeResp } from 'rxnet';
 *
 * encodeResp(new RespVerbatim('txt', 'hello'), { version: 3 }); // <=9\r\ntxt:hello\r\n>
 * ```
 */
export class RespVerbatim {
  /** Text `text` in format `format` (three bytes, e.g. `txt`). */
  constructor(
    /** The format: three characters, `txt` (plain text) or `mkd` (markdown). */
    readonly format: string,
    /** The text, decoded as UTF-8. */
    readonly text: string,
  ) {}
}

/**
 * A RESP3 push (`>`): out-of-band data (pub/sub messages, invalidations) that is not the reply to
 * any command, kept apart from arrays so that a client can route it elsewhere.
 *
 * ```
 * >3\r\n$7\r\nmessage\r\n$2\r\nch\r\n$2\r\nhi\r\n   →  RespPush { values: [<message>, <ch>, <hi>] }
 * ```
 *
 * Limits and end of stream: an aggregate's (`maxAggregateLength`, `maxDepth`).
 *
 * @example
 * ```ts
 * import { RespPush, decodeResp, type Connection } from 'rxnet';
 *
 * declare const conn: Connection;
 * conn.data$.pipe(decodeResp()).subscribe((v) => v instanceof RespPush && console.log('push', v.values.length));
 * ```
 */
export class RespPush {
  /** Out-of-band data made of `values` (the first is its kind: `message`, `invalidate`, ...). */
  constructor(
    /** The elements, the kind first. */
    readonly values: RespValue[],
  ) {}
}

/**
 * One RESP value, as the decoder gives it and the encoder takes it:
 *
 * ```
 * +OK                 string            simple string (never contains CR or LF)
 * -ERR x / !3 ERR     RespError         error, as a value
 * :42                 number            integer (a bigint beyond 2^53)
 * $3 abc              Buffer            bulk string, binary-safe (a view of the chunk)
 * $-1 / *-1 / _       null              null bulk, null array, RESP3 null
 * *2 ...              RespValue[]       array
 * ,3.14 / ,inf        number            RESP3 double (an integral double comes back as a number too)
 * #t / #f             boolean           RESP3 boolean
 * (123...             bigint            RESP3 big number
 * =7 txt:abc          RespVerbatim      RESP3 verbatim string
 * %1 ...              Map               RESP3 map
 * ~2 ...              Set               RESP3 set
 * >2 ...              RespPush          RESP3 push (out-of-band)
 * |1 ...              (skipped)         RESP3 attribute: read within the limits, then dropped
 * ```
 *
 * A map's keys are what the decoder gives, so bulk-string keys are Buffers, which `Map.get` finds
 * by identity only: iterate, or rebuild it with `String(key)` keys, to look one up by its text.
 *
 * @example
 * ```ts
 * import { RespError, type RespValue } from 'rxnet';
 *
 * const reply: RespValue = [Buffer.from('v1'), null, 3, new RespError('ERR nope')];
 * ```
 */
export type RespValue =
  | string
  | number
  | bigint
  | boolean
  | null
  | Buffer
  | RespError
  | RespVerbatim
  | RespPush
  | RespValue[]
  | Map<RespValue, RespValue>
  | Set<RespValue>;

/**
 * A command as a client sends it: its name and arguments, each written as a bulk string.
 *
 * ```
 * ['SET', 'k', 1]   →  *3\r\n$3\r\nSET\r\n$1\r\nk\r\n$1\r\n1\r\n
 * ```
 *
 * @example
 * ```ts
 * import { encodeRespCommand, type RespCommand } from 'rxnet';
 *
 * const set: RespCommand = ['SET', 'key', Buffer.from([0, 1, 2]), 'EX', 60];
 * encodeRespCommand(set);
 * ```
 */
export type RespCommand = readonly (string | Buffer | number)[];
