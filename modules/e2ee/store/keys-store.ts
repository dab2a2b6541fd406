/**
 * The only code that touches device keys, one-time keys and fallback keys. Whoever writes one-time or fallback
 * keys must invalidate the device's KeyCountsCache entry once the write has committed (KeysService does).
 */
import type { Knex } from 'knex';
import { fromJsonColumn, toJsonColumn, toNumber } from '../../../core/storage/dialect.js';
import type { Queryable } from '../../../core/storage/transaction.js';

export interface StoredDeviceKeys {
  readonly deviceId: string;
  readonly ed25519Key: string;
  readonly keys: Record<string, unknown>;
}

export interface NewKey {
  readonly algorithm: string;
  readonly keyId: string;
  /** A bare key string or a signed key object. */
  readonly key: unknown;
}

export interface ClaimedKey {
  readonly algorithm: string;
  readonly keyId: string;
  readonly key: unknown;
}

interface DeviceKeysRow {
  device_id: string;
  ed25519_key: string;
  key_json: string;
}

/** How often a claim retries when a concurrent claim took the key it picked. */
const CLAIM_ATTEMPTS = 50;

export class KeysStore {
  private readonly db: Knex;

  constructor({ db }: { db: Knex }) {
    this.db = db;
  }

  async deviceKeys(userId: string, deviceId: string, trx?: Queryable): Promise<StoredDeviceKeys | undefined> {
    const row = (await (trx ?? this.db)('e2ee_device_keys')
      .where({ user_id: userId, device_id: deviceId })
      .first()) as DeviceKeysRow | undefined;
    return row ? toDeviceKeys(row) : undefined;
  }

  /** Device keys of a user's devices (all of them when `deviceIds` is empty). */
  async deviceKeysOf(
    userId: string,
    deviceIds: readonly string[],
    trx?: Queryable,
  ): Promise<StoredDeviceKeys[]> {
    const query = (trx ?? this.db)('e2ee_device_keys').where({ user_id: userId });
    if (deviceIds.length > 0) query.whereIn('device_id', [...deviceIds]);
    return ((await query) as DeviceKeysRow[]).map(toDeviceKeys);
  }

  async setDeviceKeys(
    userId: string,
    deviceId: string,
    ed25519Key: string,
    keys: Record<string, unknown>,
    trx?: Queryable,
  ): Promise<void> {
    await (trx ?? this.db)('e2ee_device_keys')
      .insert({ user_id: userId, device_id: deviceId, ed25519_key: ed25519Key, key_json: toJsonColumn(keys) })
      .onConflict(['user_id', 'device_id'])
      .merge(['ed25519_key', 'key_json']);
  }

  /** Unclaimed one-time keys of a device with these ids, as stored (to spot re-uploads). */
  async existingOneTimeKeys(
    userId: string,
    deviceId: string,
    keyIds: readonly { algorithm: string; keyId: string }[],
    trx?: Queryable,
  ): Promise<Map<string, unknown>> {
    const out = new Map<string, unknown>();
    const db = trx ?? this.db;
    for (let i = 0; i < keyIds.length; i += 200) {
      const chunk = keyIds.slice(i, i + 200);
      const rows = (await db('e2ee_one_time_keys')
        .select('algorithm', 'key_id', 'key_json')
        .where({ user_id: userId, device_id: deviceId })
        .whereIn(
          'key_id',
          chunk.map((k) => k.keyId),
        )) as { algorithm: string; key_id: string; key_json: string }[];
      for (const r of rows) out.set(`${r.algorithm}:${r.key_id}`, fromJsonColumn(r.key_json));
    }
    return out;
  }

  async addOneTimeKeys(
    userId: string,
    deviceId: string,
    keys: readonly NewKey[],
    trx?: Queryable,
  ): Promise<void> {
    const now = Date.now();
    const rows = keys.map((k) => ({
      user_id: userId,
      device_id: deviceId,
      algorithm: k.algorithm,
      key_id: k.keyId,
      key_json: toJsonColumn(k.key),
      uploaded_ts: now,
    }));
    const db = trx ?? this.db;
    for (let i = 0; i < rows.length; i += 100) await db('e2ee_one_time_keys').insert(rows.slice(i, i + 100));
  }

