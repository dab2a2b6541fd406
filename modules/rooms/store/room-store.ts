/**
 * `rooms_rooms`: one row per room — version, creator, directory visibility — and its head (`last_stream`,
 * `max_depth`, `forward_extremities`, `state_group`), which every write moves with an optimistic check.
 */
import type { Sql, SqlStatement } from '../../../core/storage/sql.js';
import { toJsonColumn, toNumber } from '../../../core/storage/dialect.js';
import type { Queryable } from '../../../core/storage/transaction.js';
import { constraintMessage, RoomsTableStore } from './table-store.js';

export interface RoomRow {
  readonly roomId: string;
  readonly roomVersion: string;
  readonly creator: string;
  readonly visibility: 'public' | 'private';
  readonly createdTs: number;
  readonly lastStream: number;
  readonly maxDepth: number;
  readonly forwardExtremities: readonly string[];
  readonly stateGroup: number | null;
}

/** The head of a room as its row stores it. */
export interface RoomHeadRow {
  readonly lastStream: number;
  readonly maxDepth: number;
  readonly forwardExtremities: readonly string[];
  readonly stateGroup: number | null;
}

interface RoomDbRow {
  room_id: string;
  room_version: string;
  creator: string;
  visibility: string;
  created_ts: number | string;
  last_stream: number | string;
  max_depth: number | string;
  forward_extremities: string;
  state_group: number | string | null;
}

function roomFromRow(r: RoomDbRow): RoomRow {
  return {
    roomId: r.room_id,
    roomVersion: r.room_version,
    creator: r.creator,
    visibility: r.visibility === 'public' ? 'public' : 'private',
    createdTs: toNumber(r.created_ts),
    lastStream: toNumber(r.last_stream),
    maxDepth: toNumber(r.max_depth),
    forwardExtremities: JSON.parse(r.forward_extremities) as string[],
    stateGroup: r.state_group == null ? null : toNumber(r.state_group),
  };
}

export class RoomStore extends RoomsTableStore {
  async insertRoom(room: RoomRow, sql?: Sql): Promise<void> {
    await this.write(sql, (q) =>
      q.run(
        `INSERT INTO rooms_rooms (room_id, room_version, creator, visibility, created_ts, last_stream, max_depth,
           forward_extremities, state_group) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)`,
        [
          room.roomId,
          room.roomVersion,
          room.creator,
          room.visibility,
          room.createdTs,
          room.lastStream,
          room.maxDepth,
          toJsonColumn(room.forwardExtremities),
          room.stateGroup,
        ],
      ),
    );
  }

  async getRoom(roomId: string, trx: Queryable = this.db): Promise<RoomRow | undefined> {
    const row = (await trx('rooms_rooms').where({ room_id: roomId }).first()) as RoomDbRow | undefined;
    return row ? roomFromRow(row) : undefined;
  }

  /**
   * Moves the room head from `expectedLastStream` to the new values. False when the head has moved since
   * (another process wrote to the room): the caller rolls back and retries on the reloaded head. On
   * PostgreSQL the UPDATE's row lock serialises writers, and the WHERE re-check after the lock is released
   * is what detects the race.
   */
  async advanceRoomHead(
    roomId: string,
    expectedLastStream: number,
    head: RoomHeadRow,
    sql?: Sql,
  ): Promise<boolean> {
    const changed = await this.write(sql, (q) =>
      q.run(
        `UPDATE rooms_rooms SET last_stream = ?, max_depth = ?, forward_extremities = ?, state_group = ?
         WHERE room_id = ? AND last_stream = ?`,
        [
          head.lastStream,
          head.maxDepth,
          toJsonColumn(head.forwardExtremities),
          head.stateGroup,
          roomId,
          expectedLastStream,
        ],
      ),
    );
    return changed === 1;
  }

  /** `advanceRoomHead` as a statement: a moved head makes `last_stream` NULL and fails it (`isHeadMoved`). */
  advanceRoomHeadStatement(roomId: string, expectedLastStream: number, head: RoomHeadRow): SqlStatement {
    return [
      `UPDATE rooms_rooms SET last_stream = CASE WHEN last_stream = ? THEN ? END, max_depth = ?,
         forward_extremities = ?, state_group = ? WHERE room_id = ?`,
      [
        expectedLastStream,
        head.lastStream,
        head.maxDepth,
        toJsonColumn(head.forwardExtremities),
        head.stateGroup,
        roomId,
      ],
    ];
  }

  async setVisibility(
    roomId: string,
    visibility: 'public' | 'private',
    trx: Queryable = this.db,
  ): Promise<void> {
    await trx('rooms_rooms').where({ room_id: roomId }).update({ visibility });
  }

  async listRooms(
    options: { visibility?: 'public' | 'private' } = {},
    trx: Queryable = this.db,
  ): Promise<RoomRow[]> {
    const q = trx('rooms_rooms').orderBy('created_ts', 'asc');
    if (options.visibility) q.where({ visibility: options.visibility });
    return ((await q) as RoomDbRow[]).map(roomFromRow);
  }
}

/** The one-call send transaction failed because another process moved the room head (see advanceRoomHeadStatement). */
export function isHeadMoved(err: unknown): boolean {
  return constraintMessage(err).includes('NOT NULL constraint failed: rooms_rooms.last_stream');
}
