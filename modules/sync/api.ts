/**
 * What the sync module offers other modules, and the contract of the "feeds" it reads to build a /sync
 * response. A feeder module (typing, receipts, presence, push rules, account data, to-device, device lists,
 * unread counts, keys) registers an object implementing the matching interface below under the well-known
 * container name listed in `SYNC_FEED_NAMES`. The sync module resolves each name lazily, per request; a
 * disabled module simply has no registration and its section is left out of the response.
 *
 * Positions: every stream has a monotonically increasing integer position that comes from the database (or,
 * for a stream that is not persisted such as typing, from the process). A sync's `next_batch` token records
 * the position of every stream; the next sync asks each feed for what changed in the window `(from, to]`.
 *
 * Wake-ups: after persisting a change a feeder publishes on the kernel notifier
 * `{ stream: feed.stream, position, roomIds?, userIds? }` naming the rooms (whose joined members should wake)
 * and/or users (who should wake regardless of rooms). A waiting /sync re-reads the feeds when woken.
 */
import type { JsonObject } from '../../core/protocol/pdu.js';

/** An event as it appears in a sync section (ephemeral, account data, presence, to-device): no room_id. */
export interface SyncEventJson {
  readonly type: string;
  readonly content: JsonObject;
  /** Present for presence, receipts' senders are inside content; to-device events carry it too. */
  readonly sender?: string;
  readonly [extra: string]: unknown;
}

/** The window one sync asks a feed about. */
export interface SyncWindow {
  /** The device making the request (null for tokens without a device). */
  readonly deviceId: string | null;
  /**
   * Rooms the user is joined to that this sync covers (after the filter's `rooms`/`not_rooms`). Per-room feeds
   * (typing, receipts, room account data, unread counts) answer only for these.
   */
  readonly roomIds: readonly string[];
  /**
   * Rooms that appear in this sync for the first time (initial sync, a new join, or any room under
   * `full_state`): a per-room feed returns its whole current snapshot for these, not only the changes.
   */
  readonly newRoomIds: readonly string[];
  /** Exclusive lower bound; 0 on an initial sync (everything up to `to`). */
  readonly from: number;
  /** Inclusive upper bound: the position this sync's `next_batch` records for the stream. */
  readonly to: number;
}

/** What a feed returns. */
export interface FeedChanges<T> {
  readonly data: T;
  /**
   * When the feed stopped short of `to` (e.g. to-device delivers at most 100 messages per sync), the position
   * it reached; `next_batch` then records this instead of `to` so the rest comes next time.
   */
  readonly position?: number;
}

/**
 * One stream feeding /sync.
 *
 * - `stream` is the notifier stream name and the key of this stream in the `next_batch` token. It must match
 *   `/^[a-z][a-z0-9_]*$/`.
 * - `currentPosition()` is cheap (one indexed read or a cached value).
 * - `changesFor()` must not scan: it reads rows in the window for this user (or these rooms) through an index.
 *   A feed whose positions do not survive a restart (typing) must treat `from > currentPosition()` as 0.
 */
export interface SyncFeed<T> {
  readonly stream: string;
  currentPosition(): Promise<number>;
  changesFor(userId: string, window: SyncWindow): Promise<FeedChanges<T>>;
}

/** Per-room ephemeral events (`rooms.join[roomId].ephemeral.events`): typing and receipts. */
export type RoomEphemeralData = Readonly<Record<string, readonly SyncEventJson[]>>;

/** Events of a top-level section: `presence.events`, or global account data such as `m.push_rules`. */
export interface TopLevelEvents {
  readonly events: readonly SyncEventJson[];
}

/** Account data: global (top-level `account_data`) and per room (`rooms.join[roomId].account_data`). */
export interface AccountDataChanges {
  readonly global: readonly SyncEventJson[];
  readonly rooms: Readonly<Record<string, readonly SyncEventJson[]>>;
}

