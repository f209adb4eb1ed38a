// Deadlines: many timeouts on one timer; items with the same duration expire in the order they were added.
import type { SchedulerLike, Subscription } from 'rxjs';
import { LinkedList } from './LinkedList';
import type { Linked } from './LinkedList';

/** One deadline: `unsubscribe()` cancels it (O(1)). */
export interface Deadline {
  unsubscribe(): void;
}

class Entry<T> implements Linked<Entry<T>>, Deadline {
  prev: Entry<T> | null = null;
  next: Entry<T> | null = null;
  constructor(
    readonly owner: Deadlines<T>,
    readonly list: LinkedList<Entry<T>>,
    readonly at: number,
    public item: T | undefined,
  ) {}

  unsubscribe(): void {
    if (this.item === undefined) return;
    this.item = undefined;
    this.list.remove(this);
    this.owner.removed();
  }
}

/**
 * Timeouts for many items on one scheduled action, where a timer per item costs a timer each (a
 * pipelined client makes one per request). Items are kept in one list per duration: within a
 * list, deadlines come in the order the items were added, so expiring is taking heads, and
 * cancelling is an O(1) removal. The action is armed for the earliest head; a cancelled head
 * leaves it armed (it re-arms for the next head when it fires), until none is left: then it stops.
 */
export class Deadlines<T> {
  private readonly lists = new Map<number, LinkedList<Entry<T>>>();
  private action: Subscription | undefined = undefined;
  private armedAt = Infinity;
  /** Deadlines pending: at 0 the timer is stopped, so nothing keeps the process alive for nothing. */
  private count = 0;

  constructor(
    private readonly scheduler: SchedulerLike,
    private readonly expire: (item: T) => void,
  ) {}

  /** Calls `expire(item)` in `ms` (a positive number, not `Infinity`) unless cancelled first. */
  add(item: T, ms: number): Deadline {
    let list = this.lists.get(ms);
    if (list === undefined) this.lists.set(ms, (list = new LinkedList<Entry<T>>()));
    const entry = new Entry<T>(this, list, this.scheduler.now() + ms, item);
    list.push(entry);
    this.count++;
    if (entry.at < this.armedAt) this.arm(entry.at);
    return entry;
  }

  /** @internal An entry was removed (cancelled or expired). */
  removed(): void {
    if (--this.count > 0 || this.action === undefined) return;
    this.action.unsubscribe();
    this.action = undefined;
    this.armedAt = Infinity;
  }

  /** Stops the timer and forgets every deadline. */
  clear(): void {
    this.action?.unsubscribe();
    this.action = undefined;
    this.armedAt = Infinity;
    for (const list of this.lists.values()) {
      for (let entry = list.shift(); entry; entry = list.shift()) entry.item = undefined;
    }
    this.lists.clear();
    this.count = 0;
  }

  private arm(at: number): void {
    this.action?.unsubscribe();
    this.armedAt = at;
    this.action = this.scheduler.schedule(() => this.fire(), Math.max(0, at - this.scheduler.now()));
  }

  private fire(): void {
    this.action = undefined;
    this.armedAt = Infinity;
    const now = this.scheduler.now();
    for (const [ms, list] of this.lists) {
      for (let head = list.head; head !== null && head.at <= now; head = list.head) {
        const item = head.item as T;
        head.unsubscribe();
        this.expire(item);
      }
      if (list.length === 0) this.lists.delete(ms);
    }
    let next = Infinity;
    for (const list of this.lists.values()) if (list.head && list.head.at < next) next = list.head.at;
    if (next < this.armedAt) this.arm(next);
  }
}
