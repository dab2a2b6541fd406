/**
 * What other modules may call on rooms (registered as `roomsApi`): sync, e2ee, the directory, plugins.
 * Events come out in the client format (`ClientEvent`); the sync reads (`timeline`, `stateAt`, `stateDelta`)
 * also pair each with its federation format when asked (`withPdu: true`). Stream positions are the `events`
 * stream the rooms module announces on the notifier.
 */
import { MatrixError } from '../../core/errors.js';
import { DEFAULT_ROOM_VERSION, ROOM_VERSIONS } from '../../core/protocol/room-versions.js';
import { splitStateKey, type JsonObject, type StateKey } from '../../core/protocol/pdu.js';
import type { RoomStore, StoredEvent } from './store/room-store.js';
import type { ClientEvent, EventWithPdu } from './services/client-events.js';
import type { EventSender, EventWriter, PersistedListener } from './services/event-sender.js';
import type {
  AliasResolver,
  StateEventValidator,
  ProfileLookup,
  RoomCreatedHook,
  RoomCreateValidator,
  RoomHooks,
} from './services/hooks.js';
import type { HistoryVisibility } from './services/history-visibility.js';
import type { MembershipService } from './services/membership-service.js';
import type { RoomEventsService } from './services/room-events-service.js';
import type { RoomReader } from './services/room-reader.js';
import { formatTopoToken } from './services/tokens.js';
import type { RoomEventFilter } from './services/timeline-service.js';
import { matchesFilter } from './services/timeline-service.js';
import type { RoomUpgradedHook, UpgradeService } from './services/upgrade-service.js';

export type { ClientEvent, EventWithPdu, FederationEvent } from './services/client-events.js';
export type { RoomEventFilter } from './services/timeline-service.js';
export type {
  Profile,
  AliasResolver,
  StateEventValidator,
  ProfileLookup,
  RoomCreatedHook,
  RoomCreateValidator,
} from './services/hooks.js';
export type { RoomUpgradedHook } from './services/upgrade-service.js';
export type { EventDraft, EventWriter, RoomStateView, TransactionWrite } from './services/event-sender.js';
export { parseRoomToken, formatTopoToken } from './services/tokens.js';

/** A persisted event as listeners see it. */
export interface PersistedEvent {
  readonly eventId: string;
  readonly roomId: string;
  readonly type: string;
  readonly stateKey: string | null;
  readonly sender: string;
  readonly streamOrdering: number;
  readonly content: JsonObject;
  /** For m.room.member: the new membership. */
  readonly membership: string | null;
}

export interface MembershipChange {
  readonly roomId: string;
  readonly userId: string;
  readonly membership: string;
  readonly sender: string;
  readonly eventId: string;
  readonly streamOrdering: number;
  readonly event: ClientEvent;
}

export interface RoomSummaryRow {
  readonly roomId: string;
  readonly roomVersion: string;
  readonly creator: string;
  readonly visibility: 'public' | 'private';
  readonly createdTs: number;
}

/** A timeline slice for a sync response (of `EventWithPdu` when read `withPdu`). */
export interface TimelineSlice<E = ClientEvent> {
  /** Oldest first. */
  readonly events: E[];
  /** True when more events than `limit` fell in the range (a gap). */
  readonly limited: boolean;
  /** A /messages `from` token pointing just before the first event returned. */
  readonly prevBatch: string;
}

/** The range of a sync timeline read. */
export interface TimelineRange {
  readonly after: number;
  readonly upTo: number;
  readonly limit: number;
  /** The viewer's device: its own `transaction_id`s are shown. */
  readonly deviceId?: string | null;
  readonly filter?: RoomEventFilter;
}

/**
 * Pair each client event with the same event in federation format (`EventWithPdu`), for a sync filter's
 * `event_format: "federation"`. The PDU is already loaded with the event, so this costs no extra read.
 */
export interface WithPdu {
  readonly withPdu: true;
}

/** Client events only (the default). */
export interface WithoutPdu {
  readonly withPdu?: false;
}

