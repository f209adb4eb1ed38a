// SendQueue: a sink's waiting values in order, their byte count, the limits, and a front that is dropped as it empties.
import { SendQueue, sizeOf } from '../../lib/core/SendQueue';

describe('SendQueue', () => {
  it('gives values back in order and counts their bytes, strings in UTF-8', () => {
    const queue = new SendQueue<string | Buffer>();
    queue.push('é', sizeOf('é'));
    queue.push(Buffer.from('abc'), 3);
    expect([queue.length, queue.bytes]).toEqual([2, 5]);
    expect(queue.shift()).toBe('é');
    expect([queue.length, queue.bytes]).toEqual([1, 3]);
    expect(queue.shift()).toEqual(Buffer.from('abc'));
    expect([queue.length, queue.bytes]).toEqual([0, 0]);
  });

  it('lets a value fit under both limits, and any value when none waits', () => {
    const queue = new SendQueue<string>();
    expect(queue.fits(100, 1, 10)).toBe(true);
    queue.push('abcd', 4);
    expect(queue.fits(6, 2, 10)).toBe(true);
    expect(queue.fits(7, 2, 10)).toBe(false);
    expect(queue.fits(1, 1, 10)).toBe(false);
  });

  it('drops the emptied front of a long queue instead of moving every value at each shift', () => {
    const queue = new SendQueue<string>();
    for (let i = 0; i < 3000; i++) queue.push(String(i), sizeOf(String(i)));
    for (let i = 0; i < 2000; i++) expect(queue.shift()).toBe(String(i));
    const items = (queue as unknown as { items: string[] }).items;
    expect(items.length).toBeLessThan(3000);
    expect(queue.length).toBe(1000);
    expect(queue.shift()).toBe('2000');
  });
});
