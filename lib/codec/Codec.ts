// Codec: a decoder (bytes → messages) paired with an encoder (messages → bytes), and the operators that use both.
import { Observable } from 'rxjs';
import type { OperatorFunction } from 'rxjs';
import { decodeFrames } from '../framing/decodeFrames';
import type { Framer } from '../framing/Framer';
import { OperatorSubscriber } from '../util/OperatorSubscriber';
import type { Subscriber } from 'rxjs';
import type { Chunk } from '../types';
import { InvalidArgumentError } from '../errors';

/**
 * A protocol's two directions in one value, as Netty's `ByteToMessageCodec` and Akka's `BidiFlow`
 * pair them: `decoder()` makes the state machine that turns one connection's bytes into messages
 * (a {@link Framer}: limits checked at the header, before the body is held), `encode` turns one
 * message into bytes. A server of the protocol decodes requests and encodes replies; a client
 * uses the codec of the other side (`In` and `Out` swapped).
 *
 * ```
 * conn.data$ ──decodeWith(codec)──▶ In ──(your logic)──▶ Out ──encodeWith(codec)──▶ sendTo(conn)
 * ```
 *
 * @example
 * ```ts
 * import { map } from 'rxjs';
 * import { FrameTooLongError, decodeWith, encodeWith, listen, sendTo, serveEach, type Codec } from 'rxnet';
 *
 * // Lines of UTF-8 text in and out, at most 1 KiB each.
 * const text: Codec<string, string> = {
 *   decoder: () => {
 *     let held: Buffer = Buffer.alloc(0);
 *     return {
 *       push: (chunk) => {
 *         held = held.length === 0 ? chunk : Buffer.concat([held, chunk]);
 *       },
 *       read: () => {
 *         const end = held.indexOf(10);
 *         if (end < 0) {
 *           if (held.length > 1024) throw new FrameTooLongError(1024, held.length);
 *           return undefined;
 *         }
 *         const line = held.subarray(0, end).toString('utf8');
 *         held = held.subarray(end + 1);
 *         return line;
 *       },
 *       end: () => undefined,
 *       clear: () => {
 *         held = Buffer.alloc(0);
 *       },
 *     };
 *   },
 *   encode: (line) => `${line}\n`,
 * };
 * listen({ port: 8107 })
 *   .pipe(serveEach((conn) => conn.data$.pipe(decodeWith(text), map((l) => l.toUpperCase()), encodeWith(text), sendTo(conn))))
 *   .subscribe();
 * ```
 */
export interface Codec<In, Out = In> {
  /** A fresh decoder for one stream of bytes (each subscription of `decodeWith` makes its own). */
  decoder(): Framer<In>;
  /** The bytes of one message; throws a typed error (`EncodeError`, `FrameTooLongError`, ...) for one it cannot encode. */
  encode(message: Out): Chunk;
}

/**
 * Decodes a stream of bytes with `codec`: `decodeFrames(codec.decoder)`, one decoder per subscription.
 *
 * ```
 * source:  -[*1\r\n$4\r\nPI]-[NG\r\n]-|
 * output:  ------------------['PING']-|     (codec: RESP commands)
 * ```
 *
 * Limits and end of stream are the decoder's (see {@link decodeFrames}).
 *
 * @example
 * ```ts
 * import { decodeWith, type Codec, type Connection } from 'rxnet';
 *
 * declare const conn: Connection;
 * declare const codec: Codec<unknown, unknown>;
 * conn.data$.pipe(decodeWith(codec)).subscribe((message) => console.log(message));
 * ```
 */
export function decodeWith<In>(codec: Codec<In, unknown>): OperatorFunction<Buffer, In> {
  checkCodec(codec);
  return decodeFrames(() => codec.decoder());
}

/**
 * Encodes each message with `codec.encode`, in order; a message it cannot encode is the error
 * notification (the source is unsubscribed).
 *
 * ```
 * source:  -a-b-|
 * output:  -A-B-|      A, B: the bytes of a and b
 * ```
 *
 * @example
 * ```ts
 * import { encodeWith, sendTo, type Codec, type Connection } from 'rxnet';
 * import { of } from 'rxjs';
 *
 * declare const conn: Connection;
 * declare const codec: Codec<unknown, string[]>;
 * of(['SET', 'k', 'v'], ['GET', 'k']).pipe(encodeWith(codec), sendTo(conn, { end: false })).subscribe();
 * ```
 */
export function encodeWith<Out>(codec: Codec<unknown, Out>): OperatorFunction<Out, Chunk> {
  checkCodec(codec);
  return (source) => new Observable<Chunk>((subscriber) => source.subscribe(new EncodeSubscriber(subscriber, codec)));
}

class EncodeSubscriber<Out> extends OperatorSubscriber<Out, Chunk> {
  constructor(
    downstream: Subscriber<Chunk>,
    private readonly codec: Codec<unknown, Out>,
  ) {
    super(downstream);
  }

  next(message: Out): void {
    let bytes: Chunk;
    try {
      bytes = this.codec.encode(message);
    } catch (error) {
      this.error(error);
      return;
    }
    this.downstream.next(bytes);
  }
}

function checkCodec(codec: Codec<unknown, unknown>): void {
  if (
    codec === null ||
    typeof codec !== 'object' ||
    typeof codec.decoder !== 'function' ||
    typeof codec.encode !== 'function'
  ) {
    throw new InvalidArgumentError('codec', 'expected { decoder(), encode(message) }');
  }
}