export interface RoomsApi {
  /**
   * The newest position of the `events` stream every event at or below which is committed (0 before any
   * event): the `upTo` of a sync. Never skips an event still being written in another room.
   */
  currentStreamPosition(): Promise<number>;
  /**
   * The events of `roomId` with stream ordering in (`after`, `upTo`] that `userId` may see, the newest
   * `limit` of them oldest first, formatted for `deviceId` (its own `transaction_id`s). With `withPdu: true`,
   * each comes with its federation format.
   */
  timeline(
    userId: string,
    roomId: string,
    range: TimelineRange & WithPdu,
  ): Promise<TimelineSlice<EventWithPdu>>;
  timeline(userId: string, roomId: string, range: TimelineRange & WithoutPdu): Promise<TimelineSlice>;
  /**
   * Which of `roomIds` have an event in (`after`, `upTo`] (no visibility filter); all of them when the window
   * is too large to look at cheaply (more than `scanLimit` events).
   */
  roomsWithEvents(
    roomIds: readonly string[],
    after: number,
    upTo: number,
    scanLimit: number,
  ): Promise<Set<string>>;
  /** Raw stream read: events of `roomIds` in (`after`, `upTo`], newest first, no visibility filter. */
  eventsInStreamRange(
    roomIds: readonly string[],
    after: number,
    upTo: number,
    limit: number,
  ): Promise<PersistedEvent[]>;
  /**
   * The room state at stream position `at` (after the newest event of the room at or before it); with
   * `withPdu: true`, each event with its federation format.
   */
  stateAt(roomId: string, at: number, options: WithPdu): Promise<EventWithPdu[]>;
  stateAt(roomId: string, at: number, options?: WithoutPdu): Promise<ClientEvent[]>;
  /** State entries that differ between stream positions `from` and `to` (their values at `to`); `withPdu` as above. */
  stateDelta(roomId: string, from: number, to: number, options: WithPdu): Promise<EventWithPdu[]>;
  stateDelta(roomId: string, from: number, to: number, options?: WithoutPdu): Promise<ClientEvent[]>;
  /** The current state, or one entry of it. */
  currentState(roomId: string): Promise<ClientEvent[]>;
  currentStateEvent(roomId: string, type: string, stateKey: string): Promise<ClientEvent | undefined>;
  /** Membership events targeting `userId` in (`after`, `upTo`], oldest first. */
  membershipChangesOfUser(userId: string, after: number, upTo: number): Promise<MembershipChange[]>;
  /** Membership events of any user in `roomIds` in (`after`, `upTo`] (device-list tracking). */
  membershipChangesInRooms(
    roomIds: readonly string[],
    after: number,
    upTo: number,
  ): Promise<MembershipChange[]>;
  /** Rooms with the given memberships of `userId` (all memberships when omitted), forgotten ones excluded. */
  roomsOfUser(
    userId: string,
    memberships?: readonly string[],
  ): Promise<{ roomId: string; membership: string; eventId: string; streamOrdering: number }[]>;
  joinedRooms(userId: string): Promise<string[]>;
  /** User ids with `membership` (default join) in the room. */
  members(roomId: string, membership?: string): Promise<string[]>;
  joinedMemberCounts(roomIds: readonly string[]): Promise<Map<string, number>>;
  /** Every user who shares a joined room with `userId` (including them). */
  usersSharingRoomWith(userId: string): Promise<string[]>;
  roomVersion(roomId: string): Promise<string | undefined>;
  roomVersions(roomIds: readonly string[]): Promise<Map<string, string>>;
  /** Rooms known to this server with the visibility set at creation or by the directory. */
  listRooms(options?: { visibility?: 'public' | 'private' }): Promise<RoomSummaryRow[]>;
  setRoomVisibility(roomId: string, visibility: 'public' | 'private'): Promise<void>;
  /** Sends a state event as local user `userId` (auth rules apply; 403/404 as over HTTP). */
  sendStateEvent(
    userId: string,
    roomId: string,
    type: string,
    stateKey: string,
    content: JsonObject,
  ): Promise<{ eventId: string }>;
  /** Sends a message event as local user `userId`. */
  sendEvent(userId: string, roomId: string, type: string, content: JsonObject): Promise<{ eventId: string }>;
  /** One event in the client format, or undefined; no visibility check (callers check `canSee`). */
  getEvent(eventId: string): Promise<ClientEvent | undefined>;
  /** Which of `eventIds` (of one room) `userId` may see. */
  visibleEventIds(userId: string, roomId: string, eventIds: readonly string[]): Promise<Set<string>>;
  /** Joins `userId` to a room (id or alias), as POST /join does. */
  join(userId: string, roomIdOrAlias: string): Promise<string>;
  /** Makes `userId` leave every room they are joined, invited or knocking in. */
  leaveAllRooms(userId: string): Promise<void>;
  /** Plugins: the current state as (type, state_key) → content. */
  getRoomState(roomId: string): Promise<Map<StateKey, JsonObject>>;
  getJoinedRooms(userId: string): Promise<string[]>;

  /** The `m.room_versions` entry of GET /capabilities: the default version and each known one's stability. */
  roomVersionsCapability(): { default: string; available: Record<string, 'stable' | 'unstable'> };

