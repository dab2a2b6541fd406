/** The `typingFeed` sync reads: one `m.typing` event per room whose typing list changed in the window. */
import type {
  FeedChanges,
  RoomEphemeralData,
  SyncEventJson,
  SyncWindow,
  TypingFeed,
} from '../../sync/api.js';
import { TYPING_STREAM, type TypingService } from './typing-service.js';

export class TypingSyncFeed implements TypingFeed {
  readonly stream = TYPING_STREAM;

  constructor(private readonly deps: { typingService: TypingService }) {}

  async currentPosition(): Promise<number> {
    return this.deps.typingService.currentPosition();
  }

  async changesFor(_userId: string, window: SyncWindow): Promise<FeedChanges<RoomEphemeralData>> {
    const typing = this.deps.typingService;
    // Positions do not survive a restart: a token from an earlier run is treated as an initial sync.
    const from = window.from > typing.currentPosition() ? 0 : window.from;
    const fresh = new Set(window.newRoomIds);
    const data: Record<string, SyncEventJson[]> = {};
    for (const roomId of window.roomIds) {
      const users = typing.typingIn(roomId);
      const changed = typing.lastChange(roomId) > from;
      // A changed room is sent even when nobody types any more: the empty list is what clears the client.
      if (changed || (fresh.has(roomId) && users.length > 0)) {
        data[roomId] = [{ type: 'm.typing', content: { user_ids: users } }];
      }
    }
    return { data };
  }
}
