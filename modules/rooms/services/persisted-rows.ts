/** The rows an event is written as, read from its PDU (pure; event-persister.ts). */
import type { PduJson } from '../../../core/protocol/pdu.js';
import type { NewEvent, ServerUnsigned } from '../store/event-rows.js';
import type { EventToPersist } from './event-persister.js';
import type { RoomHead } from './room-heads.js';

/** The forward extremities after `event`: the ones it does not reference, and itself. */
export function extremitiesAfter(head: RoomHead, event: EventToPersist): string[] {
  const prev = refIds(event.pdu.prev_events);
  return [...head.extremities.filter((e) => !prev.includes(e)), event.eventId];
}

/** Event ids of prev_events / auth_events (v1–2 write `[id, hashes]` pairs). */
export function refIds(refs: PduJson['prev_events']): string[] {
  return refs.map((r) => (typeof r === 'string' ? r : r[0]));
}

/** The target of an m.room.redaction: top level before v11, `content.redacts` from v11. */
export function redactsOf(pdu: PduJson): string | undefined {
  if (pdu.type !== 'm.room.redaction') return undefined;
  const inContent = pdu.content['redacts'];
  return pdu.redacts ?? (typeof inContent === 'string' ? inContent : undefined);
}

/** The row of a new event as the store writes it. */
export function newEventOf(
  roomId: string,
  event: EventToPersist,
  stateGroup: number | null,
  unsigned: ServerUnsigned | undefined,
): NewEvent {
  const { pdu } = event;
  const relatesTo = relationOf(pdu.content);
  const membership = pdu.content['membership'];
  return {
    eventId: event.eventId,
    roomId,
    type: pdu.type,
    stateKey: pdu.state_key ?? null,
    sender: pdu.sender,
    depth: pdu.depth,
    originServerTs: pdu.origin_server_ts,
    pdu,
    unsigned,
    rejectedReason: event.rejectedReason ?? null,
    stateGroup,
    membership: pdu.type === 'm.room.member' && typeof membership === 'string' ? membership : null,
    relatesTo: relatesTo?.eventId ?? null,
    relType: relatesTo?.relType ?? null,
  };
}

/** `m.relates_to` of a content: the related event and relation type, when well formed. */
function relationOf(content: PduJson['content']): { eventId: string; relType: string } | undefined {
  const rel = content['m.relates_to'];
  if (typeof rel !== 'object' || rel === null || Array.isArray(rel)) return undefined;
  const eventId = rel['event_id'];
  const relType = rel['rel_type'];
  if (typeof eventId !== 'string' || typeof relType !== 'string') return undefined;
  return { eventId, relType };
}
