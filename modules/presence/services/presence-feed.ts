/**
 * The `presenceFeed` sync reads: `m.presence` of users sharing a room with the syncing user (and their own).
 * An incremental sync reads only the rows that changed in the window (an index range) and keeps those the
 * user may see; an initial sync reads the current presence of everyone visible.
 */
import type { FeedChanges, PresenceFeed, SyncWindow, TopLevelEvents } from '../../sync/api.js';
import { PRESENCE_STREAM } from '../api.js';
import type { PresenceStore } from '../store/presence-store.js';
import type { PresenceRooms, PresenceService } from './presence-service.js';

export class PresenceSyncFeed implements PresenceFeed {
  readonly stream = PRESENCE_STREAM;

  constructor(
    private readonly deps: {
      presenceStore: PresenceStore;
      presenceService: PresenceService;
      presenceRooms: PresenceRooms;
    },
  ) {}

  currentPosition(): Promise<number> {
    return this.deps.presenceStore.currentPosition();
  }

  setPresenceFromSync(userId: string, presence: 'online' | 'offline' | 'unavailable'): Promise<void> {
    return this.deps.presenceService.syncing(userId, presence);
  }

  async changesFor(userId: string, window: SyncWindow): Promise<FeedChanges<TopLevelEvents>> {
    const { presenceStore, presenceService, presenceRooms } = this.deps;
    if (!presenceService.enabled) return { data: { events: [] } };
    if (window.from > 0) {
      const changed = await presenceStore.changedIn(window.from, window.to);
      if (changed.length === 0) return { data: { events: [] } };
      const visible = await presenceRooms.usersSharingRoomWith(userId);
      const rows = changed.filter((r) => r.userId === userId || visible.has(r.userId));
      return { data: { events: presenceService.eventsFor(rows) } };
    }
    const visible = new Set(await presenceRooms.usersSharingRoomWith(userId));
    visible.add(userId);
    const rows = (await presenceStore.getMany([...visible])).filter((r) => r.position <= window.to);
    return { data: { events: presenceService.eventsFor(rows) } };
  }
}
