/**
 * GET /sync: the positions of every stream become the `next_batch` token; the window `(since, next_batch]` of
 * each stream becomes the response. With nothing to say and a `timeout`, the request waits on the notifier
 * (rooms the user is joined to, and the user), then looks again.
 */
import { growingLru } from '../../../core/lru.js';
import type { Logger } from 'pino';
import type { Notifier } from '../../../core/notifier/notifier.js';
import { ACCOUNT_DATA_STREAM } from '../../account-data/api.js';
import type { FeedChanges, SyncEventJson, SyncFeed, SyncFeeds, SyncWindow } from '../api.js';
import { applyEventFields, limitEvents, matchesRoom, type SyncFilter } from './filter.js';
import { RoomSyncBuilder, type JsonRecord, type RoomSyncContext } from './room-sync-builder.js';
import type { MembershipAt, SyncRoomsSource } from './rooms-source.js';
import { formatSyncToken, parseSyncToken, type SyncToken } from './sync-token.js';

export interface SyncRequest {
  readonly userId: string;
  readonly deviceId: string | null;
  readonly since?: string;
  readonly filter: SyncFilter;
  readonly fullState: boolean;
  readonly setPresence: 'online' | 'offline' | 'unavailable';
  readonly timeoutMs: number;
  readonly useStateAfter: boolean;
}

export interface SyncResponse {
  next_batch: string;
  rooms: { join: JsonRecord; invite: JsonRecord; leave: JsonRecord; knock: JsonRecord };
  presence?: { events: JsonRecord[] };
  account_data?: { events: JsonRecord[] };
  to_device?: { events: JsonRecord[] };
  device_lists?: { changed: string[]; left: string[] };
  device_one_time_keys_count?: Readonly<Record<string, number>>;
  device_unused_fallback_key_types?: readonly string[];
}

/** The feeds registered by enabled modules (a disabled module's feed is simply absent). */
export type FeedLookup = () => Partial<SyncFeeds>;

/** How long a stream position read from the database is trusted before it is read again (see `positions`). */
const POSITION_REFRESH_MS = 1000;

/** Feeds that are streams, by their `next_batch` key. */
const STREAM_FEEDS = [
  'typingFeed',
  'receiptsFeed',
  'presenceFeed',
  'pushRulesFeed',
  'accountDataFeed',
  'toDeviceFeed',
  'deviceListsFeed',
] as const;
type StreamFeedName = (typeof STREAM_FEEDS)[number];

export class SyncService {
  private readonly rooms: () => SyncRoomsSource;
  private readonly feeds: FeedLookup;
  private readonly notifier: Notifier;
  private readonly shutdownSignal: AbortSignal;
  private readonly ignoredUsers: (userId: string) => Promise<ReadonlySet<string>>;
  private readonly roomBuilder: RoomSyncBuilder;
  private readonly logger: Logger;
  private readonly ignoredCache = growingLru<string, { position: number; users: ReadonlySet<string> }>(
    50_000,
  );
  private readonly membershipCache = growingLru<string, { at: number; memberships: MembershipAt[] }>(50_000);
  /** Each stream's position as last read from its feed (the database), and when (see `positions`). */
  private readonly readPositions = new Map<string, number>();
  private positionsReadAt = 0;

  constructor(deps: {
    rooms: () => SyncRoomsSource;
    feeds: FeedLookup;
    notifier: Notifier;
    shutdownSignal: AbortSignal;
    logger: Logger;
    ignoredUsers?: (userId: string) => Promise<ReadonlySet<string>>;
  }) {
    this.rooms = deps.rooms;
    this.feeds = deps.feeds;
    this.notifier = deps.notifier;
    this.shutdownSignal = deps.shutdownSignal;
    this.logger = deps.logger;
    this.ignoredUsers = deps.ignoredUsers ?? (async () => new Set());
    this.roomBuilder = new RoomSyncBuilder(deps.rooms);
  }

