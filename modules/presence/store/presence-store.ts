/** The only code that touches the presence tables. */
import type { Knex } from 'knex';
import { toNumber } from '../../../core/storage/dialect.js';
import { withTransaction, type Queryable } from '../../../core/storage/transaction.js';

export type PresenceState = 'online' | 'unavailable' | 'offline';

export interface PresenceRow {
  readonly userId: string;
  readonly state: PresenceState;
  readonly statusMsg: string | null;
  readonly lastActiveTs: number;
  readonly lastSyncTs: number;
  readonly position: number;
}

interface RawRow {
  user_id: string;
  state: string;
  status_msg: string | null;
  last_active_ts: string | number;
  last_sync_ts: string | number;
  stream_position: string | number;
}

const toRow = (r: RawRow): PresenceRow => ({
  userId: r.user_id,
  state: r.state as PresenceState,
  statusMsg: r.status_msg,
  lastActiveTs: toNumber(r.last_active_ts),
  lastSyncTs: toNumber(r.last_sync_ts),
  position: toNumber(r.stream_position),
});

/** Chunk size of `IN (...)` lists: well under SQLite's bound-parameter limit. */
const CHUNK = 500;

export class PresenceStore {
  private readonly db: Knex;

  constructor({ db }: { db: Knex }) {
    this.db = db;
  }

  async get(userId: string, trx?: Queryable): Promise<PresenceRow | undefined> {
    const row = (await (trx ?? this.db)('presence_states').where({ user_id: userId }).first()) as
      RawRow | undefined;
    return row ? toRow(row) : undefined;
  }

  /** Writes a user's presence at a fresh stream position (a change other users will see). */
  async put(row: Omit<PresenceRow, 'position'>, trx?: Queryable): Promise<number> {
    return withTransaction(trx ?? this.db, async (tx) => {
      await tx('presence_stream').where({ id: 1 }).increment('position', 1);
      const counter = (await tx('presence_stream').where({ id: 1 }).first()) as { position: string | number };
      const position = toNumber(counter.position);
      await tx('presence_states')
        .insert({
          user_id: row.userId,
          state: row.state,
          status_msg: row.statusMsg,
          last_active_ts: row.lastActiveTs,
          last_sync_ts: row.lastSyncTs,
          stream_position: position,
        })
        .onConflict('user_id')
        .merge(['state', 'status_msg', 'last_active_ts', 'last_sync_ts', 'stream_position']);
      return position;
    });
  }

  /** Records that the user synced, without a new position (nobody else needs to hear of it). */
  async touchSync(userId: string, ts: number, trx?: Queryable): Promise<void> {
    await (trx ?? this.db)('presence_states').where({ user_id: userId }).update({ last_sync_ts: ts });
  }

  /** Rows that changed in `(from, to]`. */
  async changedIn(from: number, to: number, trx?: Queryable): Promise<PresenceRow[]> {
    const rows = (await (trx ?? this.db)('presence_states')
      .where('stream_position', '>', from)
      .where('stream_position', '<=', to)
      .orderBy('stream_position')) as RawRow[];
    return rows.map(toRow);
  }

  async getMany(userIds: readonly string[], trx?: Queryable): Promise<PresenceRow[]> {
    const out: PresenceRow[] = [];
    for (let i = 0; i < userIds.length; i += CHUNK) {
      const rows = (await (trx ?? this.db)('presence_states').whereIn(
        'user_id',
        userIds.slice(i, i + CHUNK),
      )) as RawRow[];
      out.push(...rows.map(toRow));
    }
    return out;
  }

  /** Users whose state is not offline (candidates for the idle and offline timeouts). */
  async notOffline(trx?: Queryable): Promise<PresenceRow[]> {
    const rows = (await (trx ?? this.db)('presence_states').whereNot('state', 'offline')) as RawRow[];
    return rows.map(toRow);
  }

  async currentPosition(trx?: Queryable): Promise<number> {
    const row = (await (trx ?? this.db)('presence_stream').where({ id: 1 }).first()) as
      { position: string | number } | undefined;
    return toNumber(row?.position);
  }
}
