/** The only code that touches identity_proxy_user_threepids. */
import type { Cradle } from '../../../core/container.js';
import { toNumber } from '../../../core/storage/dialect.js';
import type { Queryable } from '../../../core/storage/transaction.js';

export interface UserThreepid {
  readonly userId: string;
  readonly medium: string;
  readonly address: string;
  readonly validatedAt: number;
  readonly addedAt: number;
}

interface Row {
  user_id: string;
  medium: string;
  address: string;
  validated_at: number | string;
  added_at: number | string;
}

const TABLE = 'identity_proxy_user_threepids';

const fromRow = (r: Row): UserThreepid => ({
  userId: r.user_id,
  medium: r.medium,
  address: r.address,
  validatedAt: toNumber(r.validated_at),
  addedAt: toNumber(r.added_at),
});

export class UserThreepidsStore {
  private readonly db: Cradle['db'];

  constructor({ db }: Pick<Cradle, 'db'>) {
    this.db = db;
  }

  async listForUser(userId: string, trx: Queryable = this.db): Promise<UserThreepid[]> {
    const rows: Row[] = await trx<Row>(TABLE)
      .where({ user_id: userId })
      .orderBy(['added_at', 'medium', 'address']);
    return rows.map(fromRow);
  }

  async find(medium: string, address: string, trx: Queryable = this.db): Promise<UserThreepid | undefined> {
    const row: Row | undefined = await trx<Row>(TABLE).where({ medium, address }).first();
    return row ? fromRow(row) : undefined;
  }

  /** Throws a unique violation when the 3PID is bound to any account (the primary key guarantees it). */
  async insert(t: UserThreepid, trx: Queryable = this.db): Promise<void> {
    await trx(TABLE).insert({
      user_id: t.userId,
      medium: t.medium,
      address: t.address,
      validated_at: t.validatedAt,
      added_at: t.addedAt,
    });
  }

  /** Removes one of the user's 3PIDs; returns whether it was theirs. */
  async delete(userId: string, medium: string, address: string, trx: Queryable = this.db): Promise<boolean> {
    return (await trx(TABLE).where({ user_id: userId, medium, address }).delete()) === 1;
  }

  async deleteAllForUser(userId: string, trx: Queryable = this.db): Promise<number> {
    return trx(TABLE).where({ user_id: userId }).delete();
  }
}