  async sync(req: SyncRequest): Promise<SyncResponse> {
    const since = req.since !== undefined ? parseSyncToken(req.since) : undefined;
    const feeds = this.feeds();
    if (feeds.presenceFeed) await feeds.presenceFeed.setPresenceFromSync(req.userId, req.setPresence);
    // An initial or full_state sync always answers at once (spec: full_state ignores timeout).
    const timeout = since === undefined || req.fullState ? 0 : Math.max(0, req.timeoutMs);
    const deadline = Date.now() + timeout;
    for (;;) {
      const done = new AbortController();
      const remaining = deadline - Date.now();
      const interest = remaining > 0 ? await this.interest(req.userId) : undefined;
      // Subscribe before reading positions: a change committed after the read still wakes this wait.
      const wake =
        interest && remaining > 0
          ? this.notifier.waitFor(interest, remaining, AbortSignal.any([this.shutdownSignal, done.signal]))
          : undefined;
      const to = await this.positions(feeds, since);
      const { response, empty } = await this.build(req, feeds, since, to);
      if (!empty || !wake || this.shutdownSignal.aborted) {
        done.abort();
        return response;
      }
      const change = await wake;
      if (!change || Date.now() >= deadline) {
        // Timed out: answer with the newest positions so the next request does not re-read unrelated changes.
        const fresh = await this.positions(feeds, since, true);
        return (await this.build(req, feeds, since, fresh)).response;
      }
    }
  }

  /**
   * The user's ignore list, cached with the account_data position it was read at: while that position stands
   * (a database value, so this holds across processes) the list cannot have changed.
   */
  private async ignoredUsersAt(
    userId: string,
    accountDataPosition: number | undefined,
  ): Promise<ReadonlySet<string>> {
    const known = this.ignoredCache.get(userId);
    if (accountDataPosition !== undefined && known?.position === accountDataPosition) return known.users;
    const users = await this.ignoredUsers(userId);
    if (accountDataPosition !== undefined)
      this.ignoredCache.set(userId, { position: accountDataPosition, users });
    return users;
  }

  /** What wakes a waiting sync: the user (invites, to-device, account data…) and every room they are in. */
  private async interest(userId: string): Promise<{ userIds: string[]; roomIds: string[] }> {
    // The last known memberships suffice: a membership change names the user, so it wakes this wait anyway.
    const known = this.membershipCache.get(userId);
    const memberships = known
      ? known.memberships
      : await this.membershipsAt(userId, await this.rooms().currentPosition());
    return {
      userIds: [userId],
      roomIds: memberships.filter((m) => m.membership === 'join').map((m) => m.roomId),
    };
  }

  /**
   * The user's memberships at `at`, from a per-user cache that is checked, not trusted: one indexed read of
   * the user's membership events since the cached position (usually none) proves it current, on any process.
   */
  private async membershipsAt(userId: string, at: number): Promise<MembershipAt[]> {
    const rooms = this.rooms();
    const known = this.membershipCache.get(userId);
    if (known && known.at <= at) {
      if (known.at === at || (await rooms.membershipChanges(userId, known.at, at)).length === 0) {
        this.membershipCache.set(userId, { at, memberships: known.memberships });
        return known.memberships;
      }
    }
    const memberships = await rooms.membershipsAt(userId, at);
    this.membershipCache.set(userId, { at, memberships });
    return memberships;
  }

  /**
   * Where every stream is now. A feed's position is read from the feed (usually the database) once, then
   * taken from the notifier, which hears every change this process commits: a woken sync reads no positions.
   * The database is asked again on an initial sync, when `fresh` (a long-poll that timed out), when a second
   * has passed, or when the client's token is ahead of what this process knows (another process issued it),
   * so changes committed by other processes sharing the database still arrive, within a second or at the
   * timeout.
   */
  private async positions(
    feeds: Partial<SyncFeeds>,
    since: SyncToken | undefined,
    fresh = false,
  ): Promise<SyncToken> {
    const now = Date.now();
    // An initial sync costs far more than these reads: it always sees every process's changes.
    const stale = fresh || since === undefined || now - this.positionsReadAt > POSITION_REFRESH_MS;
    if (stale) this.positionsReadAt = now;
    const streams: Record<string, number> = {};
    const [events] = await Promise.all([
      this.rooms()
        .currentPosition({ fresh: stale })
        .then((n) =>
          n < (since?.events ?? 0) && !stale ? this.rooms().currentPosition({ fresh: true }) : n,
        ),
      ...STREAM_FEEDS.map(async (name) => {
        const feed = feeds[name];
        if (!feed) return;
        const stream = feed.stream;
        let read = this.readPositions.get(stream);
        const published = this.notifier.latestPosition(stream) ?? -Infinity;
        const known = Math.max(read ?? -Infinity, published);
        if (read === undefined || stale || (since?.streams[stream] ?? 0) > known) {
          read = await feed.currentPosition();
          this.readPositions.set(stream, read);
        }
        streams[stream] = Math.max(read, published);
      }),
    ]);
    return { events, streams };
  }

