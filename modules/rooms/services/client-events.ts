/**
 * Events in the client-server format (spec "ClientEvent"): the PDU's client-visible fields plus
 * `unsigned` facts this server knows (age, prev_content, transaction_id, redacted_because); and in the
 * federation format a sync filter may ask for (`event_format: "federation"`): the PDU itself.
 */
import type { JsonObject, PduJson } from '../../../core/protocol/pdu.js';
import type { StoredEvent } from '../store/event-rows.js';

export interface ClientEvent {
  content: JsonObject;
  event_id: string;
  origin_server_ts: number;
  room_id: string;
  sender: string;
  type: string;
  state_key?: string;
  redacts?: string;
  unsigned: Record<string, unknown>;
}

export interface FormatOptions {
  readonly now?: number;
  /** The sender's own txn id, shown only to the device that sent it. */
  readonly transactionId?: string;
  /** The redaction event, for a redacted event's `unsigned.redacted_because`. */
  readonly redactedBecause?: ClientEvent;
  /** Extra `unsigned` entries (e.g. `m.relations`). */
  readonly extraUnsigned?: Record<string, unknown>;
}

/**
 * An event in the federation format: the PDU as stored (the redacted form once redacted) with, as Synapse
 * serves `event_format: "federation"`, its `event_id` (not part of a v3+ PDU), the `unsigned` facts of the
 * client format (age, replaces_state, prev_content, transaction_id, redacted_because — itself in this
 * format) and, for a redaction, `redacts` at the top level whatever the room version.
 */
export type FederationEvent = PduJson & { event_id: string; unsigned: JsonObject };

/** A client event with the same event in federation format. */
export interface EventWithPdu {
  readonly event: ClientEvent;
  readonly pdu: FederationEvent;
}

export interface FederationFormatOptions extends Omit<FormatOptions, 'redactedBecause'> {
  readonly redactedBecause?: FederationEvent;
}

function unsignedOf(
  e: StoredEvent,
  options: Omit<FormatOptions, 'redactedBecause'>,
  redactedBecause: object | undefined,
): Record<string, unknown> {
  const now = options.now ?? Date.now();
  const unsigned: Record<string, unknown> = { age: Math.max(0, now - e.originServerTs) };
  if (e.unsigned && e.redactedBy === null) Object.assign(unsigned, e.unsigned);
  if (options.transactionId !== undefined) unsigned['transaction_id'] = options.transactionId;
  if (redactedBecause) unsigned['redacted_because'] = redactedBecause;
  if (options.extraUnsigned) Object.assign(unsigned, options.extraUnsigned);
  return unsigned;
}

/** The redacted event id of a redaction: top level until v11, in `content` from v11. */
function redactsOf(e: StoredEvent): string | undefined {
  if (e.type !== 'm.room.redaction') return undefined;
  const redacts = typeof e.pdu.redacts === 'string' ? e.pdu.redacts : e.pdu.content['redacts'];
  return typeof redacts === 'string' ? redacts : undefined;
}

export function toClientEvent(e: StoredEvent, options: FormatOptions = {}): ClientEvent {
  const out: ClientEvent = {
    content: e.pdu.content,
    event_id: e.eventId,
    origin_server_ts: e.originServerTs,
    room_id: e.roomId,
    sender: e.sender,
    type: e.type,
    unsigned: unsignedOf(e, options, options.redactedBecause),
  };
  if (e.stateKey !== null) out.state_key = e.stateKey;
  const redacts = redactsOf(e);
  if (redacts !== undefined) out.redacts = redacts;
  return out;
}

export function toFederationEvent(e: StoredEvent, options: FederationFormatOptions = {}): FederationEvent {
  const out: FederationEvent = {
    ...e.pdu,
    event_id: e.eventId,
    // JSON by construction: server unsigned from the database, strings, numbers and events.
    unsigned: unsignedOf(e, options, options.redactedBecause) as JsonObject,
  };
  const redacts = redactsOf(e);
  if (redacts !== undefined) out.redacts = redacts;
  return out;
}

/** The `m.room.*` state event content as a plain object, for `format=content` reads. */
export function contentOf(e: StoredEvent): JsonObject {
  return e.pdu.content;
}