  // ---- hooks ---------------------------------------------------------------------------------------
  /** The directory resolves `#alias:server` for /join and /knock. */
  setAliasResolver(resolver: AliasResolver): void;
  /** Called during createRoom after the power levels; may add alias state and publish the room. */
  onRoomCreated(hook: RoomCreatedHook): void;
  /** Called before anything of a createRoom is written (reject with a MatrixError). */
  addCreateRoomValidator(validator: RoomCreateValidator): void;
  /** Called before a local user's state event is built (reject with a MatrixError). */
  addStateEventValidator(validator: StateEventValidator): void;
  onRoomUpgraded(hook: RoomUpgradedHook): void;
  /** Where member events take displayname and avatar_url from (auth registers it). */
  setProfileLookup(lookup: ProfileLookup): void;
  /** Called after every persisted event, before it is announced on the notifier. */
  onEventPersisted(listener: (event: PersistedEvent) => Promise<void> | void): void;
  /**
   * Rows that must commit in the same transaction as each new event (push actions and unread counts): the
   * writer runs under the room lock before the transaction and returns the write to run inside it.
   */
  addEventWriter(writer: EventWriter): void;
}

export function persistedView(e: StoredEvent): PersistedEvent {
  return {
    eventId: e.eventId,
    roomId: e.roomId,
    type: e.type,
    stateKey: e.stateKey,
    sender: e.sender,
    streamOrdering: e.streamOrdering,
    content: e.pdu.content,
    membership: e.membership,
  };
}

export interface RoomsApiParts {
  readonly store: RoomStore;
  readonly sender: EventSender;
  readonly reader: RoomReader;
  readonly visibility: HistoryVisibility;
  readonly membership: MembershipService;
  readonly events: RoomEventsService;
  readonly upgrade: UpgradeService;
  readonly hooks: RoomHooks;
}

export class RoomsApiImpl implements RoomsApi {
  constructor(
    private readonly p: RoomsApiParts,
    private readonly defaultRoomVersion: string = DEFAULT_ROOM_VERSION,
  ) {}

  roomVersionsCapability(): { default: string; available: Record<string, 'stable' | 'unstable'> } {
    const available: Record<string, 'stable' | 'unstable'> = {};
    for (const v of ROOM_VERSIONS.values()) available[v.id] = v.stable ? 'stable' : 'unstable';
    return { default: this.defaultRoomVersion, available };
  }

  async currentStreamPosition(options?: { fresh?: boolean }): Promise<number> {
    return this.p.sender.streams.current(() => this.p.store.maxStreamOrdering(), options?.fresh);
  }

  timeline(
    userId: string,
    roomId: string,
    range: TimelineRange & WithPdu,
  ): Promise<TimelineSlice<EventWithPdu>>;
  timeline(userId: string, roomId: string, range: TimelineRange & WithoutPdu): Promise<TimelineSlice>;
  async timeline(
    userId: string,
    roomId: string,
    range: TimelineRange & (WithPdu | WithoutPdu),
  ): Promise<TimelineSlice | TimelineSlice<EventWithPdu>> {
    const limit = Math.max(1, range.limit);
    const picked: StoredEvent[] = [];
    let upTo = range.upTo;
    let limited = false;
    for (let rounds = 0; rounds < 20; rounds++) {
      const batch = await this.p.store.eventsInStreamRange([roomId], range.after, upTo, limit * 2);
      const kept = await this.p.visibility.filter(
        userId,
        roomId,
        batch.filter((e) => matchesFilter(e, range.filter)),
      );
      for (const e of kept) {
        if (picked.length >= limit) {
          limited = true;
          break;
        }
        picked.push(e);
      }
      const last = batch[batch.length - 1];
      if (limited || batch.length < limit * 2 || !last) break;
      upTo = last.streamOrdering - 1;
    }
    if (!limited && picked.length === limit) {
      const oldest = picked[picked.length - 1];
      if (oldest)
        limited =
          (await this.p.store.eventsInStreamRange([roomId], range.after, oldest.streamOrdering - 1, 1))
            .length > 0;
    }
    picked.reverse();
    const first = picked[0];
    const prevBatch = first
      ? formatTopoToken({ depth: first.depth, stream: first.streamOrdering - 1 })
      : `s${range.upTo}`;
    const viewer = { userId, deviceId: range.deviceId ?? null };
    return range.withPdu
      ? { events: await this.p.reader.formatWithPdu(picked, viewer), limited, prevBatch }
      : { events: await this.p.reader.format(picked, viewer), limited, prevBatch };
  }

