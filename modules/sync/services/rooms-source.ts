/**
 * What sync needs from the rooms module, as one narrow port. `rooms-adapter.ts` implements it through
 * `roomsApi` (modules/rooms/api.ts) only; unit tests implement it in memory.
 */
import type { JsonObject, PduJson } from '../../../core/protocol/pdu.js';

/** An event in client format (spec ClientEvent) with `room_id`. */
export interface ClientEventJson {
  readonly event_id: string;
  readonly room_id: string;
  readonly type: string;
  readonly sender: string;
  readonly state_key?: string;
  readonly content: JsonObject;
  readonly origin_server_ts: number;
  readonly unsigned?: Readonly<Record<string, unknown>>;
  readonly redacts?: string;
}

/**
 * A room event as sync handles it: client format, and when asked for (`federationFormat`, the filter's
 * `event_format: "federation"`) the federation format too: the PDU with `event_id` and the server's `unsigned`.
 */
export interface SyncRoomEvent {
  readonly event: ClientEventJson;
  readonly pdu?: Readonly<PduJson>;
}

/** Whether the events read should carry their federation format (`SyncRoomEvent.pdu`). */
export interface EventFormatOption {
  readonly federationFormat?: boolean;
}

/** A timeline slice: oldest first, `limited` when more events fell in the range. */
export interface TimelineSlice {
  readonly events: SyncRoomEvent[];
  readonly limited: boolean;
  /** A /messages `from` token just before the first event. */
  readonly prevBatch: string;
  /** The stream position just before the first event (the state before the timeline is the state here). */
  readonly start: number;
}

/** The RoomEventFilter fields the source applies to a timeline (before the limit). */
export interface TimelineFilter {
  readonly types?: string[];
  readonly not_types?: string[];
  readonly senders?: string[];
  readonly not_senders?: string[];
  readonly contains_url?: boolean;
  readonly related_by_senders?: string[];
  readonly related_by_rel_types?: string[];
}

/** What `related_by_senders` / `related_by_rel_types` ask of an event's children. */
export interface RelationMatch {
  readonly senders?: readonly string[];
  readonly relTypes?: readonly string[];
}

export type Membership = 'join' | 'invite' | 'knock' | 'leave' | 'ban';

export interface MembershipAt {
  readonly roomId: string;
  readonly membership: Membership;
  readonly eventId: string;
  /** Stream position of the membership event. */
  readonly stream: number;
  readonly sender: string;
  /** The membership this event replaced (from `unsigned.prev_content`), undefined for a first membership. */
  readonly prevMembership?: Membership;
}

/** A stripped state event (invite_state / knock_state). */
export interface StrippedStateEvent {
  readonly type: string;
  readonly state_key: string;
  readonly sender: string;
  readonly content: JsonObject;
}

/** What `SyncRoomsSource.timeline` is asked for: a window of one room, for one viewer. */
export type TimelineRequest = EventFormatOption & {
  readonly from: number;
  readonly to: number;
  readonly limit: number;
  readonly viewer: { userId: string; deviceId: string | null };
  readonly filter?: TimelineFilter;
  /** The viewer's ignored users: left out of the bundled aggregations too. */
  readonly ignored?: ReadonlySet<string>;
};

export interface SyncRoomsSource {
  /**
   * The newest stream position of room events (the `events` stream), from memory once known; `fresh` reads
   * the database (to see what other processes committed).
   */
  currentPosition(options?: { fresh?: boolean }): Promise<number>;
  /** The user's membership in every room as of stream `at` (latest membership event ≤ at), forgotten rooms left out. */
  membershipsAt(userId: string, at: number): Promise<MembershipAt[]>;
  /** The user's own membership events in `(from, to]`, oldest first. */
  membershipChanges(userId: string, from: number, to: number): Promise<MembershipAt[]>;
  /** Which of `roomIds` have any event in `(from, to]` (one range read, not one per room). */
  roomsWithEvents(roomIds: readonly string[], from: number, to: number): Promise<Set<string>>;
  /**
   * The newest `limit` events of a room in `(from, to]` that pass `filter` and `viewer` may see, oldest first,
   * formatted for the viewer's device (its own transaction ids).
   */
  timeline(roomId: string, range: TimelineRequest): Promise<TimelineSlice>;
  /** The room's state after every event at or below stream `at`. */
  stateAt(roomId: string, at: number, options?: EventFormatOption): Promise<SyncRoomEvent[]>;
  /** State entries that differ between stream positions `from` and `to` (their values at `to`). */
  stateDelta(roomId: string, from: number, to: number, options?: EventFormatOption): Promise<SyncRoomEvent[]>;
  /**
   * When state resolution (forks of the room DAG meeting) changed the current state in `(from, to]`: the
   * entries at `to` that differ from `from` or that overrule an event of the range; else nothing.
   */
  resolvedStateDelta(
    roomId: string,
    from: number,
    to: number,
    options?: EventFormatOption,
  ): Promise<SyncRoomEvent[]>;
  /**
   * Stripped state to show with an invite or knock (the membership event's `invite_room_state`/`knock_room_state`),
   * including the stripped membership event itself.
   */
  strippedState(roomId: string, membershipEventId: string): Promise<StrippedStateEvent[]>;
  /**
   * Which of `eventIds` some live relation points to whose sender is in `match.senders` and whose rel_type is
   * in `match.relTypes` (an absent list does not restrict): a filter's `related_by_senders` /
   * `related_by_rel_types`.
   */
  relatedBy(eventIds: readonly string[], match: RelationMatch): Promise<Set<string>>;
  /** Joined and invited member counts and the user ids of joined + invited members, in membership order. */
  members(roomId: string): Promise<{ joined: string[]; invited: string[] }>;
}
