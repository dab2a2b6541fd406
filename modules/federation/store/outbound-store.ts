/* eslint-disable @typescript-eslint/no-unnecessary-type-assertion -- knex rows are typed by assertion here, at the store boundary */
/**
 * The outbound tables (migration 20261207160000): the backoff registry `federation_destinations`, the
 * outbox `federation_outbound_pdus`, persistent EDUs `federation_outbound_edus` and the sender's positions
 * `federation_outbound_positions`.
 */
import type { Knex } from 'knex';
import { toNumber } from '../../../core/storage/dialect.js';
import { withTransaction } from '../../../core/storage/transaction.js';

/** A destination's retry state: up when `retryInterval` is 0. */
export interface RetryTimings {
  readonly retryLastTs: number;
  readonly retryInterval: number;
  readonly failureTs: number | null;
}

/** One PDU a destination has not acknowledged yet. */
export interface OutboxEntry {
  readonly destination: string;
  readonly streamOrdering: number;
  readonly roomId: string;
  readonly eventId: string;
}

/** An EDU kept in the database until a destination accepted it. */
export interface StoredEdu {
  readonly id: number;
  readonly eduType: string;
  readonly content: unknown;
}

type Num = string | number;

export class OutboundStore {
  private readonly db: Knex;

  constructor({ db }: { db: Knex }) {
    this.db = db;
  }

  // ---- backoff ---------------------------------------------------------------------------------------

  /** Every destination currently marked down (retry_interval > 0). */
  async destinationsBackingOff(): Promise<Map<string, RetryTimings>> {
    const rows = (await this.db('federation_destinations').where('retry_interval', '>', 0)) as {
      destination: string;
      retry_last_ts: Num;
      retry_interval: Num;
      failure_ts: Num | null;
    }[];
    return new Map(
      rows.map((r) => [
        r.destination,
        {
          retryLastTs: toNumber(r.retry_last_ts),
          retryInterval: toNumber(r.retry_interval),
          failureTs: r.failure_ts === null ? null : toNumber(r.failure_ts),
        },
      ]),
    );
  }

  async setRetryTimings(destination: string, timings: RetryTimings): Promise<void> {
    await this.db('federation_destinations')
      .insert({
        destination,
        retry_last_ts: timings.retryLastTs,
        retry_interval: timings.retryInterval,
        failure_ts: timings.failureTs,
      })
      .onConflict('destination')
      .merge();
  }

  // ---- positions -------------------------------------------------------------------------------------

  async position(name: 'fanout'): Promise<number | undefined> {
    const row = (await this.db('federation_outbound_positions').where({ name }).first('value')) as
      { value: Num } | undefined;
    return row ? toNumber(row.value) : undefined;
  }

  /** Counts this boot (one write per start): transaction ids are `<epoch>_<n>`, unique across restarts. */
  async nextTxnEpoch(): Promise<number> {
    return withTransaction(this.db, async (trx) => {
      await trx('federation_outbound_positions')
        .insert({ name: 'txn_epoch', value: 0 })
        .onConflict('name')
        .ignore();
      await trx('federation_outbound_positions').where({ name: 'txn_epoch' }).increment('value', 1);
      const row = (await trx('federation_outbound_positions')
        .where({ name: 'txn_epoch' })
        .first('value')) as { value: Num };
      return toNumber(row.value);
    });
  }

  /**
   * One fan-out step, atomically: the outbox rows of the events handed out and the new fan-out position
   * (so a crash replays a step whole or not at all).
   */
  async recordFanout(entries: readonly OutboxEntry[], position: number): Promise<void> {
    await withTransaction(this.db, async (trx) => {
      for (let i = 0; i < entries.length; i += 200) {
        await trx('federation_outbound_pdus')
          .insert(
            entries.slice(i, i + 200).map((e) => ({
              destination: e.destination,
              stream_ordering: e.streamOrdering,
              room_id: e.roomId,
              event_id: e.eventId,
            })),
          )
          .onConflict(['destination', 'stream_ordering'])
          .ignore();
      }
      await trx('federation_outbound_positions')
        .insert({ name: 'fanout', value: position })
        .onConflict('name')
        .merge();
    });
  }

  // ---- the outbox ------------------------------------------------------------------------------------

