/**
 * History visibility (spec client-server-api/modules/history_visibility.md "Server behaviour"): which
 * events of a room a user may see, judged by the room's state at each event. In a room whose events this
 * server wrote itself the stream order is the topological order, so "the state at the event" is read from
 * the history of two state entries (the user's membership and the visibility setting) by stream position.
 */
import type { Cradle } from '../../../core/container.js';
import { stateKey } from '../../../core/protocol/pdu.js';
import type { StoredEvent } from '../store/event-rows.js';
import type { TimelineStore } from '../store/timeline-store.js';
import type { RoomHeads } from './room-heads.js';

type Visibility = 'world_readable' | 'shared' | 'invited' | 'joined';

function visibilityOf(e: StoredEvent | undefined): Visibility {
  const v = e?.pdu.content['history_visibility'];
  return v === 'world_readable' || v === 'invited' || v === 'joined' || v === 'shared' ? v : 'shared';
}

/** The last event of `history` (oldest first) strictly before stream position `stream`. */
function lastBefore(history: readonly StoredEvent[], stream: number): StoredEvent | undefined {
  let lo = 0;
  let hi = history.length;
  while (lo < hi) {
    const mid = (lo + hi) >> 1;
    if ((history[mid]?.streamOrdering ?? 0) < stream) lo = mid + 1;
    else hi = mid;
  }
  return lo > 0 ? history[lo - 1] : undefined;
}

export class HistoryVisibility {
  private readonly timelineStore: TimelineStore;
  private readonly heads: RoomHeads;

  constructor({ roomsTimelineStore, roomsHeads }: Pick<Cradle, 'roomsTimelineStore' | 'roomsHeads'>) {
    this.timelineStore = roomsTimelineStore;
    this.heads = roomsHeads;
  }

  /** The subset of `events` (all of one room) that `userId` may see, order kept. */
  async filter(userId: string, roomId: string, events: readonly StoredEvent[]): Promise<StoredEvent[]> {
    if (events.length === 0) return [];
    if (this.joinedThroughout(userId, roomId, events)) return [...events];
    const [memberships, visibilities] = await Promise.all([
      this.timelineStore.stateHistory(roomId, 'm.room.member', userId),
      this.timelineStore.stateHistory(roomId, 'm.room.history_visibility', ''),
    ]);
    const joins = memberships.filter((m) => m.membership === 'join');
    const lastJoinStream = joins.length > 0 ? (joins[joins.length - 1]?.streamOrdering ?? 0) : -1;
    const allowed = (visibility: Visibility, membership: string | undefined, stream: number): boolean => {
      if (visibility === 'world_readable') return true;
      if (membership === 'join') return true;
      if (visibility === 'shared' && lastJoinStream >= stream) return true;
      return visibility === 'invited' && membership === 'invite';
    };
    return events.filter((e) => {
      const s = e.streamOrdering;
      const hv = visibilityOf(lastBefore(visibilities, s));
      const membership = lastBefore(memberships, s)?.membership ?? undefined;
      if (allowed(hv, membership ?? undefined, s)) return true;
      // A visibility change is visible if the setting before or after it allows; likewise one's own membership.
      if (
        e.type === 'm.room.history_visibility' &&
        e.stateKey === '' &&
        allowed(visibilityOf(e), membership ?? undefined, s)
      )
        return true;
      if (e.type === 'm.room.member' && e.stateKey === userId && allowed(hv, e.membership ?? undefined, s))
        return true;
      // One's own leave is always visible (as Synapse), else a rejected invite would not show the room go.
      if (e.type === 'm.room.member' && e.stateKey === userId && e.membership === 'leave') return true;
      return false;
    });
  }

  /**
   * The common case without a query: the in-memory head shows the user joined since before the first of
   * `events`, and the head has seen the last of them. The user's membership at each event is then that join
   * (a later membership event would be the head's), and a joined member sees every event.
   */
  private joinedThroughout(userId: string, roomId: string, events: readonly StoredEvent[]): boolean {
    const head = this.heads.peek(roomId);
    const member = head?.state.get(stateKey('m.room.member', userId));
    if (!head || member?.streamOrdering === undefined || member.pdu.content['membership'] !== 'join')
      return false;
    let min = Infinity;
    let max = -Infinity;
    for (const e of events) {
      min = Math.min(min, e.streamOrdering);
      max = Math.max(max, e.streamOrdering);
    }
    return member.streamOrdering < min && max <= head.lastStream;
  }

  /** Whether `userId` may see one event. */
  async canSee(userId: string, event: StoredEvent): Promise<boolean> {
    return (await this.filter(userId, event.roomId, [event])).length === 1;
  }
}
