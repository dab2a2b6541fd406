/**
 * The pure first half of the receive pipeline (server-server-api "Checks performed on receipt of a PDU",
 * steps 1–3), in the spec's order: a valid event of its room version (else dropped) → signatures of every
 * required server with keys valid where the room version demands (else dropped) → the content hash (else
 * the event continues in its redacted form). Steps 4–6 (auth against the event's auth events, the state
 * before it and the current state) need the room's events and follow in the rooms module.
 */
import { computeEventId } from './event-id.js';
import { verifyContentHash } from './hashes.js';
import type { PduJson } from './pdu.js';
import { checkPduFormat, type PduFormatCode } from './pdu-format.js';
import { verifyPduSignatures, type SignatureFailureCode, type VerifyKeyLookup } from './pdu-signatures.js';
import { redactEvent } from './redaction.js';
import type { RoomVersion } from './room-versions.js';

export interface PduReceiptInput {
  /** The PDU as received, parsed with `parseJsonLossless` so big integers keep their digits. */
  readonly pdu: unknown;
  readonly roomVersion: RoomVersion;
  readonly keys: VerifyKeyLookup;
  /** The room the PDU arrived for (a join's room, a backfill's room): an event of another room is refused. */
  readonly roomId?: string;
}

/** The PDU passed steps 1–2; `redacted` when its content hash did not match (step 3). */
export interface PduAccepted {
  readonly accepted: true;
  readonly eventId: string;
  /** The event to process further: the received one, or its redacted form when `redacted`. */
  readonly pdu: PduJson;
  readonly redacted: boolean;
  /** Why it was redacted, to record with it. */
  readonly redactedReason?: string;
  /** The servers whose signatures were verified (see `signedByVerifiedServers`). */
  readonly signedBy: readonly string[];
}

/** The PDU failed step 1 or 2: the spec says drop it. `reason` is for logs and the stored verdict. */
export interface PduDropped {
  readonly accepted: false;
  readonly stage: 'format' | 'signatures';
  readonly code: PduFormatCode | 'wrong_room' | SignatureFailureCode;
  readonly reason: string;
  /** The event id, when the PDU was well-formed enough to have one. */
  readonly eventId?: string;
}

export type PduReceiptVerdict = PduAccepted | PduDropped;

/**
 * Runs receipt steps 1–3 on `input.pdu`. Only the key lookup may wait; it may also throw, which aborts the
 * check without a verdict (a key server being down says nothing about the event).
 */
export async function checkPduOnReceipt(input: PduReceiptInput): Promise<PduReceiptVerdict> {
  const { roomVersion } = input;
  const format = checkPduFormat(input.pdu, roomVersion);
  if (!format.ok) return { accepted: false, stage: 'format', code: format.code, reason: format.reason };
  const pdu = format.pdu;
  const eventId = computeEventId(pdu, roomVersion);

  if (input.roomId !== undefined) {
    const roomId = pdu.room_id ?? (roomVersion.roomIdIsCreateEventHash ? '!' + eventId.slice(1) : undefined);
    if (roomId !== input.roomId) {
      return {
        accepted: false,
        stage: 'format',
        code: 'wrong_room',
        reason: `the event belongs to ${roomId ?? 'no room'}, not ${input.roomId}`,
        eventId,
      };
    }
  }

  const signatures = await verifyPduSignatures(pdu, roomVersion, input.keys);
  if (!signatures.ok) {
    return {
      accepted: false,
      stage: 'signatures',
      code: signatures.code,
      reason: signatures.reason,
      eventId,
    };
  }

  if (verifyContentHash(pdu)) {
    return { accepted: true, eventId, pdu, redacted: false, signedBy: signatures.servers };
  }
  return {
    accepted: true,
    eventId,
    pdu: redactEvent(pdu, roomVersion),
    redacted: true,
    redactedReason: 'the content hash does not match: the event is kept in its redacted form',
    signedBy: signatures.servers,
  };
}
