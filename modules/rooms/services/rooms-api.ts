/**
 * `RoomsApi` (api.ts), registered as `roomsApi`: what other modules call, over the rooms services and
 * stores. No behaviour of its own beyond shaping results for its callers.
 */
import type { Cradle } from '../../../core/container.js';
import { MatrixError } from '../../../core/errors.js';
import { ROOM_VERSIONS } from '../../../core/protocol/room-versions.js';
import type { JsonObject, StateKey } from '../../../core/protocol/pdu.js';
import type {
  MembershipChange,
  RoomsApi,
  RoomSummaryRow,
  TimelineRange,
  TimelineSlice,
  WithoutPdu,
  WithPdu,
} from '../api.js';
import type { StoredEvent } from '../store/event-rows.js';
import type { EventStore } from '../store/event-store.js';
import type { MembershipStore } from '../store/membership-store.js';
import type { RoomStore } from '../store/room-store.js';
import type { StateStore } from '../store/state-store.js';
import type { RelationStore } from '../store/relation-store.js';
import type { TimelineStore } from '../store/timeline-store.js';
import type { ClientEvent, EventWithPdu } from './client-events.js';
import type { EventSender } from './event-sender.js';
import type { HistoryVisibility } from './history-visibility.js';
import { persistedView, type PersistedEvent } from './hooks.js';
import type { MembershipService } from './membership-service.js';
import type { RoomEventsService } from './room-events-service.js';
import type { RoomHeads } from './room-heads.js';
import type { RoomReader } from './room-reader.js';
import type { StreamTracker } from './stream-tracker.js';
import { attachBundles, type RelationsBundler } from './relations-bundler.js';
import { filterByRelations, matchesFilter } from './timeline-service.js';
import { formatTopoToken } from './tokens.js';

export class RoomsApiImpl implements RoomsApi {
  private readonly roomStore: RoomStore;
  private readonly eventStore: EventStore;
  private readonly timelineStore: TimelineStore;
  private readonly relationStore: RelationStore;
  private readonly stateStore: StateStore;
  private readonly membershipStore: MembershipStore;
  private readonly heads: RoomHeads;
  private readonly streams: StreamTracker;
  private readonly sender: EventSender;
  private readonly reader: RoomReader;
  private readonly relations: RelationsBundler;
  private readonly visibility: HistoryVisibility;
  private readonly membership: MembershipService;
  private readonly events: RoomEventsService;
  private readonly defaultRoomVersion: string;

  constructor({
    roomsRoomStore,
    roomsEventStore,
    roomsTimelineStore,
    roomsRelationStore,
    roomsStateStore,
    roomsMembershipStore,
    roomsHeads,
    roomsStreams,
    roomsSender,
    roomsReader,
    roomsRelations,
    roomsVisibility,
    roomsMembership,
    roomsEvents,
    roomsConfig,
  }: Pick<
    Cradle,
    | 'roomsRoomStore'
    | 'roomsEventStore'
    | 'roomsTimelineStore'
    | 'roomsRelationStore'
    | 'roomsStateStore'
    | 'roomsMembershipStore'
    | 'roomsHeads'
    | 'roomsStreams'
    | 'roomsSender'
    | 'roomsReader'
    | 'roomsRelations'
    | 'roomsVisibility'
    | 'roomsMembership'
    | 'roomsEvents'
    | 'roomsConfig'
  >) {
    this.roomStore = roomsRoomStore;
    this.eventStore = roomsEventStore;
    this.timelineStore = roomsTimelineStore;
    this.relationStore = roomsRelationStore;
    this.stateStore = roomsStateStore;
    this.membershipStore = roomsMembershipStore;
    this.heads = roomsHeads;
    this.streams = roomsStreams;
    this.sender = roomsSender;
    this.reader = roomsReader;
    this.relations = roomsRelations;
    this.visibility = roomsVisibility;
    this.membership = roomsMembership;
    this.events = roomsEvents;
    this.defaultRoomVersion = roomsConfig.default_room_version;
  }

  roomVersionsCapability(): { default: string; available: Record<string, 'stable' | 'unstable'> } {
    const available: Record<string, 'stable' | 'unstable'> = {};
    for (const v of ROOM_VERSIONS.values()) available[v.id] = v.stable ? 'stable' : 'unstable';
    return { default: this.defaultRoomVersion, available };
  }

