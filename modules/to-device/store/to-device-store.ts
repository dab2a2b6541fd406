/** The only code that touches the to-device tables. */
import type { Knex } from 'knex';
import { fromJsonColumn, toJsonColumn, toNumber } from '../../../core/storage/dialect.js';
import { isUniqueViolation } from '../../../core/storage/errors.js';
import { withTransaction, type Queryable } from '../../../core/storage/transaction.js';
import type { JsonObject } from '../../../core/protocol/pdu.js';

export interface Delivery {
  readonly userId: string;
  readonly deviceId: string;
  readonly content: JsonObject;
}

export interface PendingMessage {
  readonly position: number;
  readonly sender: string;
  readonly type: string;
  readonly content: JsonObject;
}

interface MessageRow {
  position: string | number;
  sender: string;
  type: string;
  content: string;
}

interface PositionRow {
  position: string | number;
}

export class ToDeviceStore {
  private readonly db: Knex;

  constructor({ db }: { db: Knex }) {
    this.db = db;
  }

  /**
   * Queues one send: records the transaction id and the messages at one fresh position, in one transaction.
   * Returns undefined when the transaction id was already used (the send is a retry and must do nothing).
   * The counter row's lock makes concurrent sends commit in position order.
   */
  async enqueue(
    sender: { userId: string; deviceId: string; txnId: string },
    type: string,
    deliveries: readonly Delivery[],
  ): Promise<number | undefined> {
    try {
      return await withTransaction(this.db, async (tx) => {
        await tx('to_device_txns').insert({
          user_id: sender.userId,
          device_id: sender.deviceId,
          txn_id: sender.txnId,
          created_ts: Date.now(),
        });
        await tx('to_device_stream').where({ id: 1 }).increment('position', 1);
        const row = (await tx('to_device_stream').where({ id: 1 }).first()) as PositionRow | undefined;
        const position = toNumber(row?.position);
        const rows = deliveries.map((d) => ({
          user_id: d.userId,
          device_id: d.deviceId,
          position,
          sender: sender.userId,
          type,
          content: toJsonColumn(d.content),
        }));
        for (let i = 0; i < rows.length; i += 200)
          await tx('to_device_messages').insert(rows.slice(i, i + 200));
        return position;
      });
    } catch (err) {
      if (isUniqueViolation(err)) return undefined;
      throw err;
    }
  }

  async currentPosition(trx?: Queryable): Promise<number> {
    const row = (await (trx ?? this.db)('to_device_stream').where({ id: 1 }).first()) as
      PositionRow | undefined;
    return toNumber(row?.position);
  }

  /** The device has received everything up to `upTo`: those messages are gone. */
  async acknowledge(userId: string, deviceId: string, upTo: number, trx?: Queryable): Promise<number> {
    return (trx ?? this.db)('to_device_messages')
      .where({ user_id: userId, device_id: deviceId })
      .andWhere('position', '<=', upTo)
      .delete();
  }

  /** Pending messages for a device in `(from, to]`, oldest first, at most `limit`. */
  async pending(
    userId: string,
    deviceId: string,
    from: number,
    to: number,
    limit: number,
    trx?: Queryable,
  ): Promise<PendingMessage[]> {
    const rows = (await (trx ?? this.db)('to_device_messages')
      .select('position', 'sender', 'type', 'content')
      .where({ user_id: userId, device_id: deviceId })
      .andWhere('position', '>', from)
      .andWhere('position', '<=', to)
      .orderBy('position')
      .limit(limit)) as MessageRow[];
    return rows.map((r) => ({
      position: toNumber(r.position),
      sender: r.sender,
      type: r.type,
      content: fromJsonColumn<JsonObject>(r.content) ?? {},
    }));
  }

  /** Drops every message queued for devices that no longer exist. */
  async deleteForDevices(userId: string, deviceIds: readonly string[], trx?: Queryable): Promise<void> {
    if (deviceIds.length === 0) return;
    await (trx ?? this.db)('to_device_messages')
      .where('user_id', userId)
      .whereIn('device_id', [...deviceIds])
      .delete();
  }
}
