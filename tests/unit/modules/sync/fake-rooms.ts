/**
 * An in-memory `SyncRoomsSource`: rooms are lists of events with stream positions; state is replayed. It lets
 * the sync service be tested on every room shape (gaps, leaves, rejoins) without the rooms module.
 */
import type { JsonObject } from '../../../../core/protocol/pdu.js';
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
  TimelineSlice,
} from '../../../../modules/sync/services/rooms-source.js';

export class FakeRooms implements SyncRoomsSource {
  stream = 0;
  readonly events: (ClientEventJson & { stream: number })[] = [];

  send(
    roomId: string,
    sender: string,
    type: string,
    content: JsonObject,
    stateKey?: string,
  ): ClientEventJson {
    const stream = ++this.stream;
    const unsigned: Record<string, unknown> = {};
    if (stateKey !== undefined) {
      const prev = this.stateMap(roomId, stream - 1).get(`${type}\u0000${stateKey}`);
      if (prev) unsigned['prev_content'] = prev.content;
    }
    const event = {
      event_id: `$${stream}`,
      room_id: roomId,
      type,
      sender,
      content,
      origin_server_ts: 1000 + stream,
      unsigned,
      stream,
      ...(stateKey !== undefined ? { state_key: stateKey } : {}),
    };
    this.events.push(event);
    return event;
  }

  member(roomId: string, userId: string, membership: Membership, sender = userId): ClientEventJson {
    return this.send(roomId, sender, 'm.room.member', { membership }, userId);
  }

  /** A room created by `creator` with a name, joined by the others. */
  createRoom(roomId: string, creator: string, others: string[] = []): void {
    this.send(roomId, creator, 'm.room.create', { creator }, '');
    this.member(roomId, creator, 'join');
    for (const u of others) this.member(roomId, u, 'join');
  }

  message(roomId: string, sender: string, body: string, extra: JsonObject = {}): ClientEventJson {
    return this.send(roomId, sender, 'm.room.message', { msgtype: 'm.text', body, ...extra });
  }

  private stateMap(roomId: string, at: number): Map<string, ClientEventJson & { stream: number }> {
    const out = new Map<string, ClientEventJson & { stream: number }>();
    for (const e of this.events) {
      if (e.room_id !== roomId || e.stream > at || e.state_key === undefined) continue;
      out.set(`${e.type}\u0000${e.state_key}`, e);
    }
    return out;
  }

  /** The event as sync reads it; with its PDU only when asked for, as the real source does. */
  private clean(e: ClientEventJson & { stream: number }, format?: EventFormatOption): SyncRoomEvent {
    const { stream: _stream, ...event } = e;
    if (!format?.federationFormat) return { event };
    const pdu = {
      ...event,
      depth: e.stream,
      prev_events: [],
      auth_events: [],
      hashes: { sha256: 'x' },
      signatures: {},
      unsigned: (event.unsigned ?? {}) as JsonObject,
    };
    return { event, pdu };
  }

  async currentPosition(): Promise<number> {
    return this.stream;
  }

  async membershipsAt(userId: string, at: number): Promise<MembershipAt[]> {
    const rooms = new Map<string, MembershipAt>();
    for (const e of this.events) {
      if (e.stream > at || e.type !== 'm.room.member' || e.state_key !== userId) continue;
      rooms.set(e.room_id, this.membershipOf(e));
    }
    return [...rooms.values()];
  }

  private membershipOf(e: ClientEventJson & { stream: number }): MembershipAt {
    const prev = (e.unsigned?.['prev_content'] as JsonObject | undefined)?.['membership'] as
      Membership | undefined;
    return {
      roomId: e.room_id,
      membership: e.content['membership'] as Membership,
      eventId: e.event_id,
      stream: e.stream,
      sender: e.sender,
      ...(prev ? { prevMembership: prev } : {}),
    };
  }

