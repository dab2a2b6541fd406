/**
 * The spam checkers on events from other servers (Synapse's behaviour): `shouldDropFederatedEvent` drops
 * the event before anything is stored (refused, `dropped_by_policy`); a `checkEventForSpam` refusal
 * soft-fails it — kept aside, never served, never state — as Synapse soft-fails spam on receipt. Runs once
 * the event's signatures and hash are checked, before the auth checks and the room lock.
 */
import type { Cradle } from '../../../core/container.js';
import { NOT_SPAM } from '../../../core/plugins/api.js';
import type { PduAccepted } from '../../../core/protocol/pdu-receipt.js';
import type { SoftFailedStore } from '../store/soft-failed-store.js';
import type { ReceiveOutcome } from './federated-event-receiver.js';

/** Undefined when the checkers let the event through; else what became of it. */
export async function federatedSpamVerdict(
  spamCheckers: Cradle['spamCheckers'],
  softFailed: SoftFailedStore,
  roomId: string,
  verdict: PduAccepted,
): Promise<ReceiveOutcome | undefined> {
  const event = verdict.pdu;
  if (
    spamCheckers.has('shouldDropFederatedEvent') &&
    (await spamCheckers.shouldDropFederatedEvent({ event }))
  ) {
    return {
      status: 'refused',
      code: 'dropped_by_policy',
      reason: 'dropped by a spam checker',
      eventId: verdict.eventId,
    };
  }
  if (!spamCheckers.has('checkEventForSpam')) return undefined;
  const spam = await spamCheckers.check('checkEventForSpam', { event });
  if (spam === NOT_SPAM) return undefined;
  const reason = `spam: ${spam.errcode}`;
  await softFailed.insert({ eventId: verdict.eventId, roomId, pdu: event, reason });
  return { status: 'soft_failed', eventId: verdict.eventId, reason };
}
