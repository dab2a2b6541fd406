/** The only code that touches the federation tables: the server key cache and our own retired keys. */
import type { Knex } from 'knex';
import { toNumber } from '../../../core/storage/dialect.js';
import { withTransaction, type Queryable } from '../../../core/storage/transaction.js';

export interface StoredServerKey {
  readonly serverName: string;
  readonly keyId: string;
  /** Unpadded base64. */
  readonly verifyKey: string;
  /** The last timestamp the key may be used at (ms). */
  readonly validUntilTs: number;
  /** Listed under old_verify_keys. */
  readonly expired: boolean;
  readonly fetchedFrom: string;
  readonly fetchedTs: number;
}

export interface StoredKeyJson {
  readonly keyId: string;
  readonly validUntilTs: number;
  readonly keyJson: string;
}

export interface OldSigningKey {
  readonly keyId: string;
  readonly verifyKey: string;
  readonly expiredTs: number;
}

interface KeyRow {
  server_name: string;
  key_id: string;
  verify_key: string;
  valid_until_ts: string | number;
  expired: boolean | number;
  fetched_from: string;
  fetched_ts: string | number;
}

export class FederationStore {
  private readonly db: Knex;

  constructor({ db }: { db: Knex }) {
    this.db = db;
  }

  async serverKeys(serverName: string, trx?: Queryable): Promise<StoredServerKey[]> {
    const rows = (await (trx ?? this.db)('federation_server_keys').where({
      server_name: serverName,
    })) as KeyRow[];
    return rows.map((r) => ({
      serverName: r.server_name,
      keyId: r.key_id,
      verifyKey: r.verify_key,
      validUntilTs: toNumber(r.valid_until_ts),
      expired: Boolean(r.expired),
      fetchedFrom: r.fetched_from,
      fetchedTs: toNumber(r.fetched_ts),
    }));
  }

  /**
   * Stores the keys of one key response and the response itself, in one transaction. A key already known
   * with a later validity keeps it (an older response, e.g. from a notary's cache, never shortens it), and
   * a key's JSON is replaced only by a response valid for longer.
   */
  async storeKeyResponse(
    keys: readonly StoredServerKey[],
    json: { serverName: string; validUntilTs: number; keyJson: string },
    trx?: Queryable,
  ): Promise<void> {
    await withTransaction(trx ?? this.db, async (tx) => {
      for (const key of keys) {
        const existing = (await tx('federation_server_keys')
          .where({ server_name: key.serverName, key_id: key.keyId })
          .first()) as KeyRow | undefined;
        const row = {
          server_name: key.serverName,
          key_id: key.keyId,
          verify_key: key.verifyKey,
          valid_until_ts: key.validUntilTs,
          expired: key.expired,
          fetched_from: key.fetchedFrom,
          fetched_ts: key.fetchedTs,
        };
        if (!existing) await tx('federation_server_keys').insert(row);
        else if (
          toNumber(existing.valid_until_ts) <= key.validUntilTs ||
          existing.verify_key !== key.verifyKey
        ) {
          await tx('federation_server_keys')
            .where({ server_name: key.serverName, key_id: key.keyId })
            .update(row);
        }
        const current = (await tx('federation_server_key_json')
          .where({ server_name: json.serverName, key_id: key.keyId })
          .first()) as { valid_until_ts: string | number } | undefined;
        const jsonRow = {
          server_name: json.serverName,
          key_id: key.keyId,
          valid_until_ts: json.validUntilTs,
          key_json: json.keyJson,
        };
        if (!current) await tx('federation_server_key_json').insert(jsonRow);
        else if (toNumber(current.valid_until_ts) <= json.validUntilTs) {
          await tx('federation_server_key_json')
            .where({ server_name: json.serverName, key_id: key.keyId })
            .update(jsonRow);
        }
      }
    });
  }

  /** The stored key responses of a server (one per key it has listed; the same response may repeat). */
  async keyJson(serverName: string): Promise<StoredKeyJson[]> {
    const rows = (await this.db('federation_server_key_json').where({ server_name: serverName })) as {
      key_id: string;
      valid_until_ts: string | number;
      key_json: string;
    }[];
    return rows.map((r) => ({
      keyId: r.key_id,
      validUntilTs: toNumber(r.valid_until_ts),
      keyJson: r.key_json,
    }));
  }

  async oldSigningKeys(): Promise<OldSigningKey[]> {
    const rows = (await this.db('federation_old_signing_keys').orderBy('key_id')) as {
      key_id: string;
      verify_key: string;
      expired_ts: string | number;
    }[];
    return rows.map((r) => ({ keyId: r.key_id, verifyKey: r.verify_key, expiredTs: toNumber(r.expired_ts) }));
  }

  /** Records a key this server stopped using (the rotation command); an existing record is kept. */
  async addOldSigningKey(key: OldSigningKey): Promise<void> {
    await this.db('federation_old_signing_keys')
      .insert({ key_id: key.keyId, verify_key: key.verifyKey, expired_ts: key.expiredTs })
      .onConflict('key_id')
      .ignore();
  }
}
