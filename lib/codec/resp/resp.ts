// respClient(), respServer() and decodeResp(): the RESP codecs of each side of a Redis connection, and the decode operator.
import type { OperatorFunction } from 'rxjs';
import type { Codec } from '../Codec';
import { decodeWith } from '../Codec';
import type { Framer } from '../../framing/Framer';
import { checkOptions } from '../../util/validate';
import { encodeResp, encodeRespCommand } from './encodeResp';
import type { RespDecodeOptions } from './RespDecodeOptions';
import { RespFramer } from './RespFramer';
import type { RespCommand, RespValue } from './RespValue';

/**
 * Options of {@link respServer}: those of its decoder, and the protocol its replies are written in.
 *
 * @example
 * ```ts
 * import { respServer, type RespServerOptions } from 'rxnet';
 *
 * const options: RespServerOptions = { version: 3, maxBulkLength: 1 << 20, maxInlineLength: 4096 };
 * const codec = respServer(options);
 * ```
 */
export interface RespServerOptions extends RespDecodeOptions {
  /** The protocol replies are written in: 2 (default) or 3 (once a client said `HELLO 3`: make a new codec). */
  readonly version?: 2 | 3;
}

/**
 * The client side of RESP: decodes replies (any RESP2/RESP3 value, errors as {@link RespError}
 * values) and encodes commands as arrays of bulk strings.
 *
 * ```
 * commands: ['GET','k'] ──encode──▶ *2\r\n$3\r\nGET\r\n$1\r\nk\r\n ──▶ redis
 * replies:  $1\r\nv\r\n+OK\r\n ──decoder──▶ <v>, 'OK'
 * ```
 *
 * Limits and end of stream: the decoder's ({@link RespFramer}: `maxBulkLength` 512 MiB,
 * `maxAggregateLength` 2^20, `maxDepth` 32 by default, `TruncatedFrameError` for a reply cut
 * short); a command that cannot be encoded raises `EncodeError`. Replies come in the order of
 * the commands, RESP3 pushes ({@link RespPush}) in between.
 *
 * @example
 * ```ts
 * import { from } from 'rxjs';
 * import { connect, decodeWith, encodeWith, respClient, sendTo, type RespCommand } from 'rxnet';
 *
 * const redis = respClient();
 * connect({ port: 6379 }).subscribe((conn) => {
 *   conn.data$.pipe(decodeWith(redis)).subscribe((reply) => console.log(reply)); // 'OK', <v>
 *   from<RespCommand[]>([['SET', 'k', 'v'], ['GET', 'k']]).pipe(encodeWith(redis), sendTo(conn, { end: false })).subscribe();
 * });
 * ```
 */
export function respClient(options: RespDecodeOptions = {}): Codec<RespValue, RespCommand> {
  checkOptions(options);
  // Checked now, at creation, rather than at the first connection.
  new RespFramer(options).clear();
  return {
    decoder: () => new RespFramer(options),
    encode: encodeRespCommand,
  };
}

/**
 * The server side of RESP, as redis-server speaks it: decodes commands (arrays, and inline
 * commands such as `PING\r\n` split on spaces into bulk strings, unless `inline: false`) and
 * encodes replies in RESP2, or RESP3 with `version: 3`.
 *
 * ```
 * requests: *1\r\n$4\r\nPING\r\nPING\r\n ──decoder──▶ [<PING>], [<PING>]
 * replies:  'PONG' ──encode──▶ +PONG\r\n
 * ```
 *
 * Limits: the decoder's ({@link RespFramer}), with `maxInlineLength` 64 KiB for an inline line;
 * a top-level value that is no array is an inline command (or a `RespProtocolError` with `inline:
 * false`); null and empty arrays are skipped, as redis-server does. A reply that cannot be encoded
 * raises `EncodeError`. End of stream: a command cut short raises `TruncatedFrameError`.
 *
 * @example
 * ```ts
 * import { map } from 'rxjs';
 * import { RespError, decodeWith, encodeWith, listen, respServer, sendTo, serveEach, type RespValue } from 'rxnet';
 *
 * const resp = respServer();
 * const reply = (command: RespValue[]): RespValue =>
 *   String(command[0]).toUpperCase() === 'PING' ? 'PONG' : new RespError('ERR unknown command');
 * listen({ port: 6380 })
 *   .pipe(serveEach((conn) => conn.data$.pipe(decodeWith(resp), map(reply), encodeWith(resp), sendTo(conn))))
 *   .subscribe();
 * ```
 */
export function respServer(options: RespServerOptions = {}): Codec<RespValue[], RespValue> {
  checkOptions(options);
  const decoding: RespDecodeOptions = { ...options, inline: options.inline ?? true, commands: true };
  new RespFramer(decoding).clear();
  const encoding = { version: options.version ?? 2 } as const;
  encodeResp(null, encoding);
  return {
    // In command mode every top-level value is an array.
    decoder: () => new RespFramer(decoding) as Framer<RespValue> as Framer<RespValue[]>,
    encode: (reply) => encodeResp(reply, encoding),
  };
}

/**
 * Decodes RESP values (the replies of a Redis server, or any RESP2/RESP3 stream):
 * `decodeWith(respClient(options))`.
 *
 * ```
 * source:  -[+OK\r\n:4]-[2\r\n$-1\r\n-ERR x\r\n]-|
 * output:  -'OK'--------(42, null, RespError)-----|
 * ```
 *
 * Limits: those of {@link RespFramer} (`RespLimitError` at the header, `RespProtocolError` for
 * bad bytes). An error reply is a value, not an error notification. End of stream: a value cut
 * short raises `TruncatedFrameError`.
 *
 * @throws InvalidArgumentError at creation for a bad option.
 * @example
 * ```ts
 * import { RespError, decodeResp, type Connection } from 'rxnet';
 *
 * declare const conn: Connection;
 * conn.data$.pipe(decodeResp({ maxBulkLength: 1 << 20 })).subscribe((reply) => {
 *   if (reply instanceof RespError) console.warn(reply.prefix, reply.message);
 * });
 * ```
 */
export function decodeResp(options: RespDecodeOptions = {}): OperatorFunction<Buffer, RespValue> {
  return decodeWith(respClient(options));
}
