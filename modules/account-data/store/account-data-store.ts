/** The only code that touches the account-data tables. */
import type { Knex } from 'knex';
import { fromJsonColumn, toJsonColumn, toNumber } from '../../../core/storage/dialect.js';
import { withTransaction, type Queryable } from '../../../core/storage/transaction.js';
import type { JsonObject } from '../../../core/protocol/pdu.js';

/** `room_id` of global account data. */
export const GLOBAL = '';

export interface AccountDataRow {
  readonly roomId: string;
  readonly type: string;
  readonly content: JsonObject;
  readonly position: number;
}

interface RawRow {
  room_id: string;
  type: string;
  content: string;
  stream_position: string | number;
}

interface PositionRow {
  position: string | number;
}

const toRow = (r: RawRow): AccountDataRow => ({
  roomId: r.room_id,
  type: r.type,
  content: fromJsonColumn<JsonObject>(r.content) ?? {},
  position: toNumber(r.stream_position),
});

export class AccountDataStore {
  private readonly db: Knex;

  constructor({ db }: { db: Knex }) {
    this.db = db;
  }

  async get(userId: string, roomId: string, type: string, trx?: Queryable): Promise<JsonObject | undefined> {
    const row = (await (trx ?? this.db)('account_data_entries')
      .where({ user_id: userId, room_id: roomId, type })
      .first()) as RawRow | undefined;
    return row ? toRow(row).content : undefined;
  }

  /**
   * Writes one entry at a fresh stream position. The position comes from a single-row counter updated in the
   * same transaction: its row lock makes concurrent writers commit in position order, so a reader that sees
   * position N has seen every change at or below N.
   */
  async put(
    userId: string,
    roomId: string,
    type: string,
    content: JsonObject,
    trx?: Queryable,
  ): Promise<number> {
    return withTransaction(trx ?? this.db, async (tx) => {
      await tx('account_data_stream').where({ id: 1 }).increment('position', 1);
      const counter = (await tx('account_data_stream').where({ id: 1 }).first()) as PositionRow | undefined;
      const position = toNumber(counter?.position);
      await tx('account_data_entries')
        .insert({
          user_id: userId,
          room_id: roomId,
          type,
          content: toJsonColumn(content),
          stream_position: position,
        })
        .onConflict(['user_id', 'room_id', 'type'])
        .merge(['content', 'stream_position']);
      return position;
    });
  }

  async currentPosition(trx?: Queryable): Promise<number> {
    const row = (await (trx ?? this.db)('account_data_stream').where({ id: 1 }).first()) as
      PositionRow | undefined;
    return toNumber(row?.position);
  }

  /** A user's entries changed in `(from, to]`, oldest first. */
  async changedBetween(userId: string, from: number, to: number, trx?: Queryable): Promise<AccountDataRow[]> {
    const rows = (await (trx ?? this.db)('account_data_entries')
      .where('user_id', userId)
      .andWhere('stream_position', '>', from)
      .andWhere('stream_position', '<=', to)
      .orderBy('stream_position')) as RawRow[];
    return rows.map(toRow);
  }

  /** Every entry of a user for the given rooms (a room newly in a sync gets its whole account data). */
  async forRooms(
    userId: string,
    roomIds: readonly string[],
    to: number,
    trx?: Queryable,
  ): Promise<AccountDataRow[]> {
    if (roomIds.length === 0) return [];
    const rows = (await (trx ?? this.db)('account_data_entries')
      .where('user_id', userId)
      .whereIn('room_id', [...roomIds])
      .andWhere('stream_position', '<=', to)
      .orderBy('stream_position')) as RawRow[];
    return rows.map(toRow);
  }
}
