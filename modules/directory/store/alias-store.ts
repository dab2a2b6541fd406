/** The only code that touches `directory_room_aliases`. */
import type { Cradle } from '../../../core/container.js';
import { isUniqueViolation } from '../../../core/storage/errors.js';
import type { Queryable } from '../../../core/storage/transaction.js';

export interface AliasRow {
  readonly roomAlias: string;
  readonly roomId: string;
  readonly creator: string;
  readonly createdTs: number;
}

interface Raw {
  room_alias: string;
  room_id: string;
  creator: string;
  created_ts: number | string;
}

const TABLE = 'directory_room_aliases';

function fromRaw(r: Raw): AliasRow {
  return { roomAlias: r.room_alias, roomId: r.room_id, creator: r.creator, createdTs: Number(r.created_ts) };
}

export class AliasStore {
  private readonly db: Cradle['db'];

  constructor({ db }: Pick<Cradle, 'db'>) {
    this.db = db;
  }

  /** Inserts the alias; false when it is already taken. */
  async create(row: AliasRow, trx?: Queryable): Promise<boolean> {
    try {
      await (trx ?? this.db)<Raw>(TABLE).insert({
        room_alias: row.roomAlias,
        room_id: row.roomId,
        creator: row.creator,
        created_ts: row.createdTs,
      });
      return true;
    } catch (err) {
      if (isUniqueViolation(err)) return false;
      throw err;
    }
  }

  async get(roomAlias: string, trx?: Queryable): Promise<AliasRow | undefined> {
    const r = await (trx ?? this.db)<Raw>(TABLE).where({ room_alias: roomAlias }).first();
    return r ? fromRaw(r) : undefined;
  }

  async delete(roomAlias: string, trx?: Queryable): Promise<boolean> {
    return (await (trx ?? this.db)<Raw>(TABLE).where({ room_alias: roomAlias }).delete()) > 0;
  }

  /** Points every alias of `fromRoomId` at `toRoomId` (room upgrades). */
  async moveAliases(fromRoomId: string, toRoomId: string, trx?: Queryable): Promise<number> {
    return (trx ?? this.db)<Raw>(TABLE).where({ room_id: fromRoomId }).update({ room_id: toRoomId });
  }

  /** The aliases of a room, oldest first. */
  async aliasesOfRoom(roomId: string, trx?: Queryable): Promise<string[]> {
    const rows = await (trx ?? this.db)<Raw>(TABLE)
      .where({ room_id: roomId })
      .orderBy([{ column: 'created_ts' }, { column: 'room_alias' }]);
    return rows.map((r) => r.room_alias);
  }

  /** Aliases of many rooms at once (public rooms search). */
  async aliasesOfRooms(roomIds: readonly string[], trx?: Queryable): Promise<Map<string, string[]>> {
    const out = new Map<string, string[]>();
    if (roomIds.length === 0) return out;
    const rows = await (trx ?? this.db)<Raw>(TABLE)
      .whereIn('room_id', [...roomIds])
      .orderBy([{ column: 'created_ts' }, { column: 'room_alias' }]);
    for (const r of rows) out.set(r.room_id, [...(out.get(r.room_id) ?? []), r.room_alias]);
    return out;
  }
}
