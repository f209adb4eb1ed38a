// decodeText(): bytes to text without ever splitting a character across chunks; the reactive setEncoding().
import { Buffer } from 'buffer';
import { StringDecoder } from 'string_decoder';
import type { OperatorFunction } from 'rxjs';
import { InvalidArgumentError } from '../../errors';
import type { Framer } from '../../framing/Framer';
import { decodeFrames } from '../../framing/decodeFrames';

/** A framer turning chunks into the text they complete, holding back a partial character. */
class TextFramer implements Framer<string> {
  private decoder: StringDecoder;
  private pending = '';
  private ended = false;

  constructor(private readonly encoding: BufferEncoding) {
    this.decoder = new StringDecoder(encoding);
  }

  push(chunk: Buffer): void {
    const text = this.decoder.write(chunk);
    this.pending = this.pending.length === 0 ? text : this.pending + text;
  }

  read(): string | undefined {
    if (this.ended) {
      this.ended = false;
      this.pending += this.decoder.end();
    }
    const text = this.pending;
    if (text.length === 0) return undefined;
    this.pending = '';
    return text;
  }

  end(): void {
    this.ended = true;
  }

  clear(): void {
    this.pending = '';
    this.decoder = new StringDecoder(this.encoding);
  }
}

/**
 * Decodes a byte stream to text: the reactive twin of `socket.setEncoding(encoding)`. A
 * multi-byte character (UTF-8, a UTF-16 surrogate pair, a base64 group) that straddles chunks is
 * held back until it is complete, so the strings concatenate to exactly what decoding all the
 * bytes at once gives.
 *
 * ```
 * decodeText('utf8'), "é" is [c3 a9]:
 * source:  -[61 c3]-[a9 62]-[c3]-|
 * output:  -'a'-----'éb'----------('\ufffd'|)   an incomplete last character becomes U+FFFD
 * ```
 *
 * Accepts every encoding `setEncoding` accepts (`Buffer.isEncoding`): utf8/utf-8, utf16le/ucs2,
 * latin1/binary, ascii, base64, base64url, hex. A chunk that completes no character emits
 * nothing (no empty strings).
 *
 * Limits: holds at most one partial character (3 bytes) between chunks. Use it on a stream, or
 * after a framer on each frame; to split text into lines, frame first with `decodeLines()` and decode
 * each line, so a line limit protects memory.
 *
 * End of stream: an incomplete last character is emitted as the decoder's replacement (U+FFFD
 * for UTF-8), exactly as a `Readable` with `setEncoding` ends; then the output completes.
 *
 * @throws InvalidArgumentError at creation for an encoding Node does not know.
 * @example
 * ```ts
 * import { decodeText, type Connection } from 'rxnet';
 *
 * declare const connection: Connection;
 * connection.data$.pipe(decodeText('utf8')).subscribe((text) => process.stdout.write(text));
 * ```
 */
export function decodeText(encoding: BufferEncoding = 'utf8'): OperatorFunction<Buffer, string> {
  if (typeof encoding !== 'string' || !Buffer.isEncoding(encoding)) {
    throw new InvalidArgumentError('encoding', `unknown encoding ${String(encoding)}`);
  }
  return decodeFrames(() => new TextFramer(encoding));
}