  async currentStreamPosition(options?: { fresh?: boolean }): Promise<number> {
    return this.streams.current(() => this.eventStore.maxStreamOrdering(), options?.fresh);
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
      const batch = await this.timelineStore.eventsInStreamRange([roomId], range.after, upTo, limit * 2);
      const kept = await this.visibility.filter(
        userId,
        roomId,
        await filterByRelations(
          this.relationStore,
          batch.filter((e) => matchesFilter(e, range.filter)),
          range.filter,
        ),
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
          (await this.timelineStore.eventsInStreamRange([roomId], range.after, oldest.streamOrdering - 1, 1))
            .length > 0;
    }
    picked.reverse();
    const first = picked[0];
    const prevBatch = first
      ? formatTopoToken({ depth: first.depth, stream: first.streamOrdering - 1 })
      : `s${range.upTo}`;
    const viewer = { userId, deviceId: range.deviceId ?? null };
    const bundles = await this.relations.aggregations(picked, viewer, { ignored: range.ignored });
    if (range.withPdu) {
      const events = await this.reader.formatWithPdu(picked, viewer);
      attachBundles(
        picked,
        events.map((e) => e.event),
        bundles,
      );
      attachBundles(
        picked,
        events.map((e) => e.pdu),
        bundles,
      );
      return { events, limited, prevBatch };
    }
    return {
      events: attachBundles(picked, await this.reader.format(picked, viewer), bundles),
      limited,
      prevBatch,
    };
  }

  async roomsWithEvents(
    roomIds: readonly string[],
    after: number,
    upTo: number,
    scanLimit: number,
  ): Promise<Set<string>> {
    if (roomIds.length === 0 || after >= upTo) return new Set();
    const inWindow = await this.timelineStore.roomIdsInStreamRange(after, upTo, scanLimit);
    if (!inWindow) return new Set(roomIds);
    return new Set(roomIds.filter((id) => inWindow.has(id)));
  }

  async eventsInStreamRange(
    roomIds: readonly string[],
    after: number,
    upTo: number,
    limit: number,
  ): Promise<PersistedEvent[]> {
    return (await this.timelineStore.eventsInStreamRange(roomIds, after, upTo, limit)).map(persistedView);
  }

  /**
   * The room's current state as of stream position `at`: the group its current-state history names (exact
   * where forks met and state resolution chose), else — a room written before that history existed — the
   * state after the topologically newest event at or before `at`.
   */
  private async stateMapAt(roomId: string, at: number): Promise<Map<StateKey, string>> {
    const group = await this.stateStore.currentStateGroupAt(roomId, at);
    if (group !== undefined) return this.stateStore.stateOfGroup(group);
    const pos = await this.timelineStore.topoPositionAtStream(roomId, at);
    const [event] =
      pos.stream === 0 ? [] : await this.timelineStore.roomEventsTopological(roomId, pos, 'b', 1);
    if (event) return this.reader.stateAfter(event);
    // Nothing of the timeline yet: the state before its first event (a room joined over federation starts
    // with the join, on the state the resident gave; a room created here with an empty state).
    const [first] = await this.timelineStore.roomEventsTopological(roomId, pos, 'f', 1);
    return first ? this.reader.stateBefore(first) : new Map();
  }