/** `device_lists` of the sync response. */
export interface DeviceListChanges {
  readonly changed: readonly string[];
  readonly left: readonly string[];
}

/** `typingFeed`: `m.typing` per room; for a room in `newRoomIds` (or changed) the full current typing list. */
export type TypingFeed = SyncFeed<RoomEphemeralData>;

/** `receiptsFeed`: `m.receipt` events per room (private receipts only to their owner). */
export type ReceiptsFeed = SyncFeed<RoomEphemeralData>;

/**
 * `presenceFeed`: `m.presence` events of users sharing a room with the syncing user (and the user's own).
 * `setPresenceFromSync` is called once per /sync with the `set_presence` parameter (`online` when omitted)
 * before the feeds are read.
 */
export interface PresenceFeed extends SyncFeed<TopLevelEvents> {
  setPresenceFromSync(userId: string, presence: 'online' | 'offline' | 'unavailable'): Promise<void>;
}

/** `pushRulesFeed`: the `m.push_rules` global account data event when the user's rules changed in the window. */
export type PushRulesFeed = SyncFeed<TopLevelEvents>;

/** `accountDataFeed` (modules/account-data). */
export type AccountDataFeed = SyncFeed<AccountDataChanges>;

/**
 * `toDeviceFeed` (modules/to-device): messages for `window.deviceId` in `(from, to]`, at most 100, oldest first.
 * Calling it with `from` acknowledges (deletes) every message at or below `from` for that device.
 */
export type ToDeviceFeed = SyncFeed<TopLevelEvents>;

/** `deviceListsFeed` (the e2ee module): users whose device lists changed / who no longer share a room. */
export type DeviceListsFeed = SyncFeed<DeviceListChanges>;

/** Unread counts of one room (`unread_notifications`), and per thread when the filter asks for it. */
export interface UnreadCounts {
  readonly notification_count: number;
  readonly highlight_count: number;
}

export interface RoomUnreadCounts {
  readonly main: UnreadCounts;
  /** Thread root event id → counts; only threads with a non-zero count. */
  readonly threads?: Readonly<Record<string, UnreadCounts>>;
}

/**
 * `unreadCountsFeed` (the push-rules module): not a stream of its own; the counts are read for every joined
 * room that appears in a sync response. Counts change with events (events stream) and receipts (receipts
 * stream), so those streams already bring the room into the response.
 */
export interface UnreadCountsFeed {
  countsFor(userId: string, roomIds: readonly string[]): Promise<Readonly<Record<string, RoomUnreadCounts>>>;
}

/** `keysFeed` (the e2ee module): one-time key counts and unused fallback key types of the syncing device. */
export interface KeysFeed {
  oneTimeKeyCounts(userId: string, deviceId: string): Promise<Readonly<Record<string, number>>>;
  unusedFallbackKeyTypes(userId: string, deviceId: string): Promise<readonly string[]>;
}

/** The container names sync looks for. A module registers its feed under exactly this name. */
export const SYNC_FEED_NAMES = {
  typing: 'typingFeed',
  receipts: 'receiptsFeed',
  presence: 'presenceFeed',
  pushRules: 'pushRulesFeed',
  accountData: 'accountDataFeed',
  toDevice: 'toDeviceFeed',
  deviceLists: 'deviceListsFeed',
  unreadCounts: 'unreadCountsFeed',
  keys: 'keysFeed',
} as const;

/** The typed shape of those registrations, for modules augmenting the Cradle. */
export interface SyncFeeds {
  typingFeed: TypingFeed;
  receiptsFeed: ReceiptsFeed;
  presenceFeed: PresenceFeed;
  pushRulesFeed: PushRulesFeed;
  accountDataFeed: AccountDataFeed;
  toDeviceFeed: ToDeviceFeed;
  deviceListsFeed: DeviceListsFeed;
  unreadCountsFeed: UnreadCountsFeed;
  keysFeed: KeysFeed;
}
