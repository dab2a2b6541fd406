/**
 * The `receiptsFeed` sync reads: one `m.receipt` event per room with the receipts that changed in the window
 * (every current receipt for a room new to the sync). `m.read.private` receipts go to their owner only.
 */
import type {
  FeedChanges,
  ReceiptsFeed,
  RoomEphemeralData,
  SyncEventJson,
  SyncWindow,
} from '../../sync/api.js';
import { RECEIPTS_STREAM } from '../api.js';
import { UNTHREADED, type ReceiptRow, type ReceiptsStore } from '../store/receipts-store.js';

export class ReceiptsSyncFeed implements ReceiptsFeed {
  readonly stream = RECEIPTS_STREAM;

  constructor(private readonly deps: { receiptsStore: ReceiptsStore }) {}

  currentPosition(): Promise<number> {
    return this.deps.receiptsStore.currentPosition();
  }

  async changesFor(userId: string, window: SyncWindow): Promise<FeedChanges<RoomEphemeralData>> {
    const fresh = new Set(window.newRoomIds);
    const store = this.deps.receiptsStore;
    const rows = [
      ...(await store.allIn([...fresh], window.to)),
      ...(await store.changedIn(
        window.roomIds.filter((r) => !fresh.has(r)),
        window.from,
        window.to,
      )),
    ];
    const byRoom = new Map<string, ReceiptRow[]>();
    for (const row of rows) {
      if (row.receiptType === 'm.read.private' && row.userId !== userId) continue;
      const list = byRoom.get(row.roomId) ?? [];
      list.push(row);
      byRoom.set(row.roomId, list);
    }
    const data: Record<string, SyncEventJson[]> = {};
    for (const [roomId, list] of byRoom) data[roomId] = [receiptEvent(list)];
    return { data };
  }
}

/** `{ $event: { m.read: { @user: { ts, thread_id? } } } }` */
export function receiptEvent(rows: readonly ReceiptRow[]): SyncEventJson {
  const content: Record<string, Record<string, Record<string, { ts: number; thread_id?: string }>>> = {};
  for (const row of rows) {
    const byType = (content[row.eventId] ??= {});
    const byUser = (byType[row.receiptType] ??= {});
    byUser[row.userId] =
      row.threadId === UNTHREADED ? { ts: row.ts } : { ts: row.ts, thread_id: row.threadId };
  }
  return { type: 'm.receipt', content };
}