  async roomsWithEvents(
    roomIds: readonly string[],
    after: number,
    upTo: number,
    scanLimit: number,
  ): Promise<Set<string>> {
    if (roomIds.length === 0 || after >= upTo) return new Set();
    const inWindow = await this.p.store.roomIdsInStreamRange(after, upTo, scanLimit);
    if (!inWindow) return new Set(roomIds);
    return new Set(roomIds.filter((id) => inWindow.has(id)));
  }

  async eventsInStreamRange(
    roomIds: readonly string[],
    after: number,
    upTo: number,
    limit: number,
  ): Promise<PersistedEvent[]> {
    return (await this.p.store.eventsInStreamRange(roomIds, after, upTo, limit)).map(persistedView);
  }

  private async stateMapAt(roomId: string, at: number): Promise<Map<StateKey, string>> {
    const pos = await this.p.store.topoPositionAtStream(roomId, at);
    const [event] = pos.stream === 0 ? [] : await this.p.store.roomEventsTopological(roomId, pos, 'b', 1);
    return event ? this.p.reader.stateAfter(event) : new Map();
  }

  /** State events by id, formatted with or without their federation format. */
  private async stateEvents(
    ids: readonly string[],
    options: WithPdu | WithoutPdu | undefined,
  ): Promise<ClientEvent[] | EventWithPdu[]> {
    const events = [...(await this.p.store.getEvents(ids)).values()];
    return options?.withPdu ? this.p.reader.formatWithPdu(events) : this.p.reader.format(events);
  }

  stateAt(roomId: string, at: number, options: WithPdu): Promise<EventWithPdu[]>;
  stateAt(roomId: string, at: number, options?: WithoutPdu): Promise<ClientEvent[]>;
  async stateAt(
    roomId: string,
    at: number,
    options?: WithPdu | WithoutPdu,
  ): Promise<ClientEvent[] | EventWithPdu[]> {
    return this.stateEvents([...(await this.stateMapAt(roomId, at)).values()], options);
  }

  stateDelta(roomId: string, from: number, to: number, options: WithPdu): Promise<EventWithPdu[]>;
  stateDelta(roomId: string, from: number, to: number, options?: WithoutPdu): Promise<ClientEvent[]>;
  async stateDelta(
    roomId: string,
    from: number,
    to: number,
    options?: WithPdu | WithoutPdu,
  ): Promise<ClientEvent[] | EventWithPdu[]> {
    const [before, after] = await Promise.all([this.stateMapAt(roomId, from), this.stateMapAt(roomId, to)]);
    const changed = [...after].filter(([k, id]) => before.get(k) !== id).map(([, id]) => id);
    return this.stateEvents(changed, options);
  }

  async currentState(roomId: string): Promise<ClientEvent[]> {
    return this.p.reader.format(await this.p.store.currentStateEvents(roomId));
  }

  async currentStateEvent(roomId: string, type: string, stateKey: string): Promise<ClientEvent | undefined> {
    const e = await this.p.store.currentStateEvent(roomId, type, stateKey);
    return e ? (await this.p.reader.format([e]))[0] : undefined;
  }

  private async changes(events: StoredEvent[]): Promise<MembershipChange[]> {
    const formatted = await this.p.reader.format(events);
    return events.map((e, i) => ({
      roomId: e.roomId,
      userId: e.stateKey ?? '',
      membership: e.membership ?? '',
      sender: e.sender,
      eventId: e.eventId,
      streamOrdering: e.streamOrdering,
      event: formatted[i] as ClientEvent,
    }));
  }

  async membershipChangesOfUser(userId: string, after: number, upTo: number): Promise<MembershipChange[]> {
    return this.changes(await this.p.store.membershipEventsOfUser(userId, after, upTo));
  }

  async membershipChangesInRooms(
    roomIds: readonly string[],
    after: number,
    upTo: number,
  ): Promise<MembershipChange[]> {
    return this.changes(await this.p.store.membershipEventsInRooms(roomIds, after, upTo));
  }

  async roomsOfUser(userId: string, memberships?: readonly string[]) {
    return (await this.p.store.roomsOfUser(userId, memberships))
      .filter((m) => !m.forgotten)
      .map((m) => ({
        roomId: m.roomId,
        membership: m.membership,
        eventId: m.eventId,
        streamOrdering: m.streamOrdering,
      }));
  }

  joinedRooms(userId: string): Promise<string[]> {
    return this.p.membership.joinedRooms(userId);
  }

  getJoinedRooms(userId: string): Promise<string[]> {
    return this.p.membership.joinedRooms(userId);
  }

