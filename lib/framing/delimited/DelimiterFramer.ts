// Splits bytes at a delimiter (any byte sequence), with a limit checked before bytes pile up.
import { FrameTooLongError, TruncatedFrameError } from '../../errors';
import { ChunkQueue } from '../ChunkQueue';
import type { FrameCut } from '../../util/FrameCut';
import { DEFAULT_MAX_LENGTH, type Framer, type Truncation } from '../Framer';
import { checkBoolean, checkLimit, checkOptions, checkTruncation } from '../../util/validate';

const CR = 0x0d;
/** What {@link DelimiterFramer.find} returns when no whole frame is held. */
const NONE = -1;
/** What {@link DelimiterFramer.find} returns for the bytes left when the stream has ended without a delimiter. */
const TAIL = -2;

/** The resolved settings of a {@link DelimiterFramer}. */
export interface DelimiterFramerOptions {
  /** The byte sequence ending each frame; not empty. */
  readonly delimiter: Buffer;
  /** Longest frame allowed, delimiter (and a stripped `\r`) not counted. */
  readonly maxLength: number;
  /** Whether frames keep their delimiter (and `\r`). */
  readonly includeDelimiter: boolean;
  /** What to do with bytes left without a delimiter at the end. */
  readonly truncation: Truncation;
  /** Lines mode: a `\r` right before the delimiter belongs to the delimiter. */
  readonly stripCarriageReturn: boolean;
  /** Hand out each frame as its own copy rather than a view of the chunk. Default false. */
  readonly copy?: boolean;
}

/**
 * Frames ended by a delimiter. The search resumes where the last one stopped (a delimiter split
 * across chunks is still found) and a frame is cut out of its chunk without copying unless it
 * spans chunks.
 */
export class DelimiterFramer implements Framer<Buffer> {
  private readonly queue: ChunkQueue;
  /** Position before which no delimiter can start. */
  private searchFrom = 0;
  private ended = false;
  /** Bytes after the frame {@link find} found last: its delimiter, with a `\r` before it when stripped. */
  private after = 0;

  // The settings, copied into fields of this class so that the hot path reads them directly.
  private readonly delimiter: Buffer;
  /** The delimiter's byte when it is one byte long (the common, faster case), else -1. */
  private readonly single: number;
  private readonly maxLength: number;
  private readonly stripCR: boolean;
  private readonly includeDelimiter: boolean;
  private readonly truncation: DelimiterFramerOptions['truncation'];

  constructor(config: DelimiterFramerOptions) {
    this.delimiter = config.delimiter;
    this.single = config.delimiter.length === 1 ? config.delimiter[0] : -1;
    this.maxLength = config.maxLength;
    this.stripCR = config.stripCarriageReturn;
    this.includeDelimiter = config.includeDelimiter;
    this.truncation = config.truncation;
    // Between reads at most maxLength bytes are held, plus what may be the start of a delimiter.
    const pending = Math.max(config.delimiter.length - 1, config.stripCarriageReturn ? 1 : 0);
    this.queue = new ChunkQueue({ maxHeld: config.maxLength + pending, copy: config.copy });
  }

  /** Bytes held. */
  get buffered(): number {
    return this.queue.length;
  }

  /** Where the frame read last lies in its chunk (see {@link Framer.frameCut}). */
  get frameCut(): FrameCut {
    return this.queue.cut;
  }

  push(chunk: Buffer): void {
    this.queue.push(chunk);
  }

  end(): void {
    this.ended = true;
  }

  clear(): void {
    this.queue.clear();
    this.searchFrom = 0;
  }

  read(): Buffer | undefined {
    const length = this.find();
    if (length >= 0) {
      const after = this.after;
      return this.includeDelimiter ? this.queue.extract(0, length + after, 0) : this.queue.extract(0, length, after);
    }
    return length === TAIL ? this.finish(this.queue.length) : undefined;
  }

