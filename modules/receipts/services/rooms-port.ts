/**
 * `ReceiptRooms` over the rooms module's public API. RoomsApi has no "stream position of this event" read,
 * so positions come from a cache fed by `onEventPersisted` (receipts are nearly always for recent events)
 * and, on a miss, from a bounded newest-first walk of the room's stream. A method on RoomsApi would replace
 * both (see README.md); if one named `eventStreamOrdering` appears, it is used.
 */
import type { PersistedEvent, RoomsApiForReceipts } from '../../rooms/api.js';
import { threadIdOf } from '../api.js';
import type { ReceiptRooms } from './receipts-service.js';
import { growingLru } from '../../../core/lru.js';

const PAGE = 200;
const MAX_PAGES = 10;

type MaybePositioned = RoomsApiForReceipts & {
  eventStreamOrdering?: (eventId: string) => Promise<number | undefined>;
};

export class ReceiptRoomsAdapter implements ReceiptRooms {
  private readonly positions = growingLru<string, number>(100_000);

  constructor(private readonly roomsApi: RoomsApiForReceipts) {}

  /** Called for every persisted event (wired in the module's start). */
  remember(event: PersistedEvent): void {
    this.positions.set(event.eventId, event.streamOrdering);
  }

  async isJoined(roomId: string, userId: string): Promise<boolean> {
    const member = await this.roomsApi.currentStateEvent(roomId, 'm.room.member', userId);
    return member?.content['membership'] === 'join';
  }

  async eventInfo(
    roomId: string,
    eventId: string,
  ): Promise<{ streamOrdering: number; threadId: string } | undefined> {
    const event = await this.roomsApi.getEvent(eventId);
    if (!event || event.room_id !== roomId) return undefined;
    const threadId = await threadIdOf({ eventId, content: event.content }, async (id) => {
      const parent = await this.roomsApi.getEvent(id);
      return parent ? { eventId: id, content: parent.content } : undefined;
    });
    return { streamOrdering: await this.position(roomId, eventId), threadId };
  }

  private async position(roomId: string, eventId: string): Promise<number> {
    const cached = this.positions.get(eventId);
    if (cached !== undefined) return cached;
    const direct = (this.roomsApi as MaybePositioned).eventStreamOrdering;
    if (direct) {
      const found = await direct.call(this.roomsApi, eventId);
      if (found !== undefined) return found;
    }
    let upTo = await this.roomsApi.currentStreamPosition();
    for (let page = 0; page < MAX_PAGES && upTo > 0; page++) {
      const events = await this.roomsApi.eventsInStreamRange([roomId], 0, upTo, PAGE);
      for (const e of events) this.positions.set(e.eventId, e.streamOrdering);
      const hit = events.find((e) => e.eventId === eventId);
      if (hit) return hit.streamOrdering;
      const oldest = events[events.length - 1];
      if (!oldest || events.length < PAGE) break;
      upTo = oldest.streamOrdering - 1;
    }
    // Older than the walk reaches: such a receipt can never be ahead of anything the walk would find.
    return 0;
  }
}
