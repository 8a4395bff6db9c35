/**
 * Timeouts for many waiting requests without a timer per request.
 *
 * Requests with the same timeout expire in the order they started, so each distinct timeout
 * keeps a FIFO list (a doubly linked list of the entries themselves: O(1) to add and to remove)
 * and ONE timer armed for the oldest entry's deadline. When it fires, expired entries are taken
 * off the front and the timer is armed again for the new oldest. An answered request only leaves
 * its list; the timer is not touched. Deadlines are kept to the millisecond like `setTimeout`'s,
 * so nothing expires early or noticeably late — only the per-request `Timeout` object, closure
 * and timer-list updates are gone (ADR 0031 round 3).
 */

/** An entry waiting for its deadline; the fields are owned by {@link DeadlineTimers}. */
export class DeadlineEntry {
  /** `performance.now()` at which the entry expires. */
  deadline = 0;
  prev: DeadlineEntry | undefined = undefined;
  next: DeadlineEntry | undefined = undefined;
  list: DeadlineList | undefined = undefined;
}

class DeadlineList {
  head: DeadlineEntry | undefined = undefined;
  tail: DeadlineEntry | undefined = undefined;
  timer: NodeJS.Timeout | undefined = undefined;
  constructor(readonly timeoutMs: number) {}
}

export class DeadlineTimers<E extends DeadlineEntry> {
  readonly #lists = new Map<number, DeadlineList>();
  readonly #onExpired: (entry: E) => void;

  /** `onExpired` runs for each entry whose deadline passed (it has already been removed). */
  constructor(onExpired: (entry: E) => void) {
    this.#onExpired = onExpired;
  }

  /** Starts `entry`'s timeout of `timeoutMs` (rounded up to whole ms, at least 1). */
  add(entry: E, timeoutMs: number): void {
    const ms = Math.max(1, Math.ceil(timeoutMs));
    let list = this.#lists.get(ms);
    if (list === undefined) this.#lists.set(ms, (list = new DeadlineList(ms)));
    entry.deadline = performance.now() + ms;
    entry.list = list;
    entry.next = undefined;
    entry.prev = list.tail;
    if (list.tail === undefined) list.head = entry;
    else list.tail.next = entry;
    list.tail = entry;
    if (list.timer === undefined) this.#arm(list, ms);
  }

  /** Stops `entry`'s timeout; false when it was not waiting (expired or removed before). */
  remove(entry: E): boolean {
    const list = entry.list;
    if (list === undefined) return false;
    if (entry.prev === undefined) list.head = entry.next;
    else entry.prev.next = entry.next;
    if (entry.next === undefined) list.tail = entry.prev;
    else entry.next.prev = entry.prev;
    entry.prev = entry.next = entry.list = undefined;
    return true;
  }

  /** Stops every timer (entries stay as they are). */
  clear(): void {
    for (const list of this.#lists.values()) clearTimeout(list.timer);
    this.#lists.clear();
  }

  #arm(list: DeadlineList, ms: number): void {
    list.timer = setTimeout(() => this.#fire(list), ms);
    list.timer.unref();
  }

  #fire(list: DeadlineList): void {
    list.timer = undefined;
    const now = performance.now();
    let head = list.head;
    while (head !== undefined && head.deadline <= now) {
      this.remove(head as E);
      this.#onExpired(head as E);
      head = list.head;
    }
    // An onExpired callback that added to this list armed it for the new entry's deadline, which
    // is later than the head's when unexpired entries remain: arm for the head.
    if (list.timer !== undefined) {
      clearTimeout(list.timer);
      list.timer = undefined;
    }
    if (head !== undefined) this.#arm(list, Math.max(1, Math.ceil(head.deadline - now)));
    // An idle timeout's list goes, so timeouts chosen by callers cannot grow the map.
    else if (this.#lists.get(list.timeoutMs) === list) this.#lists.delete(list.timeoutMs);
  }
}
