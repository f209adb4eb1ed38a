// SendQueue: the values a sendTo() sink holds while its connection is not writable, with their byte count.
import { Buffer } from 'buffer';
import type { Chunk } from '../types';

/**
 * A sink's waiting values with their byte count. A head index rather than `Array#shift()`: a
 * queue of many thousand values (the replies to a pipelining peer) would make each `shift()` move
 * them all.
 */
export class SendQueue<T extends Chunk> {
  private readonly items: T[] = [];
  private head = 0;
  /** Bytes of the values waiting. */
  bytes = 0;

  get length(): number {
    return this.items.length - this.head;
  }

  /**
   * Whether a value of `size` bytes may join the queue under these limits; a value always may
   * when none waits (a single value larger than `maxBytes` may wait alone).
   */
  fits(size: number, maxLength: number, maxBytes: number): boolean {
    const length = this.length;
    return length === 0 || (length < maxLength && this.bytes + size <= maxBytes);
  }

  push(value: T, size: number): void {
    this.items.push(value);
    this.bytes += size;
  }

  /** Takes out the oldest value (`length > 0`). */
  shift(): T {
    const items = this.items;
    const value = items[this.head];
    items[this.head] = undefined as unknown as T;
    this.head++;
    if (this.head === items.length) {
      items.length = 0;
      this.head = 0;
      this.bytes = 0;
    } else {
      this.bytes -= sizeOf(value);
      // Drop the emptied front once it is most of the array.
      if (this.head >= 1024 && this.head * 2 >= items.length) {
        items.splice(0, this.head);
        this.head = 0;
      }
    }
    return value;
  }
}

/** Bytes a value takes on the wire (a string in UTF-8). */
export function sizeOf(value: Chunk): number {
  return typeof value === 'string' ? Buffer.byteLength(value) : value.length;
}
