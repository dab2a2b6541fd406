/** The only code that touches the receipts tables. */
import type { Knex } from 'knex';
import { toNumber } from '../../../core/storage/dialect.js';
import { withTransaction, type Queryable } from '../../../core/storage/transaction.js';

/** `thread_id` of an unthreaded receipt (NULL would not take part in the primary key on every engine). */
export const UNTHREADED = '';

export interface ReceiptRow {
  readonly roomId: string;
  readonly receiptType: string;
  readonly userId: string;
  /** `''` when unthreaded. */
  readonly threadId: string;
  readonly eventId: string;
  readonly eventStreamOrdering: number;
  readonly ts: number;
  readonly position: number;
}

interface RawRow {
  room_id: string;
  receipt_type: string;
  user_id: string;
  thread_id: string;
  event_id: string;
  event_stream_ordering: string | number;
  ts: string | number;
  stream_position: string | number;
}

const toRow = (r: RawRow): ReceiptRow => ({
  roomId: r.room_id,
  receiptType: r.receipt_type,
  userId: r.user_id,
  threadId: r.thread_id,
  eventId: r.event_id,
  eventStreamOrdering: toNumber(r.event_stream_ordering),
  ts: toNumber(r.ts),
  position: toNumber(r.stream_position),
});

const CHUNK = 500;

export type NewReceipt = Omit<ReceiptRow, 'position'>;

export class ReceiptsStore {
  private readonly db: Knex;

  constructor({ db }: { db: Knex }) {
    this.db = db;
  }

  async get(
    roomId: string,
    receiptType: string,
    userId: string,
    threadId: string,
    trx?: Queryable,
  ): Promise<ReceiptRow | undefined> {
    const row = (await (trx ?? this.db)('receipts_receipts')
      .where({ room_id: roomId, receipt_type: receiptType, user_id: userId, thread_id: threadId })
      .first()) as RawRow | undefined;
    return row ? toRow(row) : undefined;
  }

  /**
   * Stores a receipt unless the stored one for the same (room, type, user, thread) already points at or past
   * the same place. Returns the new stream position, or undefined when nothing changed. The position comes
   * from a single-row counter in the same transaction: its row lock makes writers commit in position order,
   * so a reader that sees position N has seen every change at or below N.
   */
  async advance(receipt: NewReceipt, trx?: Queryable): Promise<number | undefined> {
    return withTransaction(trx ?? this.db, async (tx) => {
      await tx('receipts_stream').where({ id: 1 }).increment('position', 1);
      const existing = await this.get(
        receipt.roomId,
        receipt.receiptType,
        receipt.userId,
        receipt.threadId,
        tx,
      );
      if (existing && existing.eventStreamOrdering >= receipt.eventStreamOrdering) {
        // Undo the increment by rolling back: throwing inside the transaction is the portable way.
        throw new NoChange();
      }
      const counter = (await tx('receipts_stream').where({ id: 1 }).first()) as { position: string | number };
      const position = toNumber(counter.position);
      await tx('receipts_receipts')
        .insert({
          room_id: receipt.roomId,
          receipt_type: receipt.receiptType,
          user_id: receipt.userId,
          thread_id: receipt.threadId,
          event_id: receipt.eventId,
          event_stream_ordering: receipt.eventStreamOrdering,
          ts: receipt.ts,
          stream_position: position,
        })
        .onConflict(['room_id', 'receipt_type', 'user_id', 'thread_id'])
        .merge(['event_id', 'event_stream_ordering', 'ts', 'stream_position']);
      return position;
    }).catch((err: unknown) => {
      if (err instanceof NoChange) return undefined;
      throw err;
    });
  }

  /** Receipts in `roomIds` that changed in `(from, to]`. */
  async changedIn(
    roomIds: readonly string[],
    from: number,
    to: number,
    trx?: Queryable,
  ): Promise<ReceiptRow[]> {
    const out: ReceiptRow[] = [];
    // Chunked: a user in thousands of rooms must not exceed the engine's bound-parameter limit.
    for (let i = 0; i < roomIds.length; i += CHUNK) {
      const rows = (await (trx ?? this.db)('receipts_receipts')
        .whereIn('room_id', roomIds.slice(i, i + CHUNK))
        .where('stream_position', '>', from)
        .where('stream_position', '<=', to)
        .orderBy('stream_position')) as RawRow[];
      out.push(...rows.map(toRow));
    }
    return out;
  }

  /** Every current receipt in `roomIds` (up to `to`), for rooms new to a sync. */
  async allIn(roomIds: readonly string[], to: number, trx?: Queryable): Promise<ReceiptRow[]> {
    return this.changedIn(roomIds, 0, to, trx);
  }

  /** A user's receipts in one room (all types and threads). */
  async forUser(roomId: string, userId: string, trx?: Queryable): Promise<ReceiptRow[]> {
    const rows = (await (trx ?? this.db)('receipts_receipts').where({
      room_id: roomId,
      user_id: userId,
    })) as RawRow[];
    return rows.map(toRow);
  }

  async currentPosition(trx?: Queryable): Promise<number> {
    const row = (await (trx ?? this.db)('receipts_stream').where({ id: 1 }).first()) as
      { position: string | number } | undefined;
    return toNumber(row?.position);
  }
}

class NoChange extends Error {}
