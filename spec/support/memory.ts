// Helpers for specs on the test kit's memory connections in virtual time: a body run in virtual time, a wire made
// unwritable for a while, connection events as short strings.
import { asyncScheduler, map } from 'rxjs';
import { TestScheduler } from 'rxjs/testing';
import type { OperatorFunction } from 'rxjs';
import type { MemoryConnection } from '../../lib/testing';
import type { ConnectionEvent } from '../../lib/types';

/** Makes `conn`'s writes wait (write() false, no drain) from frame `from` until frame `until` of a TestScheduler.run. */
export function unwritable(conn: MemoryConnection, from: number, until: number): void {
  asyncScheduler.schedule(() => conn.outbound.stall(), from);
  asyncScheduler.schedule(() => conn.outbound.resume(), until);
}

/** An event as a short string: the type, and the chunk text, `hadError` or error code where there is one. */
export function eventText(e: ConnectionEvent): string {
  if (e.type === 'data') return `data ${e.chunk.toString()}`;
  if (e.type === 'close') return `close ${e.hadError}`;
  if (e.type === 'error') return `error ${(e.error as NodeJS.ErrnoException).code}`;
  return e.type;
}

/** Maps events to {@link eventText}. */
export const asEventText = (): OperatorFunction<ConnectionEvent, string> => map(eventText);

/**
 * Runs `body` inside `TestScheduler.run()` (asyncScheduler is virtual there) and flushes it;
 * `at(ms, work)` schedules work at virtual time `ms`.
 */
export function virtual(body: (at: (ms: number, work: () => void) => void, scheduler: TestScheduler) => void): void {
  const scheduler = new TestScheduler((a, b) => expect(a).toEqual(b));
  scheduler.run(({ flush }) => {
    body((ms, work) => asyncScheduler.schedule(work, ms), scheduler);
    flush();
  });
}
