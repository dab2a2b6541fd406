/**
 * Events in the client-server format (spec "ClientEvent"): the PDU's client-visible fields plus
 * `unsigned` facts this server knows (age, prev_content, transaction_id, redacted_because).
 */
import type { JsonObject } from '../../../core/protocol/pdu.js';
import type { StoredEvent } from '../store/room-store.js';

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

export function toClientEvent(e: StoredEvent, options: FormatOptions = {}): ClientEvent {
  const now = options.now ?? Date.now();
  const unsigned: Record<string, unknown> = { age: Math.max(0, now - e.originServerTs) };
  if (e.unsigned && e.redactedBy === null) Object.assign(unsigned, e.unsigned);
  if (options.transactionId !== undefined) unsigned['transaction_id'] = options.transactionId;
  if (options.redactedBecause) unsigned['redacted_because'] = options.redactedBecause;
  if (options.extraUnsigned) Object.assign(unsigned, options.extraUnsigned);
  const out: ClientEvent = {
    content: e.pdu.content,
    event_id: e.eventId,
    origin_server_ts: e.originServerTs,
    room_id: e.roomId,
    sender: e.sender,
    type: e.type,
    unsigned,
  };
  if (e.stateKey !== null) out.state_key = e.stateKey;
  if (e.type === 'm.room.redaction') {
    const redacts = typeof e.pdu.redacts === 'string' ? e.pdu.redacts : e.pdu.content['redacts'];
    if (typeof redacts === 'string') out.redacts = redacts;
  }
  return out;
}

/** The `m.room.*` state event content as a plain object, for `format=content` reads. */
export function contentOf(e: StoredEvent): JsonObject {
  return e.pdu.content;
}
