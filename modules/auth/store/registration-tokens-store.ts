import type { Knex } from 'knex';
import { toNumber } from '../../../core/storage/dialect.js';
import type { Queryable } from '../../../core/storage/transaction.js';

/** A registration token as Synapse's admin API shows it. */
export interface RegistrationTokenRow {
  readonly token: string;
  readonly uses_allowed: number | null;
  readonly pending: number;
  readonly completed: number;
  readonly expiry_time: number | null;
}

interface RawToken {
  token: string;
  uses_allowed: number | string | null;
  pending: number | string;
  completed: number | string;
  expiry_time: number | string | null;
}

const fromRaw = (r: RawToken): RegistrationTokenRow => ({
  token: r.token,
  uses_allowed: r.uses_allowed === null ? null : toNumber(r.uses_allowed),
  pending: toNumber(r.pending),
  completed: toNumber(r.completed),
  expiry_time: r.expiry_time === null ? null : toNumber(r.expiry_time),
});

/** `auth_registration_tokens`. */
export class RegistrationTokensStore {
  constructor(private readonly db: Knex) {}

  async list(trx: Queryable = this.db): Promise<RegistrationTokenRow[]> {
    return ((await trx('auth_registration_tokens').orderBy('token')) as RawToken[]).map(fromRaw);
  }

  async get(token: string, trx: Queryable = this.db): Promise<RegistrationTokenRow | undefined> {
    const r = (await trx('auth_registration_tokens').where({ token }).first()) as RawToken | undefined;
    return r ? fromRaw(r) : undefined;
  }

  async insert(
    t: { token: string; uses_allowed: number | null; expiry_time: number | null },
    trx: Queryable = this.db,
  ): Promise<void> {
    await trx('auth_registration_tokens').insert({ ...t, pending: 0, completed: 0 });
  }

  async update(
    token: string,
    changes: { uses_allowed?: number | null; expiry_time?: number | null },
    trx: Queryable = this.db,
  ): Promise<boolean> {
    if (Object.keys(changes).length === 0) return (await this.get(token, trx)) !== undefined;
    return (await trx('auth_registration_tokens').where({ token }).update(changes)) > 0;
  }

  async delete(token: string, trx: Queryable = this.db): Promise<boolean> {
    return (await trx('auth_registration_tokens').where({ token }).delete()) > 0;
  }

  async addPending(token: string, delta: number, trx: Queryable = this.db): Promise<void> {
    await trx('auth_registration_tokens').where({ token }).increment('pending', delta);
  }

  /** A pending use becomes a completed one. */
  async completePending(token: string, trx: Queryable = this.db): Promise<void> {
    await trx('auth_registration_tokens')
      .where({ token })
      .update({
        pending: trx.raw('CASE WHEN pending > 0 THEN pending - 1 ELSE 0 END'),
        completed: trx.raw('completed + 1'),
      });
  }
}