  /** State events by id, formatted with or without their federation format. */
  private async stateEvents(
    ids: readonly string[],
    options: WithPdu | WithoutPdu | undefined,
  ): Promise<ClientEvent[] | EventWithPdu[]> {
    const events = [...(await this.eventStore.getEvents(ids)).values()];
    return options?.withPdu ? this.reader.formatWithPdu(events) : this.reader.format(events);
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

  resolvedStateDelta(roomId: string, from: number, to: number, options: WithPdu): Promise<EventWithPdu[]>;
  resolvedStateDelta(roomId: string, from: number, to: number, options?: WithoutPdu): Promise<ClientEvent[]>;
  async resolvedStateDelta(
    roomId: string,
    from: number,
    to: number,
    options?: WithPdu | WithoutPdu,
  ): Promise<ClientEvent[] | EventWithPdu[]> {
    if (!(await this.stateStore.resolvedBetween(roomId, from, to))) return [];
    const [before, after, set] = await Promise.all([
      this.stateMapAt(roomId, from),
      this.stateMapAt(roomId, to),
      this.stateStore.stateKeysSetBetween(roomId, from, to),
    ]);
    // Keys an event in the range set are included too: resolution may have overruled that event.
    const changed = [...after].filter(([k, id]) => before.get(k) !== id || set.has(k)).map(([, id]) => id);
    return this.stateEvents(changed, options);
  }

  eventsRelatedBy(
    eventIds: readonly string[],
    match: { senders?: readonly string[]; relTypes?: readonly string[] },
  ): Promise<Set<string>> {
    return this.relationStore.relatedBy(eventIds, match);
  }

  async currentState(roomId: string): Promise<ClientEvent[]> {
    return this.reader.format(await this.stateStore.currentStateEvents(roomId));
  }

  async currentStateEvent(roomId: string, type: string, stateKey: string): Promise<ClientEvent | undefined> {
    const e = await this.stateStore.currentStateEvent(roomId, type, stateKey);
    return e ? (await this.reader.format([e]))[0] : undefined;
  }

  private async changes(events: StoredEvent[]): Promise<MembershipChange[]> {
    const formatted = await this.reader.format(events);
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
    return this.changes(await this.timelineStore.membershipEventsOfUser(userId, after, upTo));
  }

  async membershipChangesInRooms(
    roomIds: readonly string[],
    after: number,
    upTo: number,
  ): Promise<MembershipChange[]> {
    return this.changes(await this.timelineStore.membershipEventsInRooms(roomIds, after, upTo));
  }

  async roomsOfUser(userId: string, memberships?: readonly string[]) {
    return (await this.membershipStore.roomsOfUser(userId, memberships))
      .filter((m) => !m.forgotten)
      .map((m) => ({
        roomId: m.roomId,
        membership: m.membership,
        eventId: m.eventId,
        streamOrdering: m.streamOrdering,
      }));
  }

  joinedRooms(userId: string): Promise<string[]> {
    return this.membership.joinedRooms(userId);
  }

  getJoinedRooms(userId: string): Promise<string[]> {
    return this.membership.joinedRooms(userId);
  }

  async members(roomId: string, membership = 'join'): Promise<string[]> {
    return (await this.membershipStore.membersOfRoom(roomId, [membership])).map((m) => m.userId);
  }

  joinedMemberCounts(roomIds: readonly string[]): Promise<Map<string, number>> {
    return this.membershipStore.countMembers(roomIds, 'join');
  }

  usersSharingRoomWith(userId: string): Promise<string[]> {
    return this.membershipStore.usersSharingRoomWith(userId);
  }

  async roomVersion(roomId: string): Promise<string | undefined> {
    return (await this.heads.get(roomId))?.version.id;
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
    return (await this.roomStore.listRooms(options)).map((r) => ({
      roomId: r.roomId,
      roomVersion: r.roomVersion,
      creator: r.creator,
      visibility: r.visibility,
      createdTs: r.createdTs,
    }));
  }

  async setRoomVisibility(roomId: string, visibility: 'public' | 'private'): Promise<void> {
    if (!(await this.roomStore.getRoom(roomId)))
      throw new MatrixError(404, 'M_NOT_FOUND', `Unknown room ${roomId}`);
    await this.roomStore.setVisibility(roomId, visibility);
  }

  async sendStateEvent(
    userId: string,
    roomId: string,
    type: string,
    stateKey: string,
    content: JsonObject,
  ): Promise<{ eventId: string }> {
    const sent = await this.events.sendState({ userId }, roomId, type, stateKey, content);
    return { eventId: sent.eventId };
  }

  async sendEvent(
    userId: string,
    roomId: string,
    type: string,
    content: JsonObject,
  ): Promise<{ eventId: string }> {
    await this.reader.head(roomId);
    const sent = await this.sender.send({ roomId, sender: userId, type, content });
    return { eventId: sent.eventId };
  }

  async getEvent(eventId: string): Promise<ClientEvent | undefined> {
    const e = await this.eventStore.getEvent(eventId);
    return e ? (await this.reader.format([e]))[0] : undefined;
  }

  async clientEventsFor(userId: string, eventIds: readonly string[]): Promise<Map<string, ClientEvent>> {
    const events = [...(await this.eventStore.getEvents(eventIds)).values()];
    const formatted = await this.relations.format(events, { userId });
    return new Map(formatted.map((e) => [e.event_id, e]));
  }

  async visibleEventIds(userId: string, roomId: string, eventIds: readonly string[]): Promise<Set<string>> {
    const events = [...(await this.eventStore.getEvents(eventIds)).values()].filter(
      (e) => e.roomId === roomId,
    );
    return new Set((await this.visibility.filter(userId, roomId, events)).map((e) => e.eventId));
  }

  join(userId: string, roomIdOrAlias: string): Promise<string> {
    return this.membership.join({ userId }, roomIdOrAlias);
  }

  async leaveAllRooms(userId: string): Promise<void> {
    for (const m of await this.membershipStore.roomsOfUser(userId, ['join', 'invite', 'knock'])) {
      await this.membership.leave({ userId }, m.roomId).catch(() => undefined);
    }
  }

  async getRoomState(roomId: string): Promise<Map<StateKey, JsonObject>> {
    const out = new Map<StateKey, JsonObject>();
    for (const e of await this.stateStore.currentStateEvents(roomId))
      out.set(`${e.type}\u0000${e.stateKey ?? ''}`, e.pdu.content);
    return out;
  }
}