  /**
   * The next frame as text, or undefined: what {@link read} returns, decoded, without a view of a
   * frame that lies in one chunk (for codecs that keep only the text, or what they parse from it).
   */
  readText(encoding: BufferEncoding): string | undefined {
    const length = this.find();
    if (length >= 0) {
      const after = this.after;
      return this.includeDelimiter
        ? this.queue.extractText(0, length + after, 0, encoding)
        : this.queue.extractText(0, length, after, encoding);
    }
    return length === TAIL ? this.finish(this.queue.length)?.toString(encoding) : undefined;
  }

  /**
   * Finds the next frame: its length, delimiter not counted (the delimiter's length, a `\r` before
   * it included, goes to `after`); NONE when no whole frame is held, TAIL for the rest of an ended
   * stream. Throws `FrameTooLongError` as soon as a frame is known to be over the limit.
   */
  private find(): number {
    const queue = this.queue;
    const delimiter = this.delimiter;
    const maxLength = this.maxLength;
    const index =
      this.single >= 0 ? queue.indexOfByte(this.single, this.searchFrom) : queue.indexOf(delimiter, this.searchFrom);
    if (index < 0) {
      const held = queue.length;
      if (held === 0) return NONE;
      if (this.ended) {
        if (held > maxLength) throw new FrameTooLongError(maxLength, held);
        return TAIL;
      }
      // A tail that could still be the start of a delimiter is not counted yet.
      const known = this.stripCR ? held - (queue.lastByte() === CR ? 1 : 0) : held - (delimiter.length - 1);
      if (known > maxLength) throw new FrameTooLongError(maxLength, known);
      this.searchFrom = Math.max(this.searchFrom, held - delimiter.length + 1);
      return NONE;
    }
    this.searchFrom = 0;
    let length = index;
    let after = delimiter.length;
    // A `\r` before the delimiter belongs to the delimiter: a frame that keeps the delimiter and is
    // short enough either way has no need to look at it.
    if (this.stripCR && index > 0 && !(this.includeDelimiter && index <= maxLength) && queue.byteAt(index - 1) === CR) {
      length--;
      after++;
    }
    if (length > maxLength) throw new FrameTooLongError(maxLength, length);
    this.after = after;
    return length;
  }

  private finish(held: number): Buffer | undefined {
    switch (this.truncation) {
      case 'emit':
        return this.queue.consume(held);
      case 'discard':
        this.queue.clear();
        return undefined;
      default:
        throw new TruncatedFrameError(held);
    }
  }
}

/** @deprecated The former name of {@link DelimiterFramerOptions}, kept so that code written for 0.1 compiles. */
export type DelimiterFramerConfig = DelimiterFramerOptions;

/** The options the delimiter decoders share (`decodeDelimited`, `decodeLines` and their codecs). */
interface DelimiterDecoderOptions {
  readonly maxLength?: number;
  readonly includeDelimiter?: boolean;
  readonly truncation?: Truncation;
  readonly copy?: boolean;
}

/**
 * The framer factory of a delimiter decoder (`decodeDelimited`, `decodeLines`, their codecs): `options`
 * checked now, when the operator or codec is made, and a fresh framer per call. `truncation` is the
 * decoder's default for a last unended frame.
 */
export function delimiterFramer(
  delimiter: Buffer,
  options: DelimiterDecoderOptions,
  truncation: Truncation,
  stripCarriageReturn: boolean,
): () => DelimiterFramer {
  checkOptions(options);
  const resolved: DelimiterFramerOptions = {
    delimiter,
    maxLength: checkLimit('maxLength', options.maxLength, DEFAULT_MAX_LENGTH, 1),
    includeDelimiter: checkBoolean('includeDelimiter', options.includeDelimiter, false),
    truncation: checkTruncation(options.truncation, ['error', 'emit', 'discard'], truncation),
    stripCarriageReturn,
    copy: checkBoolean('copy', options.copy, false),
  };
  return () => new DelimiterFramer(resolved);
}
