// The settings of every RESP decoder: limits, inline commands, command mode, copies.

/**
 * Settings of a RESP decoder (`RespFramer`, `decodeResp`, `respClient`, `respServer`).
 *
 * @example
 * ```ts
 * import { decodeResp, type Connection, type RespDecodeOptions } from 'rxnet';
 *
 * declare const conn: Connection;
 * const strict: RespDecodeOptions = { maxBulkLength: 1 << 20, maxAggregateLength: 10_000, maxDepth: 8 };
 * conn.data$.pipe(decodeResp(strict)).subscribe((reply) => console.log(reply));
 * ```
 */
export interface RespDecodeOptions {
  /** Longest bulk string (and simple line) accepted, in bytes. Default 536870912 (512 MiB, Redis's `proto-max-bulk-len`). */
  readonly maxBulkLength?: number;
  /** Most elements an aggregate may announce (a map counts its pairs). Default 1048576 (2^20). */
  readonly maxAggregateLength?: number;
  /** Deepest nesting of aggregates; a top-level array is depth 1. Default 32. */
  readonly maxDepth?: number;
  /** Longest inline command line, in bytes, line ending not counted. Default 65536 (64 KiB, as redis-server). */
  readonly maxInlineLength?: number;
  /** Accept inline commands (`PING\r\n`, `SET k v\r\n`) where a top-level value starts with no RESP type byte. Default false. */
  readonly inline?: boolean;
  /**
   * Read top-level values as redis-server reads commands: only arrays (`*`), the rest being inline
   * commands when `inline` is on (a protocol error otherwise); null and empty arrays are skipped. Default false.
   */
  readonly commands?: boolean;
  /** Hand out every bulk string as its own copy rather than a view of the chunk. Default false. */
  readonly copy?: boolean;
}
