/** The only code that touches the device_lists stream: who changed (or joined or left a room) at which position. */
import type { Knex } from 'knex';
import { toNumber } from '../../../core/storage/dialect.js';
import { withTransaction, type Queryable } from '../../../core/storage/transaction.js';

export type DeviceListChangeKind = 'device' | 'self' | 'join' | 'leave';

export interface DeviceListChange {
  readonly kind: DeviceListChangeKind;
  readonly userId: string;
  readonly roomId?: string;
}

export interface DeviceListRow extends DeviceListChange {
  readonly position: number;
}

interface Row {
  position: string | number;
  kind: string;
  user_id: string;
  room_id: string | null;
}

/** Bound on one IN list (SQLite's variable limit is far above, PostgreSQL's too; keeps statements small). */
const CHUNK = 500;

export class DeviceListsStore {
  private readonly db: Knex;

  constructor({ db }: { db: Knex }) {
    this.db = db;
  }

  /**
   * Records changes at one fresh position. The counter row is incremented inside the transaction, so its
   * row lock makes concurrent writers commit in position order and a reader never sees a position whose
   * rows are still uncommitted.
   */
  async record(changes: readonly DeviceListChange[], trx?: Queryable): Promise<number> {
    return withTransaction(trx ?? this.db, async (tx) => {
      await tx('e2ee_device_list_stream').where({ id: 1 }).increment('position', 1);
      const row = (await tx('e2ee_device_list_stream').where({ id: 1 }).first()) as
        { position: string | number } | undefined;
      const position = toNumber(row?.position);
      const rows = changes.map((c) => ({
        position,
        kind: c.kind,
        user_id: c.userId,
        room_id: c.roomId ?? null,
      }));
      for (let i = 0; i < rows.length; i += 200)
        await tx('e2ee_device_list_changes').insert(rows.slice(i, i + 200));
      return position;
    });
  }

  async currentPosition(trx?: Queryable): Promise<number> {
    const row = (await (trx ?? this.db)('e2ee_device_list_stream').where({ id: 1 }).first()) as
      { position: string | number } | undefined;
    return toNumber(row?.position);
  }

  /** Which of `userIds` had a `device` change in `(from, to]` (and `self` changes of `self`). */
  async usersWithDeviceChanges(
    userIds: readonly string[],
    self: string,
    from: number,
    to: number,
  ): Promise<Set<string>> {
    const out = new Set<string>();
    for (let i = 0; i < userIds.length; i += CHUNK) {
      const rows = (await this.db('e2ee_device_list_changes')
        .distinct('user_id')
        .where('kind', 'device')
        .whereIn('user_id', userIds.slice(i, i + CHUNK))
        .andWhere('position', '>', from)
        .andWhere('position', '<=', to)) as { user_id: string }[];
      for (const r of rows) out.add(r.user_id);
    }
    const own: unknown = await this.db('e2ee_device_list_changes')
      .first('position')
      .where({ kind: 'self', user_id: self })
      .andWhere('position', '>', from)
      .andWhere('position', '<=', to);
    if (own) out.add(self);
    return out;
  }

  /** Join and leave rows in `(from, to]` in `roomIds` or of `userId` itself. */
  async membershipRows(
    roomIds: readonly string[],
    userId: string,
    from: number,
    to: number,
  ): Promise<DeviceListRow[]> {
    const out: Row[] = [];
    const window = (q: Knex.QueryBuilder) =>
      q.whereIn('kind', ['join', 'leave']).andWhere('position', '>', from).andWhere('position', '<=', to);
    out.push(...((await window(this.db('e2ee_device_list_changes').where('user_id', userId))) as Row[]));
    for (let i = 0; i < roomIds.length; i += CHUNK) {
      out.push(
        ...((await window(
          this.db('e2ee_device_list_changes').whereIn('room_id', roomIds.slice(i, i + CHUNK)),
        )) as Row[]),
      );
    }
    return out
      .map((r) => ({
        position: toNumber(r.position),
        kind: r.kind as DeviceListChangeKind,
        userId: r.user_id,
        ...(r.room_id !== null ? { roomId: r.room_id } : {}),
      }))
      .sort((a, b) => a.position - b.position);
  }
}