  async membershipChanges(userId: string, from: number, to: number): Promise<MembershipAt[]> {
    return this.events
      .filter(
        (e) => e.stream > from && e.stream <= to && e.type === 'm.room.member' && e.state_key === userId,
      )
      .map((e) => this.membershipOf(e));
  }

  async roomsWithEvents(roomIds: readonly string[], from: number, to: number): Promise<Set<string>> {
    return new Set(
      this.events
        .filter((e) => e.stream > from && e.stream <= to && roomIds.includes(e.room_id))
        .map((e) => e.room_id),
    );
  }

  async timeline(
    roomId: string,
    range: EventFormatOption & { from: number; to: number; limit: number; filter?: TimelineFilter },
  ): Promise<TimelineSlice> {
    const f = range.filter;
    const all = this.events.filter(
      (e) =>
        e.room_id === roomId &&
        e.stream > range.from &&
        e.stream <= range.to &&
        (!f?.types || f.types.includes(e.type)) &&
        (!f?.not_types || !f.not_types.includes(e.type)) &&
        (!f?.senders || f.senders.includes(e.sender)) &&
        (!f?.not_senders || !f.not_senders.includes(e.sender)) &&
        (f?.contains_url === undefined || (typeof e.content['url'] === 'string') === f.contains_url),
    );
    const picked = all.slice(Math.max(0, all.length - range.limit));
    const first = picked[0];
    const start = first ? first.stream - 1 : range.to;
    return {
      events: picked.map((e) => this.clean(e, range)),
      limited: all.length > picked.length,
      prevBatch: `s${start}`,
      start,
    };
  }

  async stateAt(roomId: string, at: number, format?: EventFormatOption): Promise<SyncRoomEvent[]> {
    return [...this.stateMap(roomId, at).values()].map((e) => this.clean(e, format));
  }

  async stateDelta(
    roomId: string,
    from: number,
    to: number,
    format?: EventFormatOption,
  ): Promise<SyncRoomEvent[]> {
    const before = this.stateMap(roomId, from);
    return [...this.stateMap(roomId, to).entries()]
      .filter(([k, e]) => before.get(k)?.event_id !== e.event_id)
      .map(([, e]) => this.clean(e, format));
  }

  /** The fake has no forks: the timeline always carries every change. */
  async resolvedStateDelta(): Promise<SyncRoomEvent[]> {
    return [];
  }

  async strippedState(roomId: string, eventId: string): Promise<StrippedStateEvent[]> {
    const member = this.events.find((e) => e.event_id === eventId);
    const state = [...this.stateMap(roomId, member?.stream ?? this.stream).values()].filter(
      (e) =>
        ['m.room.create', 'm.room.name', 'm.room.member'].includes(e.type) &&
        (e.type !== 'm.room.member' || e.event_id === eventId),
    );
    return state.map((e) => ({
      type: e.type,
      state_key: e.state_key ?? '',
      sender: e.sender,
      content: e.content,
    }));
  }

  async relatedBy(eventIds: readonly string[], match: RelationMatch): Promise<Set<string>> {
    const out = new Set<string>();
    for (const e of this.events) {
      const rel = e.content['m.relates_to'] as { event_id?: string; rel_type?: string } | undefined;
      if (!rel?.event_id || !rel.rel_type || !eventIds.includes(rel.event_id)) continue;
      if (match.senders && !match.senders.includes(e.sender)) continue;
      if (match.relTypes && !match.relTypes.includes(rel.rel_type)) continue;
      out.add(rel.event_id);
    }
    return out;
  }

  async members(roomId: string): Promise<{ joined: string[]; invited: string[] }> {
    const state = [...this.stateMap(roomId, this.stream).values()].filter((e) => e.type === 'm.room.member');
    return {
      joined: state.filter((e) => e.content['membership'] === 'join').map((e) => e.state_key ?? ''),
      invited: state.filter((e) => e.content['membership'] === 'invite').map((e) => e.state_key ?? ''),
    };
  }
}
