/**
 * `rooms_out_of_band_memberships`: local users' memberships in rooms this server is not in (see the
 * migration). Written inside the fast transaction that also stores the outlier event and the membership.
 */
import { fromJsonColumn, toJsonColumn } from '../../../core/storage/dialect.js';
import type { Sql } from '../../../core/storage/sql.js';
import type { Queryable } from '../../../core/storage/transaction.js';
import { RoomsTableStore } from './table-store.js';

export interface OutOfBandMembership {
  readonly roomId: string;
  readonly userId: string;
  readonly membership: string;
  readonly eventId: string;
  readonly roomVersion: string;
  readonly servers: readonly string[];
}

interface OutOfBandDbRow {
  room_id: string;
  user_id: string;
  membership: string;
  event_id: string;
  room_version: string;
  servers: string;
}

export class OutOfBandStore extends RoomsTableStore {
  async get(
    roomId: string,
    userId: string,
    trx: Queryable = this.db,
  ): Promise<OutOfBandMembership | undefined> {
    const row = (await trx('rooms_out_of_band_memberships')
      .where({ room_id: roomId, user_id: userId })
      .first()) as OutOfBandDbRow | undefined;
    return row ? fromRow(row) : undefined;
  }

  /** The current out-of-band membership of (room, user), read inside a fast transaction. */
  async getIn(sql: Sql, roomId: string, userId: string): Promise<OutOfBandMembership | undefined> {
    const [row] = await sql.all<OutOfBandDbRow>(
      'SELECT * FROM rooms_out_of_band_memberships WHERE room_id = ? AND user_id = ?',
      [roomId, userId],
    );
    return row ? fromRow(row) : undefined;
  }

  async upsert(m: OutOfBandMembership, sql: Sql): Promise<void> {
    await sql.run(
      `INSERT INTO rooms_out_of_band_memberships
         (room_id, user_id, membership, event_id, room_version, servers, updated_ts)
       VALUES (?, ?, ?, ?, ?, ?, ?)
       ON CONFLICT (room_id, user_id) DO UPDATE SET membership = excluded.membership,
         event_id = excluded.event_id, room_version = excluded.room_version, servers = excluded.servers,
         updated_ts = excluded.updated_ts`,
      [m.roomId, m.userId, m.membership, m.eventId, m.roomVersion, toJsonColumn(m.servers), Date.now()],
    );
  }

  async delete(roomId: string, userId: string, sql: Sql): Promise<void> {
    await sql.run('DELETE FROM rooms_out_of_band_memberships WHERE room_id = ? AND user_id = ?', [
      roomId,
      userId,
    ]);
  }

  /** Every out-of-band membership in `roomId` (when this server comes to hold the room). */
  async ofRoomIn(sql: Sql, roomId: string): Promise<OutOfBandMembership[]> {
    const rows = await sql.all<OutOfBandDbRow>(
      'SELECT * FROM rooms_out_of_band_memberships WHERE room_id = ?',
      [roomId],
    );
    return rows.map(fromRow);
  }

  /** Removes an outlier membership event (replaced, or the room is now held for real). */
  async deleteOutlierEvent(eventId: string, sql: Sql): Promise<void> {
    await sql.run('DELETE FROM rooms_events WHERE event_id = ? AND state_group IS NULL', [eventId]);
  }
}

function fromRow(r: OutOfBandDbRow): OutOfBandMembership {
  return {
    roomId: r.room_id,
    userId: r.user_id,
    membership: r.membership,
    eventId: r.event_id,
    roomVersion: r.room_version,
    servers: fromJsonColumn<string[]>(r.servers) ?? [],
  };
}
