/* eslint-disable @typescript-eslint/no-unnecessary-type-assertion -- knex rows are typed by assertion here, at the store boundary */
/** `rooms_memberships`: (room, user) → membership, its event and stream position, `forgotten`. */
import { toNumber } from '../../../core/storage/dialect.js';
import type { Sql } from '../../../core/storage/sql.js';
import type { Queryable } from '../../../core/storage/transaction.js';
import { RoomsTableStore } from './table-store.js';

export interface MembershipRow {
  readonly roomId: string;
  readonly userId: string;
  readonly membership: string;
  readonly eventId: string;
  readonly streamOrdering: number;
  readonly forgotten: boolean;
}

interface MembershipDbRow {
  room_id: string;
  user_id: string;
  membership: string;
  event_id: string;
  stream_ordering: number | string;
  forgotten: boolean | number;
}

function membershipFromRow(r: MembershipDbRow): MembershipRow {
  return {
    roomId: r.room_id,
    userId: r.user_id,
    membership: r.membership,
    eventId: r.event_id,
    streamOrdering: toNumber(r.stream_ordering),
    forgotten: r.forgotten === true || r.forgotten === 1,
  };
}

export class MembershipStore extends RoomsTableStore {
  async setMembership(
    roomId: string,
    userId: string,
    membership: string,
    eventId: string,
    streamOrdering: number,
    sql?: Sql,
  ): Promise<void> {
    await this.write(sql, (q) =>
      q.run(
        `INSERT INTO rooms_memberships (room_id, user_id, membership, event_id, stream_ordering, forgotten)
         VALUES (?, ?, ?, ?, ?, ?)
         ON CONFLICT (room_id, user_id) DO UPDATE SET membership = excluded.membership,
           event_id = excluded.event_id, stream_ordering = excluded.stream_ordering, forgotten = excluded.forgotten`,
        [roomId, userId, membership, eventId, streamOrdering, false],
      ),
    );
  }

  async getMembership(
    roomId: string,
    userId: string,
    trx: Queryable = this.db,
  ): Promise<MembershipRow | undefined> {
    const row = (await trx('rooms_memberships').where({ room_id: roomId, user_id: userId }).first()) as
      MembershipDbRow | undefined;
    return row ? membershipFromRow(row) : undefined;
  }

  /** Rooms where `userId` has one of `memberships` (every room they have a membership in when omitted). */
  async roomsOfUser(
    userId: string,
    memberships?: readonly string[],
    trx: Queryable = this.db,
  ): Promise<MembershipRow[]> {
    const q = trx('rooms_memberships').where({ user_id: userId });
    if (memberships) q.whereIn('membership', memberships);
    return ((await q) as MembershipDbRow[]).map(membershipFromRow);
  }

  async membersOfRoom(
    roomId: string,
    memberships?: readonly string[],
    trx: Queryable = this.db,
  ): Promise<MembershipRow[]> {
    const q = trx('rooms_memberships').where({ room_id: roomId });
    if (memberships) q.whereIn('membership', memberships);
    return ((await q.orderBy('user_id')) as MembershipDbRow[]).map(membershipFromRow);
  }

  async countMembers(
    roomIds: readonly string[],
    membership: string,
    trx: Queryable = this.db,
  ): Promise<Map<string, number>> {
    const out = new Map<string, number>();
    if (roomIds.length === 0) return out;
    const rows = (await trx('rooms_memberships')
      .whereIn('room_id', roomIds)
      .andWhere({ membership })
      .groupBy('room_id')
      .select('room_id')
      .count('* as n')) as { room_id: string; n: number | string }[];
    for (const r of rows) out.set(r.room_id, toNumber(r.n));
    return out;
  }

  /** Users sharing a joined room with `userId` (including themself when joined anywhere). */
  async usersSharingRoomWith(userId: string, trx: Queryable = this.db): Promise<string[]> {
    const rows = (await trx('rooms_memberships as a')
      .join('rooms_memberships as b', 'a.room_id', 'b.room_id')
      .where({ 'a.user_id': userId, 'a.membership': 'join', 'b.membership': 'join' })
      .distinct('b.user_id')) as { user_id: string }[];
    return rows.map((r) => r.user_id);
  }

  async setForgotten(roomId: string, userId: string, trx: Queryable = this.db): Promise<void> {
    await trx('rooms_memberships').where({ room_id: roomId, user_id: userId }).update({ forgotten: true });
  }
}
