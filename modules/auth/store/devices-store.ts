import type { Knex } from 'knex';
import { toNumber } from '../../../core/storage/dialect.js';
import type { Queryable } from '../../../core/storage/transaction.js';

export interface DeviceRow {
  readonly userId: string;
  readonly deviceId: string;
  readonly displayName: string | null;
  readonly lastSeenIp: string | null;
  readonly lastSeenUserAgent: string | null;
  readonly lastSeenTs: number | null;
}

interface RawDevice {
  user_id: string;
  device_id: string;
  display_name: string | null;
  last_seen_ip: string | null;
  last_seen_user_agent: string | null;
  last_seen_ts: string | number | null;
}

const fromRaw = (r: RawDevice): DeviceRow => ({
  userId: r.user_id,
  deviceId: r.device_id,
  displayName: r.display_name,
  lastSeenIp: r.last_seen_ip,
  lastSeenUserAgent: r.last_seen_user_agent,
  lastSeenTs: r.last_seen_ts === null ? null : toNumber(r.last_seen_ts),
});

export interface LastSeen {
  readonly userId: string;
  readonly deviceId: string;
  readonly ip: string;
  readonly userAgent: string | null;
  readonly ts: number;
}

/** `auth_devices`. */
export class DevicesStore {
  constructor(private readonly db: Knex) {}

  /** Creates the device unless it exists; returns whether it was created. */
  async ensure(
    userId: string,
    deviceId: string,
    displayName: string | null,
    now: number,
    trx: Queryable = this.db,
  ): Promise<boolean> {
    const inserted = (await trx('auth_devices')
      .insert({ user_id: userId, device_id: deviceId, display_name: displayName, creation_ts: now })
      .onConflict(['user_id', 'device_id'])
      .ignore()
      .returning('device_id')) as unknown[];
    return inserted.length > 0;
  }

  async get(userId: string, deviceId: string, trx: Queryable = this.db): Promise<DeviceRow | undefined> {
    const row = (await trx('auth_devices').where({ user_id: userId, device_id: deviceId }).first()) as
      RawDevice | undefined;
    return row ? fromRaw(row) : undefined;
  }

  async list(userId: string, trx: Queryable = this.db): Promise<DeviceRow[]> {
    const rows = (await trx('auth_devices').where({ user_id: userId }).orderBy('device_id')) as RawDevice[];
    return rows.map(fromRaw);
  }

  async setDisplayName(
    userId: string,
    deviceId: string,
    displayName: string,
    trx: Queryable = this.db,
  ): Promise<boolean> {
    const n = await trx('auth_devices')
      .where({ user_id: userId, device_id: deviceId })
      .update({ display_name: displayName });
    return n > 0;
  }

  async delete(userId: string, deviceIds: readonly string[], trx: Queryable = this.db): Promise<void> {
    if (deviceIds.length === 0) return;
    await trx('auth_devices').where({ user_id: userId }).whereIn('device_id', deviceIds).delete();
  }

  async deleteAll(userId: string, trx: Queryable = this.db): Promise<void> {
    await trx('auth_devices').where({ user_id: userId }).delete();
  }

  /** One UPDATE per device in one transaction: the batched last-seen flush. */
  async updateLastSeen(entries: readonly LastSeen[]): Promise<void> {
    if (entries.length === 0) return;
    await this.db.transaction(async (trx) => {
      for (const e of entries) {
        await trx('auth_devices').where({ user_id: e.userId, device_id: e.deviceId }).update({
          last_seen_ip: e.ip,
          last_seen_user_agent: e.userAgent,
          last_seen_ts: e.ts,
        });
      }
    });
  }
}
