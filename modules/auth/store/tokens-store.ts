import type { Knex } from 'knex';
import { toNumber } from '../../../core/storage/dialect.js';
import type { Queryable } from '../../../core/storage/transaction.js';

export interface AccessTokenRow {
  readonly id: string;
  readonly userId: string;
  readonly deviceId: string | null;
  readonly validUntilMs: number | null;
  readonly refreshTokenId: string | null;
  readonly used: boolean;
}

export interface RefreshTokenRow {
  readonly id: string;
  readonly userId: string;
  readonly deviceId: string;
  readonly nextTokenId: string | null;
  readonly expiryTs: number | null;
  readonly ultimateSessionExpiryTs: number | null;
}

interface RawAccess {
  id: string | number;
  user_id: string;
  device_id: string | null;
  valid_until_ms: string | number | null;
  refresh_token_id: string | number | null;
  used: boolean | number;
}

interface RawRefresh {
  id: string | number;
  user_id: string;
  device_id: string;
  next_token_id: string | number | null;
  expiry_ts: string | number | null;
  ultimate_session_expiry_ts: string | number | null;
}

const optionalNumber = (v: string | number | null): number | null => (v === null ? null : toNumber(v));
const optionalId = (v: string | number | null): string | null => (v === null ? null : String(v));

const accessFromRaw = (r: RawAccess): AccessTokenRow => ({
  id: String(r.id),
  userId: r.user_id,
  deviceId: r.device_id,
  validUntilMs: optionalNumber(r.valid_until_ms),
  refreshTokenId: optionalId(r.refresh_token_id),
  used: Boolean(r.used),
});

const refreshFromRaw = (r: RawRefresh): RefreshTokenRow => ({
  id: String(r.id),
  userId: r.user_id,
  deviceId: r.device_id,
  nextTokenId: optionalId(r.next_token_id),
  expiryTs: optionalNumber(r.expiry_ts),
  ultimateSessionExpiryTs: optionalNumber(r.ultimate_session_expiry_ts),
});

/** `auth_access_tokens`, `auth_refresh_tokens`, `auth_login_tokens`: only sha256 hashes are stored. */
export class TokensStore {
  constructor(private readonly db: Knex) {}

  async insertAccessToken(
    t: {
      tokenHash: string;
      userId: string;
      deviceId: string | null;
      validUntilMs: number | null;
      refreshTokenId: string | null;
      now: number;
    },
    trx: Queryable = this.db,
  ): Promise<string> {
    const [row] = (await trx('auth_access_tokens')
      .insert({
        token_hash: t.tokenHash,
        user_id: t.userId,
        device_id: t.deviceId,
        valid_until_ms: t.validUntilMs,
        refresh_token_id: t.refreshTokenId,
        used: false,
        creation_ts: t.now,
      })
      .returning('id')) as unknown as ({ id: string | number } | string | number)[];
    return String(typeof row === 'object' ? row.id : row);
  }

  async accessTokenByHash(tokenHash: string, trx: Queryable = this.db): Promise<AccessTokenRow | undefined> {
    const row = (await trx('auth_access_tokens').where({ token_hash: tokenHash }).first()) as
      RawAccess | undefined;
    return row ? accessFromRaw(row) : undefined;
  }

  async markAccessTokenUsed(id: string, trx: Queryable = this.db): Promise<void> {
    await trx('auth_access_tokens').where({ id }).update({ used: true });
  }

  /** Deletes access tokens by id; returns how many went. */
  async deleteAccessTokens(ids: readonly string[], trx: Queryable = this.db): Promise<number> {
    if (ids.length === 0) return 0;
    return trx('auth_access_tokens').whereIn('id', ids).delete();
  }

  /** Access tokens of a user, optionally only some devices, as (id, hash, device) for cache invalidation. */
  async accessTokensOf(
    userId: string,
    deviceIds: readonly string[] | null,
    trx: Queryable = this.db,
  ): Promise<{ id: string; tokenHash: string; deviceId: string | null }[]> {
    let q = trx('auth_access_tokens').where({ user_id: userId });
    if (deviceIds) q = q.whereIn('device_id', deviceIds);
    const rows = (await q.select('id', 'token_hash', 'device_id')) as unknown as {
      id: string | number;
      token_hash: string;
      device_id: string | null;
    }[];
    return rows.map((r) => ({ id: String(r.id), tokenHash: r.token_hash, deviceId: r.device_id }));
  }

