// Shared helpers for the PROXY protocol specs: feeding chunks to a decoder as an adapter would, v2 fixtures in hex.
import { PROXY_V2_SIGNATURE, type ProxyHeader } from '../../lib/proxy/ProxyHeader';
import { ProxyProtocolDecoder, type ProxyProtocolDecoderOptions } from '../../lib/proxy/ProxyProtocolDecoder';
import { errorData } from './framing';

export interface Decoded {
  header?: ProxyHeader;
  /** Every byte after the header: the decoder's rest and the chunks pushed after it decided. */
  payload?: string;
  error?: Record<string, unknown>;
}

/** Feeds chunks as an adapter would (read after each push), ends at the end; what came out. */
export function decode(chunks: Buffer[], options?: ProxyProtocolDecoderOptions, end = true): Decoded {
  const decoder = new ProxyProtocolDecoder(options);
  const after: Buffer[] = [];
  let header: ProxyHeader | undefined;
  let decided = false;
  try {
    for (const chunk of chunks) {
      if (decided) {
        after.push(chunk);
        continue;
      }
      decoder.push(chunk);
      const result = decoder.read();
      if (result !== undefined) {
        decided = true;
        header = result.header;
        after.push(result.rest);
        expect(decoder.read()).toBeUndefined();
      }
    }
    if (!decided) {
      if (!end) return {};
      decoder.end();
      const result = decoder.read();
      if (result === undefined) throw new Error('undecided after end()');
      header = result.header;
      after.push(result.rest);
    }
  } catch (error) {
    return { error: errorData(error) };
  }
  return { ...(header === undefined ? {} : { header }), payload: Buffer.concat(after).toString('latin1') };
}

/** One chunk, then the end. */
export const whole = (bytes: Buffer | string, options?: ProxyProtocolDecoderOptions) =>
  decode([typeof bytes === 'string' ? Buffer.from(bytes, 'latin1') : bytes], options);

/** A v2 header: the signature, then the bytes written in `hex` (spaces ignored). */
export const v2 = (hex: string) => Buffer.from(PROXY_V2_SIGNATURE.toString('hex') + hex.replace(/\s+/g, ''), 'hex');
