// What a hub tells about its members: HubMember, why one leaves, and the events of Hub.events$.
import type { SlowMemberError } from '../errors';
import type { SendStats } from '../core/sendTo';
import type { Connection } from '../types';

/**
 * A member of a {@link Hub}: one connection and the figures of its outbound queue.
 *
 * @example
 * ```ts
 * import { Hub } from 'rxnet';
 *
 * declare const hub: Hub<string>;
 * for (const member of hub.members()) {
 *   console.log(member.id, member.connection.remoteAddress, `${member.stats.queued} queued`);
 * }
 * ```
 */
export interface HubMember {
  /** The connection's id; the address for {@link Hub.send}. */
  readonly id: number;
  /** The member's connection, as given to `join()`. */
  readonly connection: Connection;
  /** `queued`, `peakQueued` (never above `highWaterMark`), `queuedBytes`, `written`, `dropped`, `waits`, ... */
  readonly stats: SendStats;
}

/**
 * Why a member left: its inbound stream completed, as `data$` does on the peer's FIN
 * (`'ended'`); its inbound stream errored, as `data$` does on a socket error such as
 * `ECONNRESET` (`'error'`); its connection closed while its inbound was still open (`'closed'`);
 * it fell behind under the `'disconnect'` policy (`'slow'`); it was kicked (`'kicked'`); or its
 * `join` was unsubscribed (`'unsubscribed'`).
 *
 * @example
 * ```ts
 * import { Hub, type HubLeaveReason } from 'rxnet';
 *
 * declare const hub: Hub<string>;
 * const unexpected: HubLeaveReason[] = ['error', 'slow'];
 * hub.events$.subscribe((e) => {
 *   if (e.type === 'leave' && unexpected.includes(e.reason)) console.warn(`member ${e.member.id}: ${e.reason}`, e.error);
 * });
 * ```
 */
export type HubLeaveReason = 'ended' | 'closed' | 'slow' | 'error' | 'kicked' | 'unsubscribed';

/**
 * What happens in a hub, as {@link Hub.events$} emits it (events are produced only while
 * `events$` has a subscriber). `size` is the number of members after the event. Every member's
 * last event is its `leave`.
 *
 * ```
 * join(a) join(b)  b's queue full ('drop-oldest')  a's peer sends FIN
 * join────join─────dropped(b)──────────────────────leave(a, 'ended')
 * ```
 *
 * @example
 * ```ts
 * import { Hub, type HubEvent } from 'rxnet';
 *
 * function describe(e: HubEvent): string {
 *   switch (e.type) {
 *     case 'join':
 *       return `+${e.member.id} (${e.size} online)`;
 *     case 'leave':
 *       return `-${e.member.id} ${e.reason} (${e.size} online)`;
 *     case 'dropped':
 *       return `${e.member.id} lost ${e.dropped} message(s) so far`;
 *     case 'disconnected-slow':
 *       return `${e.member.id} too slow: ${e.error.message}`;
 *   }
 * }
 * new Hub<string>().events$.subscribe((e) => console.log(describe(e)));
 * ```
 */
export type HubEvent =
  /** A connection became a member: its `join()` was subscribed (emitted before its inbound is). */
  | {
      /** Tag of this variant. */
      readonly type: 'join';
      /** The new member. */
      readonly member: HubMember;
      /** Members now, the new one included. */
      readonly size: number;
    }
  /** A member left the hub, once and for good: nothing more is queued for it (after `'ended'`, `'error'` or `'kicked'`, what was queued is still flushed before the FIN). */
  | {
      /** Tag of this variant. */
      readonly type: 'leave';
      /** The member that left. */
      readonly member: HubMember;
      /** Why it left. */
      readonly reason: HubLeaveReason;
      /**
       * What went wrong, when something did: the inbound's error (`'error'`), the socket error
       * that closed the connection (`'closed'`), or the {@link SlowMemberError} (`'slow'`).
       */
      readonly error?: unknown;
      /** Members now, the one that left not counted. */
      readonly size: number;
    }
  /** A drop policy (`'drop-oldest'` or `'drop-newest'`) dropped one message meant for `member`. */
  | {
      /** Tag of this variant. */
      readonly type: 'dropped';
      /** The member whose queue was full. */
      readonly member: HubMember;
      /** All the messages dropped for this member so far, this one included (its `stats.dropped`). */
      readonly dropped: number;
    }
  /** Under `'disconnect'`, `member` fell `highWaterMark` messages behind: its `leave` (`'slow'`) follows at once, then its connection is destroyed. */
  | {
      /** Tag of this variant. */
      readonly type: 'disconnected-slow';
      /** The member that fell behind. */
      readonly member: HubMember;
      /** The error its connection is destroyed with. */
      readonly error: SlowMemberError;
    };

/**
 * The type tags of {@link HubEvent}.
 *
 * @example
 * ```ts
 * import { filter } from 'rxjs';
 * import { Hub, type HubEventType } from 'rxnet';
 *
 * declare const hub: Hub<string>;
 * const membership: HubEventType[] = ['join', 'leave'];
 * hub.events$.pipe(filter((e) => membership.includes(e.type))).subscribe((e) => console.log(e.type));
 * ```
 */
export type HubEventType = HubEvent['type'];
