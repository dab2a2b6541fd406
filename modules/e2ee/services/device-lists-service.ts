/**
 * Device-list tracking: records who changed on the `device_lists` stream, wakes the users who must hear of
 * it, and answers "whose device lists changed, and who no longer shares a room" for /sync and /keys/changes.
 */
import type { Cradle } from '../../../core/container.js';
import type { DeviceListChanges, DeviceListsFeed, FeedChanges, SyncWindow } from '../../sync/api.js';
import type { DeviceListsStore } from '../store/device-lists-store.js';

export const DEVICE_LISTS_STREAM = 'device_lists';

/** The part of the rooms module's API device-list tracking reads. */
export interface RoomsForDeviceLists {
  joinedRooms(userId: string): Promise<string[]>;
  members(roomId: string, membership?: string): Promise<string[]>;
  usersSharingRoomWith(userId: string): Promise<string[]>;
}

export class DeviceListsService implements DeviceListsFeed {
  readonly stream = DEVICE_LISTS_STREAM;
  private readonly store: DeviceListsStore;
  private readonly notifier: Cradle['notifier'];
  private readonly rooms: () => RoomsForDeviceLists;

  constructor(deps: {
    e2eeDeviceListsStore: DeviceListsStore;
    notifier: Cradle['notifier'];
    rooms: () => RoomsForDeviceLists;
  }) {
    this.store = deps.e2eeDeviceListsStore;
    this.notifier = deps.notifier;
    this.rooms = deps.rooms;
  }

  /** A user's devices or identity keys changed: everyone sharing a room with them (and they) must hear. */
  async deviceChanged(userId: string): Promise<number> {
    const position = await this.store.record([{ kind: 'device', userId }]);
    const userIds = await this.rooms().usersSharingRoomWith(userId);
    this.notifier.publish({ stream: this.stream, position, userIds: [...new Set([userId, ...userIds])] });
    return position;
  }

  /** Something only the user's own devices care about (their signatures on other users' keys). */
  async selfChanged(userId: string): Promise<number> {
    const position = await this.store.record([{ kind: 'self', userId }]);
    this.notifier.publish({ stream: this.stream, position, userIds: [userId] });
    return position;
  }

  /** A membership change: a join makes users newly share a room, a leave may end the last shared one. */
  async membershipChanged(roomId: string, userId: string, membership: string): Promise<void> {
    const kind =
      membership === 'join' ? 'join' : membership === 'leave' || membership === 'ban' ? 'leave' : null;
    if (!kind) return;
    const position = await this.store.record([{ kind, userId, roomId }]);
    const members = await this.rooms().members(roomId);
    this.notifier.publish({ stream: this.stream, position, userIds: [...new Set([userId, ...members])] });
  }

  currentPosition(): Promise<number> {
    return this.store.currentPosition();
  }

  async changesFor(userId: string, window: SyncWindow): Promise<FeedChanges<DeviceListChanges>> {
    // The spec asks for device_lists on incremental syncs only.
    if (window.from === 0) return { data: { changed: [], left: [] } };
    return { data: await this.changesBetween(userId, window.from, window.to) };
  }

  /** Users whose device lists changed in `(from, to]` that `userId` shares a room with, and those it no longer does. */
  async changesBetween(userId: string, from: number, to: number): Promise<DeviceListChanges> {
    if (to <= from) return { changed: [], left: [] };
    const rooms = this.rooms();
    const [sharingList, joined] = await Promise.all([
      rooms.usersSharingRoomWith(userId),
      rooms.joinedRooms(userId),
    ]);
    const sharing = new Set([userId, ...sharingList]);
    const changed = await this.store.usersWithDeviceChanges([...sharing], userId, from, to);
    const leftCandidates = new Set<string>();
    for (const row of await this.store.membershipRows(joined, userId, from, to)) {
      const roomId = row.roomId;
      if (roomId === undefined) continue;
      const involved = row.userId === userId ? await rooms.members(roomId) : [row.userId];
      for (const other of involved) {
        if (other === userId) continue;
        if (row.kind === 'join') changed.add(other);
        else leftCandidates.add(other);
      }
    }
    const left = [...leftCandidates].filter((u) => !sharing.has(u)).sort();
    return { changed: [...changed].filter((u) => sharing.has(u)).sort(), left };
  }
}
