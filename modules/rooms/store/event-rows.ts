/**
 * An event row of `rooms_events` as the rooms module reads and writes it: the stored shape, the mapping
 * from the database row, and the column list both INSERTs (knex-free fast path and prepared path) share.
 */
import { fromJsonColumn, toJsonColumn, toNumber } from '../../../core/storage/dialect.js';
import type { PduJson } from '../../../core/protocol/pdu.js';

/** Facts the server adds to `unsigned` of a state event when it replaces an earlier one. */
export interface ServerUnsigned {
  replaces_state?: string;
  prev_content?: Record<string, unknown>;
  prev_sender?: string;
  /** An out-of-band invite or knock (services/out-of-band-memberships.ts): the room's stripped state. */
  invite_room_state?: unknown[];
  knock_room_state?: unknown[];
}

export interface StoredEvent {
  readonly streamOrdering: number;
  readonly eventId: string;
  readonly roomId: string;
  readonly type: string;
  readonly stateKey: string | null;
  readonly sender: string;
  readonly depth: number;
  readonly originServerTs: number;
  /** The PDU; the redacted form once redacted. */
  readonly pdu: PduJson;
  readonly unsigned: ServerUnsigned | undefined;
  readonly redactedBy: string | null;
  readonly rejectedReason: string | null;
  readonly stateGroup: number | null;
  readonly membership: string | null;
  readonly relatesTo: string | null;
  readonly relType: string | null;
}

export type NewEvent = Omit<StoredEvent, 'streamOrdering' | 'redactedBy'>;

export interface EventDbRow {
  stream_ordering: number | string;
  event_id: string;
  room_id: string;
  type: string;
  state_key: string | null;
  sender: string;
  depth: number | string;
  origin_server_ts: number | string;
  json: string;
  unsigned_json: string | null;
  redacted_by: string | null;
  rejected_reason: string | null;
  state_group: number | string | null;
  membership: string | null;
  relates_to: string | null;
  rel_type: string | null;
}

export function eventFromRow(r: EventDbRow): StoredEvent {
  return {
    streamOrdering: toNumber(r.stream_ordering),
    eventId: r.event_id,
    roomId: r.room_id,
    type: r.type,
    stateKey: r.state_key,
    sender: r.sender,
    depth: toNumber(r.depth),
    originServerTs: toNumber(r.origin_server_ts),
    pdu: JSON.parse(r.json) as PduJson,
    unsigned: fromJsonColumn<ServerUnsigned>(r.unsigned_json),
    redactedBy: r.redacted_by,
    rejectedReason: r.rejected_reason,
    stateGroup: r.state_group == null ? null : toNumber(r.state_group),
    membership: r.membership,
    relatesTo: r.relates_to,
    relType: r.rel_type,
  };
}

/** Position in a room's topological order: (depth, stream ordering). */
export interface TopoPosition {
  readonly depth: number;
  readonly stream: number;
}

/** The columns of an event row after `stream_ordering`, and their `?`s after `event_id`'s (see eventValues). */
export const EVENT_COLUMNS = `event_id, room_id, type, state_key, sender, depth, origin_server_ts, json, unsigned_json,
  rejected_reason, state_group, membership, relates_to, rel_type`;
export const EVENT_VALUE_SLOTS = '?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?';

/** The values of EVENT_COLUMNS after `event_id`, in order. */
export function eventValues(e: NewEvent): unknown[] {
  return [
    e.roomId,
    e.type,
    e.stateKey,
    e.sender,
    e.depth,
    e.originServerTs,
    toJsonColumn(e.pdu),
    e.unsigned ? toJsonColumn(e.unsigned) : null,
    e.rejectedReason,
    e.stateGroup,
    e.membership,
    e.relatesTo,
    e.relType,
  ];
}
