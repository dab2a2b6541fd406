/* eslint-disable @typescript-eslint/no-unnecessary-type-assertion -- knex rows are typed by assertion here, at the store boundary */
/**
 * Reads of `rooms_events` by position: topological order (/messages, /context), stream order (sync), by
 * timestamp, and the history of one state entry or of memberships (relations and threads: relation-store.ts). The hot ones
 * (a sync's per-room timeline, a user's membership changes) are plain SQL through `select`.
 */
import { toNumber } from '../../../core/storage/dialect.js';
import type { Queryable } from '../../../core/storage/transaction.js';
import { eventFromRow, type EventDbRow, type StoredEvent, type TopoPosition } from './event-rows.js';
import { RoomsTableStore } from './table-store.js';

export class TimelineStore extends RoomsTableStore {
  /**
   * Events of a room in topological order, after (`dir` f) or before (`dir` b) `from`, exclusive, up to
   * `limit`, stopping at `to` (inclusive bound) when given.
   */
  async roomEventsTopological(
    roomId: string,
    from: TopoPosition,
    dir: 'f' | 'b',
    limit: number,
    to?: TopoPosition,
    trx: Queryable = this.db,
  ): Promise<StoredEvent[]> {
    const q = trx('rooms_events').where({ room_id: roomId, outlier: false }).whereNull('rejected_reason');
    if (dir === 'b') {
      q.where((w) =>
        w
          .where('depth', '<', from.depth)
          .orWhere((w2) => w2.where('depth', from.depth).andWhere('stream_ordering', '<=', from.stream)),
      );
      if (to) {
        q.where((w) =>
          w
            .where('depth', '>', to.depth)
            .orWhere((w2) => w2.where('depth', to.depth).andWhere('stream_ordering', '>', to.stream)),
        );
      }
      q.orderBy([
        { column: 'depth', order: 'desc' },
        { column: 'stream_ordering', order: 'desc' },
      ]);
    } else {
      q.where((w) =>
        w
          .where('depth', '>', from.depth)
          .orWhere((w2) => w2.where('depth', from.depth).andWhere('stream_ordering', '>', from.stream)),
      );
      if (to) {
        q.where((w) =>
          w
            .where('depth', '<', to.depth)
            .orWhere((w2) => w2.where('depth', to.depth).andWhere('stream_ordering', '<=', to.stream)),
        );
      }
      q.orderBy([
        { column: 'depth', order: 'asc' },
        { column: 'stream_ordering', order: 'asc' },
      ]);
    }
    return ((await q.limit(limit)) as EventDbRow[]).map(eventFromRow);
  }

  /** The topological position of the newest event of the room at or before stream position `stream`. */
  async topoPositionAtStream(
    roomId: string,
    stream: number,
    trx: Queryable = this.db,
  ): Promise<TopoPosition> {
    const row = (await trx('rooms_events')
      .where({ room_id: roomId, outlier: false })
      .andWhere('stream_ordering', '<=', stream)
      .orderBy([
        { column: 'depth', order: 'desc' },
        { column: 'stream_ordering', order: 'desc' },
      ])
      .first('depth', 'stream_ordering')) as
      { depth: number | string; stream_ordering: number | string } | undefined;
    return row
      ? { depth: toNumber(row.depth), stream: toNumber(row.stream_ordering) }
      : { depth: 0, stream: 0 };
  }

  /**
   * The room's backward extremities: prev_events its timeline events cite that are not in its timeline
   * (never fetched, or known only as outliers), deepest first — where backfill starts. Empty when the
   * timeline's oldest event is the create event (the one-query common case).
   */
  async backwardExtremities(roomId: string, limit: number, trx: Queryable = this.db): Promise<string[]> {
    const oldest = (await trx('rooms_events')
      .where({ room_id: roomId, outlier: false })
      .orderBy([
        { column: 'depth', order: 'asc' },
        { column: 'stream_ordering', order: 'asc' },
      ])
      .first('type', 'state_key')) as { type: string; state_key: string | null } | undefined;
    if (!oldest || (oldest.type === 'm.room.create' && oldest.state_key === '')) return [];
    const rows = await this.select<{ id: string }>(
      trx,
      `SELECT ed.other_id AS id, MAX(e.depth) AS d FROM rooms_events e
       JOIN rooms_event_edges ed ON ed.event_id = e.event_id AND ed.kind = 'p'
       LEFT JOIN rooms_events p ON p.event_id = ed.other_id
       WHERE e.room_id = ? AND e.outlier = ? AND e.rejected_reason IS NULL
         AND (p.event_id IS NULL OR p.outlier = ?)
       GROUP BY ed.other_id ORDER BY d DESC LIMIT ?`,
      [roomId, false, true, limit],
    );
    return rows.map((r) => r.id);
  }

  /** The accepted redactions of a room (backfill checks whether an event it brings was redacted already). */
  async redactionsInRoom(roomId: string, trx: Queryable = this.db): Promise<StoredEvent[]> {
    const rows = (await trx('rooms_events')
      .where({ room_id: roomId, type: 'm.room.redaction' })
      .whereNull('rejected_reason')) as EventDbRow[];
    return rows.map(eventFromRow);
  }

  /** The smallest depth of the room's timeline events (Synapse's room min_depth); 0 when it has none. */
  async minDepth(roomId: string, trx: Queryable = this.db): Promise<number> {
    const row = (await trx('rooms_events')
      .where({ room_id: roomId, outlier: false })
      .min('depth as d')
      .first()) as { d: number | string | null } | undefined;
    return toNumber(row?.d);
  }

