// Bytes as a Buffer, whatever form the caller gave them in.
import { Buffer } from 'buffer';

/** A Buffer for bytes given as a Buffer (as is), another Uint8Array (as a view) or a string (UTF-8). */
export function toBuffer(value: Buffer | Uint8Array | string): Buffer {
  if (Buffer.isBuffer(value)) return value;
  if (typeof value === 'string') return Buffer.from(value, 'utf8');
  return Buffer.from(value.buffer, value.byteOffset, value.byteLength);
}
