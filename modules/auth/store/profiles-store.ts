import type { Knex } from 'knex';
import type { Queryable } from '../../../core/storage/transaction.js';

/** `auth_profiles`: one row per (user, field), the value as JSON text. */
export class ProfilesStore {
  constructor(private readonly db: Knex) {}

  async get(userId: string, trx: Queryable = this.db): Promise<Record<string, unknown>> {
    const rows = (await trx('auth_profiles').where({ user_id: userId }).orderBy('field')) as {
      field: string;
      value: string;
    }[];
    const profile: Record<string, unknown> = {};
    for (const r of rows) profile[r.field] = JSON.parse(r.value) as unknown;
    return profile;
  }

  async set(userId: string, field: string, value: unknown, trx: Queryable = this.db): Promise<void> {
    await trx('auth_profiles')
      .insert({ user_id: userId, field, value: JSON.stringify(value) })
      .onConflict(['user_id', 'field'])
      .merge(['value']);
  }

  async delete(userId: string, fields: readonly string[] | null, trx: Queryable = this.db): Promise<void> {
    let q = trx('auth_profiles').where({ user_id: userId });
    if (fields) q = q.whereIn('field', fields);
    await q.delete();
  }
}
