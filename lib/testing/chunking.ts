// How an in-memory wire cuts the bytes that have arrived into the chunks the reader's data$ emits.
import { Buffer } from 'buffer';
import { InvalidArgumentError } from '../errors';
import { checkInteger } from '../util/validate';

/**
 * How bytes that have arrived are cut into the chunks the reader's `data$` emits:
 * - `'writes'`: one chunk per `write()`, as written (the default; easiest to read in marbles);
 * - `'merge'`: everything that has arrived and is unread, as one chunk (what TCP often does);
 * - a number `n`: the bytes that have arrived cut into chunks of at most `n` bytes (1: byte by byte);
 * - a function: given the bytes that have arrived and are unread, returns the chunks (their
 *   concatenation must be those bytes; empty chunks are left out, as a socket never emits one).
 *
 * @example
 * ```ts
 * import { connectionPair, type Chunking } from 'rxnet/testing';
 *
 * // Every chunk split in two, to check that a decoder does not care where chunks end.
 * const halves: Chunking = (bytes) => [bytes.subarray(0, bytes.length >> 1), bytes.subarray(bytes.length >> 1)];
 * const [client, server] = connectionPair({ chunking: halves });
 * ```
 */
export type Chunking = 'writes' | 'merge' | number | ((bytes: Buffer) => readonly Buffer[]);

/** Checks a policy when it is given (a number must be an integer ≥ 1). @internal */
export function checkChunking(policy: Chunking): Chunking {
  if (policy === 'writes' || policy === 'merge' || typeof policy === 'function') return policy;
  checkInteger('chunking', policy, 1);
  return policy;
}

/**
 * The chunks `bytes` is cut into under `policy`, empty ones left out: `bytes` whole for
 * `'writes'` (already one write) and `'merge'`, pieces of at most `n` bytes for a number, and a
 * function's pieces once checked to add up to `bytes`.
 * @throws InvalidArgumentError when a function's pieces are not `bytes`.
 * @internal
 */
export function cutChunks(bytes: Buffer, policy: Chunking): Buffer[] {
  let pieces: readonly Buffer[];
  if (policy === 'merge' || policy === 'writes') pieces = [bytes];
  else if (typeof policy === 'number') {
    const list: Buffer[] = [];
    for (let i = 0; i < bytes.length; i += policy) list.push(bytes.subarray(i, i + policy));
    pieces = list;
  } else {
    pieces = policy(bytes);
    const total = pieces.reduce((sum, p) => sum + p.length, 0);
    if (total !== bytes.length || !Buffer.concat(pieces as Buffer[]).equals(bytes)) {
      throw new InvalidArgumentError(
        'chunking',
        `the chunks returned do not add up to the ${bytes.length} byte(s) given`,
      );
    }
  }
  return pieces.filter((piece) => piece.length > 0);
}
