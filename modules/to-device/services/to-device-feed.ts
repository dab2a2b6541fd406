/** The to_device stream as /sync reads it: acknowledge what the client has, hand out the next batch. */
import type { FeedChanges, SyncWindow, ToDeviceFeed, TopLevelEvents } from '../../sync/api.js';
import { TO_DEVICE_STREAM } from '../api.js';
import type { ToDeviceStore } from '../store/to-device-store.js';
import { growingLru } from '../../../core/lru.js';

/** The spec recommends at most 100 messages per sync. */
export const MAX_PER_SYNC = 100;

export class ToDeviceSyncFeed implements ToDeviceFeed {
  readonly stream = TO_DEVICE_STREAM;
  private readonly store: ToDeviceStore;
  private readonly acknowledged = growingLru<string, number>(100_000);

  constructor({ toDeviceStore }: { toDeviceStore: ToDeviceStore }) {
    this.store = toDeviceStore;
  }

  currentPosition(): Promise<number> {
    return this.store.currentPosition();
  }

  async changesFor(userId: string, window: SyncWindow): Promise<FeedChanges<TopLevelEvents>> {
    const deviceId = window.deviceId;
    if (deviceId === null) return { data: { events: [] } };
    // A sync from `since` proves the client stored everything that `since` covered. The in-process mark only
    // saves repeating a delete that already ran; another process acknowledging too is harmless.
    const key = `${userId}\u0000${deviceId}`;
    if (window.from > 0 && (this.acknowledged.get(key) ?? 0) < window.from) {
      await this.store.acknowledge(userId, deviceId, window.from);
      this.acknowledged.set(key, window.from);
    }
    if (window.from >= window.to) return { data: { events: [] } };
    const pending = await this.store.pending(userId, deviceId, window.from, window.to, MAX_PER_SYNC);
    const events = pending.map((m) => ({ sender: m.sender, type: m.type, content: m.content }));
    const last = pending[pending.length - 1];
    const full = pending.length === MAX_PER_SYNC && last !== undefined;
    return full ? { data: { events }, position: last.position } : { data: { events } };
  }
}
