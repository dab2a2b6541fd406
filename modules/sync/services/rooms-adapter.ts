/**
 * `SyncRoomsSource` over the rooms module's public API (`roomsApi`, modules/rooms/api.ts) and nothing else.
 */
import type { JsonObject, PduJson } from '../../../core/protocol/pdu.js';
import type {
  ClientEventJson,
  EventFormatOption,
  Membership,
  MembershipAt,
  RelationMatch,
  StrippedStateEvent,
  SyncRoomEvent,
  SyncRoomsSource,
  TimelineFilter,
  TimelineRequest,
  TimelineSlice,
} from './rooms-source.js';

interface TimelineRange {
  after: number;
  upTo: number;
  limit: number;
  deviceId?: string | null;
  filter?: TimelineFilter;
  ignored?: ReadonlySet<string>;
}

interface Slice<E> {
  events: E[];
  limited: boolean;
  prevBatch: string;
}

/** A client event with its federation format (`RoomsApi` reads with `withPdu: true`). */
interface EventWithPdu {
  event: ClientEventJson;
  pdu: Readonly<PduJson>;
}

/** The part of `RoomsApi` sync calls (structural, so this file compiles against any compatible rooms api). */
export interface RoomsApiForSync {
  currentStreamPosition(options?: { fresh?: boolean }): Promise<number>;
  timeline(
    userId: string,
    roomId: string,
    range: TimelineRange & { withPdu: true },
  ): Promise<Slice<EventWithPdu>>;
  timeline(userId: string, roomId: string, range: TimelineRange): Promise<Slice<ClientEventJson>>;
  roomsWithEvents(
    roomIds: readonly string[],
    after: number,
    upTo: number,
    scanLimit: number,
  ): Promise<Set<string>>;
  stateAt(roomId: string, at: number, options: { withPdu: true }): Promise<EventWithPdu[]>;
  stateAt(roomId: string, at: number): Promise<ClientEventJson[]>;
  stateDelta(roomId: string, from: number, to: number, options: { withPdu: true }): Promise<EventWithPdu[]>;
  stateDelta(roomId: string, from: number, to: number): Promise<ClientEventJson[]>;
  resolvedStateDelta(
    roomId: string,
    from: number,
    to: number,
    options: { withPdu: true },
  ): Promise<EventWithPdu[]>;
  resolvedStateDelta(roomId: string, from: number, to: number): Promise<ClientEventJson[]>;
  membershipChangesOfUser(
    userId: string,
    after: number,
    upTo: number,
  ): Promise<
    {
      roomId: string;
      membership: string;
      sender: string;
      eventId: string;
      streamOrdering: number;
      event: ClientEventJson;
    }[]
  >;
  roomsOfUser(
    userId: string,
    memberships?: readonly string[],
  ): Promise<{ roomId: string; membership: string; eventId: string; streamOrdering: number }[]>;
  members(roomId: string, membership?: string): Promise<string[]>;
  getEvent(eventId: string): Promise<ClientEventJson | undefined>;
  eventsRelatedBy(eventIds: readonly string[], match: RelationMatch): Promise<Set<string>>;
}

/** How many events one range read may return before sync stops asking which rooms they belong to. */
const ROOMS_WITH_EVENTS_SCAN = 2000;

/** State types shown with an invite (spec "Stripped state": the recommended set). */
const STRIPPED_TYPES = new Set([
  'm.room.create',
  'm.room.name',
  'm.room.avatar',
  'm.room.topic',
  'm.room.join_rules',
  'm.room.canonical_alias',
  'm.room.encryption',
]);

const MEMBERSHIPS = new Set<string>(['join', 'invite', 'knock', 'leave', 'ban']);

function asMembership(value: unknown): Membership | undefined {
  return typeof value === 'string' && MEMBERSHIPS.has(value) ? (value as Membership) : undefined;
}

const wrap = (event: ClientEventJson): SyncRoomEvent => ({ event });
const wrapSlice = (slice: Slice<ClientEventJson>): Slice<SyncRoomEvent> => ({
  ...slice,
  events: slice.events.map(wrap),
});

export class RoomsApiSyncSource implements SyncRoomsSource {
  constructor(private readonly api: () => RoomsApiForSync) {}

  currentPosition(options?: { fresh?: boolean }): Promise<number> {
    return this.api().currentStreamPosition(options);
  }

  /**
   * Current memberships, with any that changed after `at` rolled back to what they were at `at` (so a sync
   * whose positions were read just before a membership change stays consistent).
   */
  async membershipsAt(userId: string, at: number): Promise<MembershipAt[]> {
    const rows = await this.api().roomsOfUser(userId);
    const out: MembershipAt[] = [];
    const late = rows.filter((r) => r.streamOrdering > at);
    const history = late.length > 0 ? await this.membershipChanges(userId, 0, at) : ([] as MembershipAt[]);
    const lastAt = new Map<string, MembershipAt>();
    for (const h of history) lastAt.set(h.roomId, h);
    for (const r of rows) {
      if (r.streamOrdering > at) {
        const before = lastAt.get(r.roomId);
        if (before) out.push(before);
        continue;
      }
      const membership = asMembership(r.membership);
      if (!membership) continue;
      out.push({ roomId: r.roomId, membership, eventId: r.eventId, stream: r.streamOrdering, sender: '' });
    }
    if (out.some((m) => m.membership === 'invite' || m.membership === 'knock')) {
      await Promise.all(
        out.map(async (m, i) => {
          if (m.membership !== 'invite' && m.membership !== 'knock') return;
          const event = await this.api().getEvent(m.eventId);
          if (event) out[i] = { ...m, sender: event.sender };
        }),
      );
    }
    return out;
  }

