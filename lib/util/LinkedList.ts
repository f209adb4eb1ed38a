// LinkedList: an intrusive doubly linked list, for queues whose members leave from the middle (a cancelled request, a waiter that timed out).

/**
 * A member of a {@link LinkedList}: it carries its own links, so removing it needs no search.
 */
export interface Linked<T> {
  /** The member before this one, or null at the head (or when not in a list). */
  prev: T | null;
  /** The member after this one, or null at the tail (or when not in a list). */
  next: T | null;
}

/**
 * An intrusive doubly linked list: O(1) `push`, `shift` and `remove` of any member, where an array
 * would shift or splice. A member is in at most one list at a time; removing one that is not in
 * this list corrupts it (callers know where their members are).
 */
export class LinkedList<T extends Linked<T>> {
  /** The first member, or null when empty. */
  head: T | null = null;
  /** The last member, or null when empty. */
  tail: T | null = null;
  /** Members now. */
  length = 0;

  /** Adds `member` at the tail. */
  push(member: T): void {
    member.prev = this.tail;
    member.next = null;
    if (this.tail) this.tail.next = member;
    else this.head = member;
    this.tail = member;
    this.length++;
  }

  /** Takes `member` out, wherever it is. */
  remove(member: T): void {
    if (member.prev) member.prev.next = member.next;
    else this.head = member.next;
    if (member.next) member.next.prev = member.prev;
    else this.tail = member.prev;
    member.prev = member.next = null;
    this.length--;
  }

  /** Takes the head out and returns it; null when empty. */
  shift(): T | null {
    const member = this.head;
    if (member) this.remove(member);
    return member;
  }
}
