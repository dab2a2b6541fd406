import type { Knex } from 'knex';
import { toNumber } from '../../../core/storage/dialect.js';
import type { Queryable } from '../../../core/storage/transaction.js';

export interface UserRow {
  readonly userId: string;
  readonly passwordHash: string | null;
  readonly admin: boolean;
  readonly isGuest: boolean;
  readonly deactivated: boolean;
  readonly shadowBanned: boolean;
  readonly userType: string | null;
  readonly creationTs: number;
}

interface RawUser {
  user_id: string;
  password_hash: string | null;
  admin: boolean | number;
  is_guest: boolean | number;
  deactivated: boolean | number;
  shadow_banned: boolean | number;
  user_type: string | null;
  creation_ts: string | number;
}

const fromRaw = (r: RawUser): UserRow => ({
  userId: r.user_id,
  passwordHash: r.password_hash,
  admin: Boolean(r.admin),
  isGuest: Boolean(r.is_guest),
  deactivated: Boolean(r.deactivated),
  shadowBanned: Boolean(r.shadow_banned),
  userType: r.user_type,
  creationTs: toNumber(r.creation_ts),
});

/** `auth_users`: accounts, kept after deactivation so an id is never handed out twice. */
export class UsersStore {
  constructor(private readonly db: Knex) {}

  async insert(
    user: Omit<UserRow, 'deactivated' | 'shadowBanned'> & { shadowBanned?: boolean },
    trx: Queryable = this.db,
  ): Promise<void> {
    await trx('auth_users').insert({
      user_id: user.userId,
      password_hash: user.passwordHash,
      admin: user.admin,
      is_guest: user.isGuest,
      deactivated: false,
      shadow_banned: user.shadowBanned ?? false,
      user_type: user.userType,
      creation_ts: user.creationTs,
    });
  }

  async get(userId: string, trx: Queryable = this.db): Promise<UserRow | undefined> {
    const row = (await trx('auth_users').where({ user_id: userId }).first()) as RawUser | undefined;
    return row ? fromRaw(row) : undefined;
  }

  /** Exact match first; then a case-insensitive one (ids registered before lower-casing was enforced). */
  async findForLogin(userId: string, trx: Queryable = this.db): Promise<UserRow | undefined> {
    const exact = await this.get(userId, trx);
    if (exact) return exact;
    const rows = (await trx('auth_users')
      .whereRaw('lower(user_id) = ?', [userId.toLowerCase()])
      .limit(2)) as RawUser[];
    return rows.length === 1 && rows[0] ? fromRaw(rows[0]) : undefined;
  }

  async count(trx: Queryable = this.db): Promise<number> {
    const row = (await trx('auth_users').count({ n: '*' }).first()) as { n: string | number } | undefined;
    return toNumber(row?.n);
  }

  async setPasswordHash(userId: string, hash: string | null, trx: Queryable = this.db): Promise<void> {
    await trx('auth_users').where({ user_id: userId }).update({ password_hash: hash });
  }

  async setAdmin(userId: string, admin: boolean, trx: Queryable = this.db): Promise<void> {
    await trx('auth_users').where({ user_id: userId }).update({ admin });
  }

  async markDeactivated(userId: string, trx: Queryable = this.db): Promise<void> {
    await trx('auth_users').where({ user_id: userId }).update({ deactivated: true, password_hash: null });
  }
}
