/**
 * `rooms_soft_failed_events`: federated events that passed every check but the one against the current
 * state (see ../services/federated-event-receiver.ts). Kept apart from `rooms_events`, so no client read,
 * forward extremity or state computation ever sees them.
 */
import type { PduJson } from '../../../core/protocol/pdu.js';
import { toJsonColumn } from '../../../core/storage/dialect.js';
import type { Queryable } from '../../../core/storage/transaction.js';
import { RoomsTableStore } from './table-store.js';

export interface SoftFailedEvent {
  readonly eventId: string;
  readonly roomId: string;
  readonly pdu: PduJson;
  readonly reason: string;
  readonly receivedTs: number;
}

export class SoftFailedStore extends RoomsTableStore {
  /** Records a soft-failed event; a second copy of the same event is ignored. */
  async insert(event: Omit<SoftFailedEvent, 'receivedTs'>, trx: Queryable = this.db): Promise<void> {
    await trx('rooms_soft_failed_events')
      .insert({
        event_id: event.eventId,
        room_id: event.roomId,
        json: toJsonColumn(event.pdu),
        reason: event.reason,
        received_ts: Date.now(),
      })
      .onConflict('event_id')
      .ignore();
  }

  /** Which of `eventIds` are soft-failed events (one read). */
  async existing(eventIds: readonly string[], trx: Queryable = this.db): Promise<Set<string>> {
    if (eventIds.length === 0) return new Set();
    const rows: { event_id: string }[] = await trx('rooms_soft_failed_events')
      .whereIn('event_id', eventIds)
      .select('event_id');
    return new Set(rows.map((r) => r.event_id));
  }

  async get(eventId: string, trx: Queryable = this.db): Promise<SoftFailedEvent | undefined> {
    const row = (await trx('rooms_soft_failed_events').where({ event_id: eventId }).first()) as
      | { event_id: string; room_id: string; json: string; reason: string; received_ts: number | string }
      | undefined;
    if (!row) return undefined;
    return {
      eventId: row.event_id,
      roomId: row.room_id,
      pdu: JSON.parse(row.json) as PduJson,
      reason: row.reason,
      receivedTs: Number(row.received_ts),
    };
  }
}
