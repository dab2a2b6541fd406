/**
 * Presence: each local user's state (online, unavailable, offline), status message and last-active time.
 * Syncing keeps a user online; no sync for `syncTimeoutMs` makes them offline, no activity for
 * `idleTimeoutMs` makes them unavailable (Synapse's SYNC_ONLINE_TIMEOUT and IDLE_TIMER). Changes wake the
 * rooms the user is in, so every user sharing a room hears of them.
 */
import type { Cradle } from '../../../core/container.js';
import { MatrixError } from '../../../core/errors.js';
import type { JsonObject } from '../../../core/protocol/pdu.js';
import type { SyncEventJson } from '../../sync/api.js';
import { PRESENCE_STREAM } from '../api.js';
import type { PresenceRow, PresenceState, PresenceStore } from '../store/presence-store.js';

/** What presence needs from the rooms module. */
export interface PresenceRooms {
  joinedRooms(userId: string): Promise<readonly string[]>;
  /** Every user (the user included) joined to at least one room `userId` is joined to. */
  usersSharingRoomWith(userId: string): Promise<ReadonlySet<string>>;
}

export interface PresenceSettings {
  /** Synapse's `presence.enabled`: when false, updates are ignored and sync carries no presence. */
  readonly enabled: boolean;
  readonly idleTimeoutMs: number;
  readonly syncTimeoutMs: number;
  /** Within this of the last action a user is `currently_active` (Synapse's LAST_ACTIVE_GRANULARITY). */
  readonly currentlyActiveMs: number;
}

export const DEFAULT_PRESENCE_SETTINGS: PresenceSettings = {
  enabled: true,
  idleTimeoutMs: 5 * 60_000,
  syncTimeoutMs: 30_000,
  currentlyActiveMs: 60_000,
};

/** How often a sync refreshes `last_sync_ts` without changing anything others see. */
const SYNC_TOUCH_INTERVAL_MS = 10_000;

type Deps = Pick<Cradle, 'notifier' | 'logger'> & {
  presenceStore: PresenceStore;
  presenceRooms: PresenceRooms;
  presenceSettings: PresenceSettings;
};

export class PresenceService {
  private sweeper: NodeJS.Timeout | undefined;

  constructor(private readonly deps: Deps) {}

  get enabled(): boolean {
    return this.deps.presenceSettings.enabled;
  }

  /** PUT /presence/{userId}/status by `requester`. */
  async setStatus(
    requester: string,
    userId: string,
    state: PresenceState,
    statusMsg: string | undefined,
  ): Promise<void> {
    if (requester !== userId)
      throw new MatrixError(403, 'M_FORBIDDEN', 'You cannot set the presence of another user');
    if (!this.enabled) return;
    const now = Date.now();
    const current = await this.deps.presenceStore.get(userId);
    await this.write({
      userId,
      state,
      statusMsg: statusMsg ?? null,
      // Setting oneself online is a pro-active action (spec: Last active ago).
      lastActiveTs: state === 'online' ? now : (current?.lastActiveTs ?? now),
      lastSyncTs: current?.lastSyncTs ?? now,
    });
  }

  /** GET /presence/{userId}/status: for oneself or a user sharing a room. */
  async getStatus(requester: string, userId: string): Promise<JsonObject> {
    if (requester !== userId) {
      const visible = await this.deps.presenceRooms.usersSharingRoomWith(requester);
      if (!visible.has(userId))
        throw new MatrixError(403, 'M_FORBIDDEN', 'You are not allowed to see their presence');
    }
    const row = await this.deps.presenceStore.get(userId);
    if (!row) return { presence: 'offline' };
    return this.content(row, Date.now());
  }

  /** Called by sync with its `set_presence` (online when omitted). */
  async syncing(userId: string, presence: PresenceState): Promise<void> {
    if (!this.enabled) return;
    const now = Date.now();
    const current = await this.deps.presenceStore.get(userId);
    // `offline` means "this sync does not make me online": the stored state stays as it is.
    if (presence === 'offline') return;
    if (
      !current ||
      current.state === 'offline' ||
      (presence === 'unavailable' && current.state === 'online')
    ) {
      await this.write({
        userId,
        state: presence,
        statusMsg: current?.statusMsg ?? null,
        lastActiveTs: presence === 'online' ? now : (current?.lastActiveTs ?? now),
        lastSyncTs: now,
      });
    } else if (now - current.lastSyncTs > SYNC_TOUCH_INTERVAL_MS) {
      await this.deps.presenceStore.touchSync(userId, now);
    }
  }

  /** A pro-active action: bumps last-active; an idle or offline user becomes online. */
  async markActive(userId: string): Promise<void> {
    if (!this.enabled) return;
    const now = Date.now();
    const current = await this.deps.presenceStore.get(userId);
    // Within the "currently active" window nothing a client sees changes: save the write and the wake-up.
    if (
      current?.state === 'online' &&
      now - current.lastActiveTs < this.deps.presenceSettings.currentlyActiveMs
    )
      return;
    await this.write({
      userId,
      state: 'online',
      statusMsg: current?.statusMsg ?? null,
      lastActiveTs: now,
      lastSyncTs: current?.lastSyncTs ?? now,
    });
  }

  /** Applies the idle and offline timeouts once (the sweeper calls this periodically). */
  async applyTimeouts(now = Date.now()): Promise<void> {
    const { idleTimeoutMs, syncTimeoutMs } = this.deps.presenceSettings;
    for (const row of await this.deps.presenceStore.notOffline()) {
      if (now - row.lastSyncTs > syncTimeoutMs && now - row.lastActiveTs > syncTimeoutMs) {
        await this.write({ ...row, state: 'offline' });
      } else if (row.state === 'online' && now - row.lastActiveTs > idleTimeoutMs) {
        await this.write({ ...row, state: 'unavailable' });
      }
    }
  }

  startSweeper(intervalMs = 15_000): void {
    this.sweeper = setInterval(() => {
      this.applyTimeouts().catch((err: unknown) =>
        this.deps.logger.error({ err }, 'presence timeouts failed'),
      );
    }, intervalMs);
    this.sweeper.unref();
  }

  stopSweeper(): void {
    if (this.sweeper) clearInterval(this.sweeper);
    this.sweeper = undefined;
  }

  /** `m.presence` events for `userIds` as of now. */
  eventsFor(rows: readonly PresenceRow[], now = Date.now()): SyncEventJson[] {
    return rows.map((row) => ({ type: 'm.presence', sender: row.userId, content: this.content(row, now) }));
  }

  /** The `m.presence` content (and GET body): last-active is relative, `currently_active` only when online. */
  content(row: PresenceRow, now: number): JsonObject {
    const lastActiveAgo = Math.max(0, now - row.lastActiveTs);
    const out: JsonObject = {
      presence: row.state,
      last_active_ago: lastActiveAgo,
    };
    if (row.state === 'online')
      out['currently_active'] = lastActiveAgo < this.deps.presenceSettings.currentlyActiveMs;
    if (row.statusMsg !== null) out['status_msg'] = row.statusMsg;
    return out;
  }

  private async write(row: Omit<PresenceRow, 'position'>): Promise<void> {
    const position = await this.deps.presenceStore.put(row);
    const roomIds = await this.deps.presenceRooms.joinedRooms(row.userId);
    this.deps.notifier.publish({ stream: PRESENCE_STREAM, position, roomIds, userIds: [row.userId] });
  }
}
