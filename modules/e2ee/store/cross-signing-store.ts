/** The only code that touches cross-signing keys and the signatures uploaded on keys. */
import type { Knex } from 'knex';
import { fromJsonColumn, toJsonColumn } from '../../../core/storage/dialect.js';
import type { Queryable } from '../../../core/storage/transaction.js';

export type CrossSigningKeyType = 'master' | 'self_signing' | 'user_signing';

export interface StoredCrossSigningKey {
  readonly userId: string;
  readonly type: CrossSigningKeyType;
  readonly publicKey: string;
  readonly key: Record<string, unknown>;
}

export interface StoredSignature {
  readonly signerUserId: string;
  readonly signerKeyId: string;
  readonly targetUserId: string;
  readonly targetKeyId: string;
  readonly signature: string;
}

interface KeyRow {
  user_id: string;
  key_type: string;
  public_key: string;
  key_json: string;
}

interface SignatureRow {
  signer_user_id: string;
  signer_key_id: string;
  target_user_id: string;
  target_key_id: string;
  signature: string;
}

export class CrossSigningStore {
  private readonly db: Knex;

  constructor({ db }: { db: Knex }) {
    this.db = db;
  }

  async keysOf(userId: string, trx?: Queryable): Promise<Map<CrossSigningKeyType, StoredCrossSigningKey>> {
    const rows = (await (trx ?? this.db)('e2ee_cross_signing_keys').where({ user_id: userId })) as KeyRow[];
    return new Map(rows.map((r) => [r.key_type as CrossSigningKeyType, toKey(r)]));
  }

  async setKey(
    userId: string,
    type: CrossSigningKeyType,
    publicKey: string,
    key: Record<string, unknown>,
    trx?: Queryable,
  ): Promise<void> {
    await (trx ?? this.db)('e2ee_cross_signing_keys')
      .insert({ user_id: userId, key_type: type, public_key: publicKey, key_json: toJsonColumn(key) })
      .onConflict(['user_id', 'key_type'])
      .merge(['public_key', 'key_json']);
  }

  async addSignatures(signatures: readonly StoredSignature[], trx?: Queryable): Promise<void> {
    const db = trx ?? this.db;
    for (const s of signatures) {
      await db('e2ee_signatures')
        .insert({
          signer_user_id: s.signerUserId,
          signer_key_id: s.signerKeyId,
          target_user_id: s.targetUserId,
          target_key_id: s.targetKeyId,
          signature: s.signature,
        })
        .onConflict(['target_user_id', 'target_key_id', 'signer_user_id', 'signer_key_id'])
        .merge(['signature']);
    }
  }

  /** Signatures on the keys (device ids or public keys) of `targetUserId`. */
  async signaturesOn(
    targetUserId: string,
    targetKeyIds: readonly string[],
    trx?: Queryable,
  ): Promise<StoredSignature[]> {
    if (targetKeyIds.length === 0) return [];
    const rows = (await (trx ?? this.db)('e2ee_signatures')
      .where({ target_user_id: targetUserId })
      .whereIn('target_key_id', [...targetKeyIds])) as SignatureRow[];
    return rows.map((r) => ({
      signerUserId: r.signer_user_id,
      signerKeyId: r.signer_key_id,
      targetUserId: r.target_user_id,
      targetKeyId: r.target_key_id,
      signature: r.signature,
    }));
  }

  async deleteSignaturesOn(
    targetUserId: string,
    targetKeyIds: readonly string[],
    trx?: Queryable,
  ): Promise<void> {
    if (targetKeyIds.length === 0) return;
    await (trx ?? this.db)('e2ee_signatures')
      .where({ target_user_id: targetUserId })
      .whereIn('target_key_id', [...targetKeyIds])
      .delete();
  }
}

function toKey(r: KeyRow): StoredCrossSigningKey {
  return {
    userId: r.user_id,
    type: r.key_type as CrossSigningKeyType,
    publicKey: r.public_key,
    key: fromJsonColumn<Record<string, unknown>>(r.key_json) ?? {},
  };
}