  /** Events of the given rooms with stream ordering in (`after`, `upTo`], newest first, up to `limit` per call. */
  async eventsInStreamRange(
    roomIds: readonly string[],
    after: number,
    upTo: number,
    limit: number,
    trx: Queryable = this.db,
  ): Promise<StoredEvent[]> {
    if (roomIds.length === 0) return [];
    if (roomIds.length === 1) {
      // The per-room timeline read of every sync: the (room_id, stream_ordering) index, newest first.
      const rows = await this.select<EventDbRow>(
        trx,
        `SELECT * FROM rooms_events WHERE room_id = ? AND stream_ordering > ? AND stream_ordering <= ?
         AND rejected_reason IS NULL ORDER BY stream_ordering DESC LIMIT ?`,
        [roomIds[0], after, upTo, limit],
      );
      return rows.map(eventFromRow);
    }
    const rows = (await trx('rooms_events')
      .whereIn('room_id', roomIds)
      .andWhere('stream_ordering', '>', after)
      .andWhere('stream_ordering', '<=', upTo)
      .whereNull('rejected_reason')
      .orderBy('stream_ordering', 'desc')
      .limit(limit)) as EventDbRow[];
    return rows.map(eventFromRow);
  }

  /**
   * The rooms with an event in (`after`, `upTo`], from at most `limit` events (a range of the primary key;
   * only the room id is read). `undefined` when the window holds more events than that.
   */
  async roomIdsInStreamRange(
    after: number,
    upTo: number,
    limit: number,
    trx: Queryable = this.db,
  ): Promise<Set<string> | undefined> {
    const rows = await this.select<{ room_id: string }>(
      trx,
      `SELECT room_id FROM rooms_events WHERE stream_ordering > ? AND stream_ordering <= ?
       AND rejected_reason IS NULL LIMIT ?`,
      [after, upTo, limit + 1],
    );
    if (rows.length > limit) return undefined;
    return new Set(rows.map((r) => r.room_id));
  }

  /** Accepted events of every room in (`after`, `upTo`], oldest first (the federation sender's fan-out). */
  async eventsInStreamOrder(
    after: number,
    upTo: number,
    limit: number,
    trx: Queryable = this.db,
  ): Promise<StoredEvent[]> {
    const rows = await this.select<EventDbRow>(
      trx,
      `SELECT * FROM rooms_events WHERE stream_ordering > ? AND stream_ordering <= ?
       AND rejected_reason IS NULL ORDER BY stream_ordering LIMIT ?`,
      [after, upTo, limit],
    );
    return rows.map(eventFromRow);
  }

  async eventAtStream(stream: number, trx: Queryable = this.db): Promise<StoredEvent | undefined> {
    const row = (await trx('rooms_events').where({ stream_ordering: stream }).first()) as
      EventDbRow | undefined;
    return row ? eventFromRow(row) : undefined;
  }

  /** The event of the room closest to `ts` in direction `dir` (f: at or after, b: at or before). */
  async eventNearTimestamp(
    roomId: string,
    ts: number,
    dir: 'f' | 'b',
    trx: Queryable = this.db,
  ): Promise<StoredEvent | undefined> {
    const q = trx('rooms_events').where({ room_id: roomId, outlier: false }).whereNull('rejected_reason');
    if (dir === 'f')
      q.andWhere('origin_server_ts', '>=', ts).orderBy([
        { column: 'origin_server_ts', order: 'asc' },
        { column: 'stream_ordering', order: 'asc' },
      ]);
    else
      q.andWhere('origin_server_ts', '<=', ts).orderBy([
        { column: 'origin_server_ts', order: 'desc' },
        { column: 'stream_ordering', order: 'desc' },
      ]);
    const row = (await q.first()) as EventDbRow | undefined;
    return row ? eventFromRow(row) : undefined;
  }

  /** State events of one (type, state_key) in a room, oldest first (history of a state entry). */
  async stateHistory(
    roomId: string,
    type: string,
    key: string,
    trx: Queryable = this.db,
  ): Promise<StoredEvent[]> {
    const rows = (await trx('rooms_events')
      .where({ room_id: roomId, type, state_key: key, outlier: false })
      .whereNull('rejected_reason')
      .orderBy('stream_ordering', 'asc')) as EventDbRow[];
    return rows.map(eventFromRow);
  }

  /** Membership events targeting `userId` in any room with stream ordering in (`after`, `upTo`]. */
  async membershipEventsOfUser(
    userId: string,
    after: number,
    upTo: number,
    trx: Queryable = this.db,
  ): Promise<StoredEvent[]> {
    const rows = await this.select<EventDbRow>(
      trx,
      `SELECT * FROM rooms_events WHERE state_key = ? AND type = 'm.room.member' AND stream_ordering > ?
       AND stream_ordering <= ? AND rejected_reason IS NULL ORDER BY stream_ordering ASC`,
      [userId, after, upTo],
    );
    return rows.map(eventFromRow);
  }

  /** Membership events of the given rooms in (`after`, `upTo`], oldest first (device-list tracking). */
  async membershipEventsInRooms(
    roomIds: readonly string[],
    after: number,
    upTo: number,
    trx: Queryable = this.db,
  ): Promise<StoredEvent[]> {
    if (roomIds.length === 0) return [];
    const rows = (await trx('rooms_events')
      .whereIn('room_id', roomIds)
      .andWhere({ type: 'm.room.member' })
      .andWhere('stream_ordering', '>', after)
      .andWhere('stream_ordering', '<=', upTo)
      .whereNull('rejected_reason')
      .orderBy('stream_ordering', 'asc')) as EventDbRow[];
    return rows.map(eventFromRow);
  }
}