  private async build(
    req: SyncRequest,
    feeds: Partial<SyncFeeds>,
    since: SyncToken | undefined,
    to: SyncToken,
  ): Promise<{ response: SyncResponse; empty: boolean }> {
    const rooms = this.rooms();
    const filter = req.filter;
    const roomFilter = filter.room;
    const initial = since === undefined;
    const known = this.membershipCache.get(req.userId);
    // The membership cache is validated from its position to `to`; when that is `since`, the same read
    // answers both questions (no change in the window), so it is not repeated.
    const windowIsValidated = since !== undefined && known !== undefined && known.at === since.events;
    const [memberships, ignored] = await Promise.all([
      this.membershipsAt(req.userId, to.events),
      this.ignoredUsersAt(req.userId, to.streams[ACCOUNT_DATA_STREAM]),
    ]);
    const cachedStill =
      windowIsValidated && this.membershipCache.get(req.userId)?.memberships === known.memberships;
    const changes =
      since && !cachedStill && since.events < to.events
        ? await rooms.membershipChanges(req.userId, since.events, to.events)
        : [];
    const visible = memberships.filter((m) => matchesRoom(roomFilter, m.roomId));
    const joined = visible.filter((m) => m.membership === 'join');
    const joinedIds = joined.map((m) => m.roomId);
    const changedInWindow = groupByRoom(changes);
    const newlyJoined = new Set(
      initial
        ? joinedIds
        : joinedIds.filter((id) =>
            (changedInWindow.get(id) ?? []).some(
              (c) => c.membership === 'join' && c.prevMembership !== 'join',
            ),
          ),
    );
    const windowOf = (stream: string): SyncWindow => ({
      deviceId: req.deviceId,
      roomIds: joinedIds,
      newRoomIds: req.fullState ? joinedIds : [...newlyJoined],
      from: Math.min(since?.streams[stream] ?? 0, to.streams[stream] ?? 0),
      to: to.streams[stream] ?? 0,
    });
    // An empty window with no new room cannot hold a change: the feed is not asked (see SyncFeed).
    const ask = <T>(feed: SyncFeed<T> | undefined): Promise<FeedChanges<T> | undefined> => {
      if (!feed) return Promise.resolve(undefined);
      const window = windowOf(feed.stream);
      const acknowledges = feed === feeds.toDeviceFeed; // `since` itself is news to to-device: an acknowledgement
      if (!acknowledges && !initial && window.from === window.to && window.newRoomIds.length === 0) {
        return Promise.resolve(undefined);
      }
      return feed.changesFor(req.userId, window);
    };
    const [typing, receipts, presence, pushRules, accountData, toDevice, deviceLists, eventRooms] =
      await Promise.all([
        ask(feeds.typingFeed),
        ask(feeds.receiptsFeed),
        ask(feeds.presenceFeed),
        ask(feeds.pushRulesFeed),
        ask(feeds.accountDataFeed),
        ask(feeds.toDeviceFeed),
        ask(feeds.deviceListsFeed),
        since && !req.fullState && since.events < to.events
          ? rooms.roomsWithEvents(joinedIds, since.events, to.events)
          : Promise.resolve(new Set<string>(since && !req.fullState ? [] : joinedIds)),
      ]);

    const next: Record<string, number> = { ...to.streams };
    const reached = (name: StreamFeedName, changes: FeedChanges<unknown> | undefined): void => {
      const feed = feeds[name];
      if (feed && changes?.position !== undefined) next[feed.stream] = changes.position;
    };
    reached('typingFeed', typing);
    reached('receiptsFeed', receipts);
    reached('presenceFeed', presence);
    reached('pushRulesFeed', pushRules);
    reached('accountDataFeed', accountData);
    reached('toDeviceFeed', toDevice);
    reached('deviceListsFeed', deviceLists);

    const ctx: RoomSyncContext = {
      userId: req.userId,
      deviceId: req.deviceId,
      filter,
      since,
      to,
      fullState: req.fullState,
      useStateAfter: req.useStateAfter,
      ignored,
    };
    const response: SyncResponse = {
      next_batch: formatSyncToken({ events: to.events, streams: next }),
      rooms: { join: {}, invite: {}, leave: {}, knock: {} },
    };

    // Joined rooms: those with events, a new join, or ephemeral/account data of their own.
    const ephemeralOf = mergeRoomEvents(typing?.data, receipts?.data);
    const roomAccountData = accountData?.data.rooms ?? {};
    const candidates = joinedIds.filter(
      (id) =>
        req.fullState ||
        newlyJoined.has(id) ||
        eventRooms.has(id) ||
        ephemeralOf[id] !== undefined ||
        roomAccountData[id] !== undefined,
    );
    const counts =
      feeds.unreadCountsFeed && candidates.length > 0
        ? await feeds.unreadCountsFeed.countsFor(req.userId, candidates)
        : {};
    await Promise.all(
      candidates.map(async (roomId) => {
        const room = await this.roomBuilder.joined(ctx, roomId, {
          newlyJoined: newlyJoined.has(roomId),
          hasEvents: eventRooms.has(roomId),
          ephemeral: ephemeralOf[roomId] ?? [],
          accountData: roomAccountData[roomId] ?? [],
          counts: counts[roomId],
        });
        if (room) response.rooms.join[roomId] = room;
      }),
    );

    // Invites and knocks: new ones (or all on an initial sync); never an invite from an ignored user.
    for (const m of visible) {
      if (m.membership !== 'invite' && m.membership !== 'knock') continue;
      if (!initial && !req.fullState && !changedInWindow.has(m.roomId)) continue;
      if (m.membership === 'invite') {
        if (ignored.has(m.sender)) continue;
        response.rooms.invite[m.roomId] = {
          invite_state: { events: await rooms.strippedState(m.roomId, m.eventId) },
        };
      } else {
        response.rooms.knock[m.roomId] = {
          knock_state: { events: await rooms.strippedState(m.roomId, m.eventId) },
        };
      }
    }

    // Left rooms: those left in the window; on an initial (or full_state) sync only with include_leave.
    for (const m of visible) {
      if (m.membership !== 'leave' && m.membership !== 'ban') continue;
      const leftNow = !initial && changedInWindow.has(m.roomId);
      const historical = (initial || req.fullState) && roomFilter?.include_leave === true;
      if (!leftNow && !historical) continue;
      response.rooms.leave[m.roomId] = await this.roomBuilder.left(
        ctx,
        m,
        accountData?.data.rooms[m.roomId] ?? [],
      );
    }

    const globalData = [...(accountData?.data.global ?? []), ...(pushRules?.data.events ?? [])];
    const accountDataEvents = limitEvents(filter.account_data, globalData);
    if (accountDataEvents.length > 0)
      response.account_data = { events: this.shape(filter, accountDataEvents) };
    const presenceEvents = limitEvents(filter.presence, presence?.data.events ?? []);
    if (presenceEvents.length > 0) response.presence = { events: this.shape(filter, presenceEvents) };
    if (toDevice && toDevice.data.events.length > 0)
      response.to_device = { events: toDevice.data.events.map((e) => ({ ...e })) };
    if (deviceLists && (deviceLists.data.changed.length > 0 || deviceLists.data.left.length > 0)) {
      response.device_lists = { changed: [...deviceLists.data.changed], left: [...deviceLists.data.left] };
    }
    if (feeds.keysFeed && req.deviceId !== null) {
      const [counts, fallback] = await Promise.all([
        feeds.keysFeed.oneTimeKeyCounts(req.userId, req.deviceId),
        feeds.keysFeed.unusedFallbackKeyTypes(req.userId, req.deviceId),
      ]);
      response.device_one_time_keys_count = counts;
      response.device_unused_fallback_key_types = fallback;
    }

    const empty =
      Object.keys(response.rooms.join).length === 0 &&
      Object.keys(response.rooms.invite).length === 0 &&
      Object.keys(response.rooms.leave).length === 0 &&
      Object.keys(response.rooms.knock).length === 0 &&
      response.account_data === undefined &&
      response.presence === undefined &&
      response.to_device === undefined &&
      response.device_lists === undefined;
    if (!empty) this.logger.trace({ user: req.userId, next: response.next_batch }, 'sync has news');
    return { response, empty };
  }

  private shape(filter: SyncFilter, events: readonly SyncEventJson[]): JsonRecord[] {
    return events.map((e) => applyEventFields({ ...e }, filter.event_fields) as JsonRecord);
  }
}

function groupByRoom(changes: readonly MembershipAt[]): Map<string, MembershipAt[]> {
  const out = new Map<string, MembershipAt[]>();
  for (const c of changes) {
    let list = out.get(c.roomId);
    if (!list) out.set(c.roomId, (list = []));
    list.push(c);
  }
  return out;
}

function mergeRoomEvents(
  ...parts: (Readonly<Record<string, readonly SyncEventJson[]>> | undefined)[]
): Record<string, SyncEventJson[]> {
  const out: Record<string, SyncEventJson[]> = {};
  for (const part of parts) {
    if (!part) continue;
    for (const [roomId, events] of Object.entries(part))
      if (events.length > 0) (out[roomId] ??= []).push(...events);
  }
  return out;
}
