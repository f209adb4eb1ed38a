// LinkedList: push, shift and removal from anywhere keep order, length and both ends right.
import fc from 'fast-check';
import { LinkedList, type Linked } from '../../lib/util/LinkedList';

class Item implements Linked<Item> {
  prev: Item | null = null;
  next: Item | null = null;
  constructor(readonly n: number) {}
}

const contents = (list: LinkedList<Item>): number[] => {
  const forward: number[] = [];
  for (let item = list.head; item; item = item.next) forward.push(item.n);
  const backward: number[] = [];
  for (let item = list.tail; item; item = item.prev) backward.unshift(item.n);
  expect(backward).toEqual(forward);
  expect(list.length).toBe(forward.length);
  return forward;
};

describe('LinkedList', () => {
  it('is empty at first, and shift on empty gives null', () => {
    const list = new LinkedList<Item>();
    expect(list.shift()).toBeNull();
    expect(contents(list)).toEqual([]);
    expect(list.head).toBeNull();
    expect(list.tail).toBeNull();
  });

  it('keeps push order, and removes the head, the tail and the middle', () => {
    const list = new LinkedList<Item>();
    const items = [1, 2, 3, 4, 5].map((n) => new Item(n));
    items.forEach((item) => list.push(item));
    list.remove(items[2]);
    expect(contents(list)).toEqual([1, 2, 4, 5]);
    list.remove(items[0]);
    list.remove(items[4]);
    expect(contents(list)).toEqual([2, 4]);
    expect(items[0].next).toBeNull();
    expect(list.shift()?.n).toBe(2);
    expect(list.shift()?.n).toBe(4);
    expect(contents(list)).toEqual([]);
    list.push(items[2]); // a removed member may be pushed again
    expect(contents(list)).toEqual([3]);
  });

  it('agrees with an array under any sequence of push, shift and remove', () => {
    fc.assert(
      fc.property(fc.array(fc.oneof(fc.constant(-1), fc.constant(-2), fc.nat(20)), { maxLength: 60 }), (ops) => {
        const list = new LinkedList<Item>();
        const model: Item[] = [];
        let made = 0;
        for (const op of ops) {
          if (op === -1) {
            const item = new Item(made++);
            list.push(item);
            model.push(item);
          } else if (op === -2) {
            expect(list.shift()).toBe(model.shift() ?? null);
          } else if (model.length > 0) {
            const [item] = model.splice(op % model.length, 1);
            list.remove(item);
          }
          expect(contents(list)).toEqual(model.map((item) => item.n));
        }
      }),
    );
  });
});
