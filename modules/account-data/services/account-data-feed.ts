/** The account_data stream as /sync reads it (see modules/sync/api.ts `AccountDataFeed`). */
import type {
  AccountDataChanges,
  AccountDataFeed,
  FeedChanges,
  SyncEventJson,
  SyncWindow,
} from '../../sync/api.js';
import { GLOBAL, type AccountDataStore } from '../store/account-data-store.js';
import { ACCOUNT_DATA_STREAM } from '../api.js';

export class AccountDataSyncFeed implements AccountDataFeed {
  readonly stream = ACCOUNT_DATA_STREAM;
  private readonly store: AccountDataStore;

  constructor({ accountDataStore }: { accountDataStore: AccountDataStore }) {
    this.store = accountDataStore;
  }

  currentPosition(): Promise<number> {
    return this.store.currentPosition();
  }

  async changesFor(userId: string, window: SyncWindow): Promise<FeedChanges<AccountDataChanges>> {
    const visibleRooms = new Set(window.roomIds);
    const changed = await this.store.changedBetween(userId, window.from, window.to);
    const fresh = window.from === 0 ? [] : await this.store.forRooms(userId, window.newRoomIds, window.to);
    const global = new Map<string, SyncEventJson>();
    const rooms: Record<string, Map<string, SyncEventJson>> = {};
    for (const row of [...fresh, ...changed]) {
      const event: SyncEventJson = { type: row.type, content: row.content };
      if (row.roomId === GLOBAL) global.set(row.type, event);
      else if (visibleRooms.has(row.roomId)) (rooms[row.roomId] ??= new Map()).set(row.type, event);
    }
    const roomEvents: Record<string, SyncEventJson[]> = {};
    for (const [roomId, byType] of Object.entries(rooms)) roomEvents[roomId] = [...byType.values()];
    return { data: { global: [...global.values()], rooms: roomEvents } };
  }
}