  async oneTimeKeyCounts(userId: string, deviceId: string, trx?: Queryable): Promise<Record<string, number>> {
    const rows: { algorithm: string; n: string | number }[] = await (trx ?? this.db)('e2ee_one_time_keys')
      .select('algorithm')
      .count<{ algorithm: string; n: string | number }[]>({ n: '*' })
      .where({ user_id: userId, device_id: deviceId })
      .groupBy('algorithm');
    return Object.fromEntries(rows.map((r) => [r.algorithm, toNumber(r.n)]));
  }

  /**
   * Takes the oldest one-time key of `algorithm` for a device, or undefined when none is left. The key is
   * deleted by primary key and only the caller whose DELETE removed the row gets it: on PostgreSQL a
   * concurrent DELETE of the same row waits for the first and then finds nothing, on SQLite writers are
   * serialised; the loser simply picks the next key.
   */
  async claimOneTimeKey(
    userId: string,
    deviceId: string,
    algorithm: string,
  ): Promise<ClaimedKey | undefined> {
    for (let attempt = 0; attempt < CLAIM_ATTEMPTS; attempt++) {
      const row = (await this.db('e2ee_one_time_keys')
        .select('key_id', 'key_json')
        .where({ user_id: userId, device_id: deviceId, algorithm })
        .orderBy('uploaded_ts')
        .orderBy('key_id')
        .first()) as { key_id: string; key_json: string } | undefined;
      if (!row) return undefined;
      const deleted = await this.db('e2ee_one_time_keys')
        .where({ user_id: userId, device_id: deviceId, algorithm, key_id: row.key_id })
        .delete();
      if (deleted === 1) return { algorithm, keyId: row.key_id, key: fromJsonColumn(row.key_json) };
    }
    return undefined;
  }

  /** Replaces the fallback key of each algorithm; re-uploading the same key keeps its used flag. */
  async setFallbackKeys(
    userId: string,
    deviceId: string,
    keys: readonly NewKey[],
    trx?: Queryable,
  ): Promise<void> {
    const db = trx ?? this.db;
    for (const k of keys) {
      const json = toJsonColumn(k.key);
      const existing = (await db('e2ee_fallback_keys')
        .where({ user_id: userId, device_id: deviceId, algorithm: k.algorithm })
        .first()) as { key_id: string; key_json: string } | undefined;
      if (existing && existing.key_id === k.keyId && existing.key_json === json) continue;
      await db('e2ee_fallback_keys')
        .insert({
          user_id: userId,
          device_id: deviceId,
          algorithm: k.algorithm,
          key_id: k.keyId,
          key_json: json,
          used: false,
        })
        .onConflict(['user_id', 'device_id', 'algorithm'])
        .merge(['key_id', 'key_json', 'used']);
    }
  }

  /** The fallback key of `algorithm`, marked used. */
  async useFallbackKey(userId: string, deviceId: string, algorithm: string): Promise<ClaimedKey | undefined> {
    const where = { user_id: userId, device_id: deviceId, algorithm };
    const row = (await this.db('e2ee_fallback_keys').where(where).first()) as
      { key_id: string; key_json: string } | undefined;
    if (!row) return undefined;
    await this.db('e2ee_fallback_keys')
      .where({ ...where, key_id: row.key_id })
      .update({ used: true });
    return { algorithm, keyId: row.key_id, key: fromJsonColumn(row.key_json) };
  }

  async unusedFallbackKeyTypes(userId: string, deviceId: string, trx?: Queryable): Promise<string[]> {
    const rows = (await (trx ?? this.db)('e2ee_fallback_keys')
      .select('algorithm')
      .where({ user_id: userId, device_id: deviceId, used: false })
      .orderBy('algorithm')) as { algorithm: string }[];
    return rows.map((r) => r.algorithm);
  }

  /** Removes every key of these devices; returns whether any device had identity keys. */
  async deleteDevices(userId: string, deviceIds: readonly string[], trx?: Queryable): Promise<boolean> {
    if (deviceIds.length === 0) return false;
    const db = trx ?? this.db;
    const ids = [...deviceIds];
    const had = await db('e2ee_device_keys').where({ user_id: userId }).whereIn('device_id', ids).delete();
    await db('e2ee_one_time_keys').where({ user_id: userId }).whereIn('device_id', ids).delete();
    await db('e2ee_fallback_keys').where({ user_id: userId }).whereIn('device_id', ids).delete();
    return had > 0;
  }
}

function toDeviceKeys(row: DeviceKeysRow): StoredDeviceKeys {
  return {
    deviceId: row.device_id,
    ed25519Key: row.ed25519_key,
    keys: fromJsonColumn<Record<string, unknown>>(row.key_json) ?? {},
  };
}
