/* eslint-disable @typescript-eslint/no-unnecessary-type-assertion -- knex rows are typed by assertion here, at the store boundary */
/** `rooms_txns`: (user, device, txn id) → event id, so a client's retried send is answered once. */
import type { Sql, SqlStatement } from '../../../core/storage/sql.js';
import type { Queryable } from '../../../core/storage/transaction.js';
import { constraintMessage, RoomsTableStore } from './table-store.js';

export class TxnStore extends RoomsTableStore {
  async getTxn(
    userId: string,
    deviceId: string,
    txnId: string,
    trx: Queryable = this.db,
  ): Promise<string | undefined> {
    const row = (await trx('rooms_txns')
      .where({ user_id: userId, device_id: deviceId, txn_id: txnId })
      .first('event_id')) as { event_id: string } | undefined;
    return row?.event_id;
  }

  /**
   * Records the txn id of an event; false when (user, device, txn) was already used (the caller rolls
   * back and answers with the first event).
   */
  async insertTxn(
    userId: string,
    deviceId: string,
    txnId: string,
    eventId: string,
    sql?: Sql,
  ): Promise<boolean> {
    const changed = await this.write(sql, (q) =>
      q.run(
        `INSERT INTO rooms_txns (user_id, device_id, txn_id, event_id, created_ts) VALUES (?, ?, ?, ?, ?)
         ON CONFLICT (user_id, device_id, txn_id) DO NOTHING`,
        [userId, deviceId, txnId, eventId, Date.now()],
      ),
    );
    return changed === 1;
  }

  /** A txn id's row; a reused (user, device, txn id) fails the statement (`isTxnReplayed`). */
  insertTxnStatement(userId: string, deviceId: string, txnId: string, eventId: string): SqlStatement {
    return [
      'INSERT INTO rooms_txns (user_id, device_id, txn_id, event_id, created_ts) VALUES (?, ?, ?, ?, ?)',
      [userId, deviceId, txnId, eventId, Date.now()],
    ];
  }

  /** The (user, device, txn id) an event was sent with, for `unsigned.transaction_id`. */
  async txnOfEvents(
    eventIds: readonly string[],
    trx: Queryable = this.db,
  ): Promise<Map<string, { userId: string; deviceId: string; txnId: string }>> {
    const out = new Map<string, { userId: string; deviceId: string; txnId: string }>();
    if (eventIds.length === 0) return out;
    const rows = (await trx('rooms_txns').whereIn('event_id', eventIds)) as {
      user_id: string;
      device_id: string;
      txn_id: string;
      event_id: string;
    }[];
    for (const r of rows) out.set(r.event_id, { userId: r.user_id, deviceId: r.device_id, txnId: r.txn_id });
    return out;
  }
}

/** The one-call send transaction failed because the txn id was used already (see insertTxnStatement). */
export function isTxnReplayed(err: unknown): boolean {
  return constraintMessage(err).includes('UNIQUE constraint failed: rooms_txns.');
}