  /** Destinations with PDUs or EDUs waiting (to catch up after a restart). */
  async destinationsWithPending(): Promise<string[]> {
    const pdus = (await this.db('federation_outbound_pdus').distinct('destination')) as {
      destination: string;
    }[];
    const edus = (await this.db('federation_outbound_edus').distinct('destination')) as {
      destination: string;
    }[];
    return [...new Set([...pdus, ...edus].map((r) => r.destination))];
  }

  async pendingCount(destination: string): Promise<number> {
    const row = (await this.db('federation_outbound_pdus')
      .where({ destination })
      .count({ n: '*' })
      .first()) as { n: Num } | undefined;
    return toNumber(row?.n);
  }

  /** The oldest waiting PDUs of a destination, in stream order. */
  async oldestPending(destination: string, limit: number): Promise<OutboxEntry[]> {
    const rows = (await this.db('federation_outbound_pdus')
      .where({ destination })
      .orderBy('stream_ordering')
      .limit(limit)) as OutboxRow[];
    return rows.map(entryOf);
  }

  /** The stream ordering of the newest waiting PDU of a destination (0 when none). */
  async newestPending(destination: string): Promise<number> {
    const row = (await this.db('federation_outbound_pdus')
      .where({ destination })
      .max({ m: 'stream_ordering' })
      .first()) as { m: Num | null } | undefined;
    return toNumber(row?.m);
  }

  /**
   * The newest waiting PDU of each room of a destination among those up to `upTo`, the rooms in stream
   * order of it.
   */
  async latestPendingPerRoom(destination: string, limit: number, upTo: number): Promise<OutboxEntry[]> {
    const rows = (await this.db('federation_outbound_pdus as o')
      .where('o.destination', destination)
      .whereIn(
        'o.stream_ordering',
        this.db('federation_outbound_pdus')
          .where({ destination })
          .andWhere('stream_ordering', '<=', upTo)
          .groupBy('room_id')
          .max('stream_ordering'),
      )
      .orderBy('o.stream_ordering')
      .limit(limit)) as OutboxRow[];
    return rows.map(entryOf);
  }

  /**
   * A transaction holding `sent` was accepted (or dropped): every waiting PDU of their rooms up to the one
   * sent is done (older ones of a room were sent before, or superseded in a catch-up).
   */
  async delivered(destination: string, sent: readonly OutboxEntry[]): Promise<void> {
    const upTo = new Map<string, number>();
    for (const e of sent) upTo.set(e.roomId, Math.max(upTo.get(e.roomId) ?? 0, e.streamOrdering));
    if (upTo.size === 0) return;
    await this.db('federation_outbound_pdus')
      .where({ destination })
      .andWhere((q) => {
        for (const [roomId, max] of upTo) {
          void q.orWhere((w) => void w.where('room_id', roomId).andWhere('stream_ordering', '<=', max));
        }
      })
      .delete();
  }

  // ---- persistent EDUs -------------------------------------------------------------------------------

  async addEdu(destination: string, eduType: string, content: unknown): Promise<void> {
    await this.db('federation_outbound_edus').insert({
      destination,
      edu_type: eduType,
      content_json: JSON.stringify(content),
      created_ts: Date.now(),
    });
  }

  async pendingEdus(destination: string, limit: number): Promise<StoredEdu[]> {
    const rows = (await this.db('federation_outbound_edus')
      .where({ destination })
      .orderBy('id')
      .limit(limit)) as { id: Num; edu_type: string; content_json: string }[];
    return rows.map((r) => ({
      id: toNumber(r.id),
      eduType: r.edu_type,
      content: JSON.parse(r.content_json) as unknown,
    }));
  }

  async deleteEdus(ids: readonly number[]): Promise<void> {
    if (ids.length > 0) await this.db('federation_outbound_edus').whereIn('id', ids).delete();
  }
}

interface OutboxRow {
  destination: string;
  stream_ordering: Num;
  room_id: string;
  event_id: string;
}

function entryOf(r: OutboxRow): OutboxEntry {
  return {
    destination: r.destination,
    streamOrdering: toNumber(r.stream_ordering),
    roomId: r.room_id,
    eventId: r.event_id,
  };
}