  async membershipChanges(userId: string, from: number, to: number): Promise<MembershipAt[]> {
    const changes = await this.api().membershipChangesOfUser(userId, from, to);
    const out: MembershipAt[] = [];
    for (const c of changes) {
      const membership = asMembership(c.membership);
      if (!membership) continue;
      const prev = (c.event.unsigned?.['prev_content'] as JsonObject | undefined)?.['membership'];
      const prevMembership = asMembership(prev);
      out.push({
        roomId: c.roomId,
        membership,
        eventId: c.eventId,
        stream: c.streamOrdering,
        sender: c.sender,
        ...(prevMembership ? { prevMembership } : {}),
      });
    }
    return out;
  }

  async roomsWithEvents(roomIds: readonly string[], from: number, to: number): Promise<Set<string>> {
    // A huge window counts as news for every room; the per-room timeline reads will tell.
    return this.api().roomsWithEvents(roomIds, from, to, ROOMS_WITH_EVENTS_SCAN);
  }

  async timeline(roomId: string, range: TimelineRequest): Promise<TimelineSlice> {
    const userId = range.viewer.userId;
    const read: TimelineRange = {
      after: range.from,
      upTo: range.to,
      limit: range.limit,
      deviceId: range.viewer.deviceId,
      filter: range.filter,
      ignored: range.ignored,
    };
    const slice: Slice<SyncRoomEvent> = range.federationFormat
      ? await this.api().timeline(userId, roomId, { ...read, withPdu: true })
      : wrapSlice(await this.api().timeline(userId, roomId, read));
    return {
      events: slice.events,
      limited: slice.limited,
      prevBatch: slice.prevBatch,
      start: streamBefore(slice.prevBatch, range.to),
    };
  }

  async stateAt(roomId: string, at: number, options?: EventFormatOption): Promise<SyncRoomEvent[]> {
    return options?.federationFormat
      ? this.api().stateAt(roomId, at, { withPdu: true })
      : (await this.api().stateAt(roomId, at)).map(wrap);
  }

  async stateDelta(
    roomId: string,
    from: number,
    to: number,
    options?: EventFormatOption,
  ): Promise<SyncRoomEvent[]> {
    return options?.federationFormat
      ? this.api().stateDelta(roomId, from, to, { withPdu: true })
      : (await this.api().stateDelta(roomId, from, to)).map(wrap);
  }

  async resolvedStateDelta(
    roomId: string,
    from: number,
    to: number,
    options?: EventFormatOption,
  ): Promise<SyncRoomEvent[]> {
    return options?.federationFormat
      ? this.api().resolvedStateDelta(roomId, from, to, { withPdu: true })
      : (await this.api().resolvedStateDelta(roomId, from, to)).map(wrap);
  }

  /**
   * The invite's own `unsigned.invite_room_state` (an invite from another server carries it) or, for a room
   * this server knows, the recommended state types at the invite, plus the stripped membership event.
   */
  async strippedState(roomId: string, membershipEventId: string): Promise<StrippedStateEvent[]> {
    const member = await this.api().getEvent(membershipEventId);
    if (!member) return [];
    const own = strip(member);
    const carried = member.unsigned?.['invite_room_state'] ?? member.unsigned?.['knock_room_state'];
    if (Array.isArray(carried)) return [...(carried as StrippedStateEvent[]), own];
    const rows = await this.api().roomsOfUser(member.state_key ?? '');
    const at = rows.find((r) => r.eventId === membershipEventId)?.streamOrdering ?? Number.MAX_SAFE_INTEGER;
    const state = await this.api().stateAt(roomId, at);
    return [...state.filter((e) => STRIPPED_TYPES.has(e.type)).map(strip), own];
  }

  relatedBy(eventIds: readonly string[], match: RelationMatch): Promise<Set<string>> {
    return eventIds.length === 0 ? Promise.resolve(new Set()) : this.api().eventsRelatedBy(eventIds, match);
  }

  async members(roomId: string): Promise<{ joined: string[]; invited: string[] }> {
    const [joined, invited] = await Promise.all([
      this.api().members(roomId, 'join'),
      this.api().members(roomId, 'invite'),
    ]);
    return { joined, invited };
  }
}

function strip(e: ClientEventJson): StrippedStateEvent {
  return { type: e.type, state_key: e.state_key ?? '', sender: e.sender, content: e.content };
}

/** The stream position a rooms pagination token (`t<depth>-<stream>` or `s<stream>`) stands just after. */
function streamBefore(token: string, fallback: number): number {
  const m = /^t-?\d+-(\d+)$/.exec(token) ?? /^s(\d+)/.exec(token);
  return m?.[1] ? Number(m[1]) : fallback;
}

/** A source with no rooms at all, for a server running sync without the rooms module. */
export const noRooms: SyncRoomsSource = {
  currentPosition: async () => 0,
  membershipsAt: async () => [],
  membershipChanges: async () => [],
  roomsWithEvents: async () => new Set(),
  timeline: async (_roomId, range) => ({
    events: [],
    limited: false,
    prevBatch: `s${range.to}`,
    start: range.to,
  }),
  stateAt: async () => [],
  stateDelta: async () => [],
  resolvedStateDelta: async () => [],
  strippedState: async () => [],
  relatedBy: async () => new Set(),
  members: async () => ({ joined: [], invited: [] }),
};