  async members(roomId: string, membership = 'join'): Promise<string[]> {
    return (await this.p.store.membersOfRoom(roomId, [membership])).map((m) => m.userId);
  }

  joinedMemberCounts(roomIds: readonly string[]): Promise<Map<string, number>> {
    return this.p.store.countMembers(roomIds, 'join');
  }

  usersSharingRoomWith(userId: string): Promise<string[]> {
    return this.p.store.usersSharingRoomWith(userId);
  }

  async roomVersion(roomId: string): Promise<string | undefined> {
    return (await this.p.reader.heads.get(roomId))?.version.id;
  }

  async roomVersions(roomIds: readonly string[]): Promise<Map<string, string>> {
    const out = new Map<string, string>();
    for (const id of roomIds) {
      const v = await this.roomVersion(id);
      if (v) out.set(id, v);
    }
    return out;
  }

  async listRooms(options: { visibility?: 'public' | 'private' } = {}): Promise<RoomSummaryRow[]> {
    return (await this.p.store.listRooms(options)).map((r) => ({
      roomId: r.roomId,
      roomVersion: r.roomVersion,
      creator: r.creator,
      visibility: r.visibility,
      createdTs: r.createdTs,
    }));
  }

  async setRoomVisibility(roomId: string, visibility: 'public' | 'private'): Promise<void> {
    if (!(await this.p.store.getRoom(roomId)))
      throw new MatrixError(404, 'M_NOT_FOUND', `Unknown room ${roomId}`);
    await this.p.store.setVisibility(roomId, visibility);
  }

  async sendStateEvent(
    userId: string,
    roomId: string,
    type: string,
    stateKey: string,
    content: JsonObject,
  ): Promise<{ eventId: string }> {
    const sent = await this.p.events.sendState({ userId }, roomId, type, stateKey, content);
    return { eventId: sent.eventId };
  }

  async sendEvent(
    userId: string,
    roomId: string,
    type: string,
    content: JsonObject,
  ): Promise<{ eventId: string }> {
    await this.p.reader.head(roomId);
    const sent = await this.p.sender.send({ roomId, sender: userId, type, content });
    return { eventId: sent.eventId };
  }

  async getEvent(eventId: string): Promise<ClientEvent | undefined> {
    const e = await this.p.store.getEvent(eventId);
    return e ? (await this.p.reader.format([e]))[0] : undefined;
  }

  async visibleEventIds(userId: string, roomId: string, eventIds: readonly string[]): Promise<Set<string>> {
    const events = [...(await this.p.store.getEvents(eventIds)).values()].filter((e) => e.roomId === roomId);
    return new Set((await this.p.visibility.filter(userId, roomId, events)).map((e) => e.eventId));
  }

  join(userId: string, roomIdOrAlias: string): Promise<string> {
    return this.p.membership.join({ userId }, roomIdOrAlias);
  }

  async leaveAllRooms(userId: string): Promise<void> {
    for (const m of await this.p.store.roomsOfUser(userId, ['join', 'invite', 'knock'])) {
      await this.p.membership.leave({ userId }, m.roomId).catch(() => undefined);
    }
  }

  async getRoomState(roomId: string): Promise<Map<StateKey, JsonObject>> {
    const out = new Map<StateKey, JsonObject>();
    for (const e of await this.p.store.currentStateEvents(roomId))
      out.set(`${e.type}\u0000${e.stateKey ?? ''}`, e.pdu.content);
    return out;
  }

  setAliasResolver(resolver: AliasResolver): void {
    this.p.hooks.aliasResolver = resolver;
  }

  onRoomCreated(hook: RoomCreatedHook): void {
    this.p.hooks.roomCreated.push(hook);
  }

  addCreateRoomValidator(validator: RoomCreateValidator): void {
    this.p.hooks.createValidators.push(validator);
  }

  addStateEventValidator(validator: StateEventValidator): void {
    this.p.hooks.stateValidators.push(validator);
  }

  onRoomUpgraded(hook: RoomUpgradedHook): void {
    this.p.upgrade.upgradedHooks.push(hook);
  }

  setProfileLookup(lookup: ProfileLookup): void {
    this.p.hooks.profileLookup = lookup;
  }

  onEventPersisted(listener: (event: PersistedEvent) => Promise<void> | void): void {
    const wrapped: PersistedListener = (e) => listener(persistedView(e));
    this.p.sender.onPersisted(wrapped);
  }

  addEventWriter(writer: EventWriter): void {
    this.p.sender.addWriter(writer);
  }
}

/** `(type, state_key)` of a plugin-facing state key. */
export const splitRoomStateKey = splitStateKey;