  async insertRefreshToken(
    t: {
      tokenHash: string;
      userId: string;
      deviceId: string;
      expiryTs: number | null;
      ultimateSessionExpiryTs: number | null;
      now: number;
    },
    trx: Queryable = this.db,
  ): Promise<string> {
    const [row] = (await trx('auth_refresh_tokens')
      .insert({
        token_hash: t.tokenHash,
        user_id: t.userId,
        device_id: t.deviceId,
        expiry_ts: t.expiryTs,
        ultimate_session_expiry_ts: t.ultimateSessionExpiryTs,
        creation_ts: t.now,
      })
      .returning('id')) as unknown as ({ id: string | number } | string | number)[];
    return String(typeof row === 'object' ? row.id : row);
  }

  async refreshTokenByHash(
    tokenHash: string,
    trx: Queryable = this.db,
  ): Promise<RefreshTokenRow | undefined> {
    const row = (await trx('auth_refresh_tokens').where({ token_hash: tokenHash }).first()) as
      RawRefresh | undefined;
    return row ? refreshFromRaw(row) : undefined;
  }

  async setNextRefreshToken(id: string, nextId: string, trx: Queryable = this.db): Promise<void> {
    await trx('auth_refresh_tokens').where({ id }).update({ next_token_id: nextId });
  }

  /** The refresh token that was exchanged for `id` (its predecessor), if any. */
  async refreshTokenPredecessor(id: string, trx: Queryable = this.db): Promise<RefreshTokenRow | undefined> {
    const row = (await trx('auth_refresh_tokens').where({ next_token_id: id }).first()) as
      RawRefresh | undefined;
    return row ? refreshFromRaw(row) : undefined;
  }

  async deleteRefreshTokens(ids: readonly string[], trx: Queryable = this.db): Promise<void> {
    if (ids.length === 0) return;
    await trx('auth_refresh_tokens').whereIn('id', ids).delete();
  }

  async accessTokensOfRefreshToken(
    refreshTokenId: string,
    trx: Queryable = this.db,
  ): Promise<{ id: string; tokenHash: string }[]> {
    const rows = (await trx('auth_access_tokens')
      .where({ refresh_token_id: refreshTokenId })
      .select('id', 'token_hash')) as unknown as { id: string | number; token_hash: string }[];
    return rows.map((r) => ({ id: String(r.id), tokenHash: r.token_hash }));
  }

  async deleteRefreshTokensOf(
    userId: string,
    deviceIds: readonly string[] | null,
    trx: Queryable = this.db,
  ): Promise<void> {
    let q = trx('auth_refresh_tokens').where({ user_id: userId });
    if (deviceIds) q = q.whereIn('device_id', deviceIds);
    await q.delete();
  }

  async insertLoginToken(
    tokenHash: string,
    userId: string,
    expiryTs: number,
    trx: Queryable = this.db,
  ): Promise<void> {
    await trx('auth_login_tokens').insert({ token_hash: tokenHash, user_id: userId, expiry_ts: expiryTs });
  }

  /** Marks a valid, unused login token used and returns its user; undefined when unknown, used or expired. */
  async consumeLoginToken(
    tokenHash: string,
    now: number,
    trx: Queryable = this.db,
  ): Promise<string | undefined> {
    const row = (await trx('auth_login_tokens').where({ token_hash: tokenHash }).first()) as
      { user_id: string; expiry_ts: string | number; used_ts: string | number | null } | undefined;
    if (!row || row.used_ts !== null || toNumber(row.expiry_ts) < now) return undefined;
    const n = await trx('auth_login_tokens')
      .where({ token_hash: tokenHash })
      .whereNull('used_ts')
      .update({ used_ts: now });
    return n === 1 ? row.user_id : undefined;
  }

  async deleteExpiredLoginTokens(before: number, trx: Queryable = this.db): Promise<void> {
    await trx('auth_login_tokens').where('expiry_ts', '<', before).delete();
  }
}
