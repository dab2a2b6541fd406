/**
 * Bulk writes of a remote join (services/remote-room-writer.ts): the state and auth chain a resident
 * server returned, stored as outliers, and the room's current state and memberships from that state. A
 * 5,000-member room means ~10,000 rows per table here, so every write is a multi-row INSERT (one statement
 * per chunk) inside the join's one transaction, never a statement per row.
 *
 * Outliers are rows of `rooms_events` with a NEGATIVE stream ordering, counting down from the lowest one
 * in the table: every stream read (sync timelines, membership changes, `roomsWithEvents`) starts after a
 * position ≥ 0, so they never enter a timeline, and the commit path's stream maximum is untouched.
 */
import { toNumber } from '../../../core/storage/dialect.js';
import type { Sql } from '../../../core/storage/sql.js';
import { EVENT_COLUMNS, eventValues, type NewEvent } from './event-rows.js';
import { RoomsTableStore } from './table-store.js';

/** Rows per multi-row INSERT: 16 parameters per event row, well under both engines' limits. */
const EVENT_ROWS_PER_INSERT = 250;
const SMALL_ROWS_PER_INSERT = 500;

export class RemoteRoomStore extends RoomsTableStore {
  /** The lowest stream ordering in use (0 when none is negative): outliers count down from below it. */
  async lowestStreamOrdering(sql: Sql): Promise<number> {
    const rows = await sql.all<{ m: number | string | null }>(
      'SELECT MIN(stream_ordering) AS m FROM rooms_events',
    );
    return Math.min(0, toNumber(rows[0]?.m ?? 0));
  }

  /**
   * Inserts outlier events (marked `outlier`: no timeline read shows them until backfill reaches them) at
   * the given (negative) stream orderings; ids already stored are skipped.
   */
  async insertOutliers(
    events: readonly { readonly event: NewEvent; readonly streamOrdering: number }[],
    sql: Sql,
  ): Promise<void> {
    for (let i = 0; i < events.length; i += EVENT_ROWS_PER_INSERT) {
      const chunk = events.slice(i, i + EVENT_ROWS_PER_INSERT);
      const slots = `(?, ?, ?, ${Array.from({ length: 13 }, () => '?').join(', ')})`;
      await sql.run(
        `INSERT INTO rooms_events (stream_ordering, outlier, ${EVENT_COLUMNS})
         VALUES ${chunk.map(() => slots).join(', ')} ON CONFLICT (event_id) DO NOTHING`,
        chunk.flatMap(({ event, streamOrdering }) => [
          streamOrdering,
          true,
          event.eventId,
          ...eventValues(event),
        ]),
      );
    }
  }

  /** prev (`p`) and auth (`a`) edges as [event_id, other_id, kind]; existing ones are kept. */
  async insertEdges(edges: readonly (readonly [string, string, 'p' | 'a'])[], sql: Sql): Promise<void> {
    for (let i = 0; i < edges.length; i += SMALL_ROWS_PER_INSERT) {
      const chunk = edges.slice(i, i + SMALL_ROWS_PER_INSERT);
      await sql.run(
        `INSERT INTO rooms_event_edges (event_id, other_id, kind) VALUES ${chunk.map(() => '(?, ?, ?)').join(', ')}
         ON CONFLICT (event_id, kind, other_id) DO NOTHING`,
        chunk.flat(),
      );
    }
  }

  /** Replaces the room's whole current state with `entries` ((type, state_key) → event id). */
  async replaceCurrentState(
    roomId: string,
    entries: readonly (readonly [type: string, stateKey: string, eventId: string])[],
    sql: Sql,
  ): Promise<void> {
    await sql.run('DELETE FROM rooms_current_state WHERE room_id = ?', [roomId]);
    for (let i = 0; i < entries.length; i += SMALL_ROWS_PER_INSERT) {
      const chunk = entries.slice(i, i + SMALL_ROWS_PER_INSERT);
      await sql.run(
        `INSERT INTO rooms_current_state (room_id, type, state_key, event_id)
         VALUES ${chunk.map(() => '(?, ?, ?, ?)').join(', ')}`,
        chunk.flatMap((e) => [roomId, ...e]),
      );
    }
  }

  /** Sets the membership of each user (upsert), as their member event in the state says. */
  async setMemberships(
    roomId: string,
    rows: readonly {
      readonly userId: string;
      readonly membership: string;
      readonly eventId: string;
      readonly streamOrdering: number;
    }[],
    sql: Sql,
  ): Promise<void> {
    for (let i = 0; i < rows.length; i += SMALL_ROWS_PER_INSERT) {
      const chunk = rows.slice(i, i + SMALL_ROWS_PER_INSERT);
      await sql.run(
        `INSERT INTO rooms_memberships (room_id, user_id, membership, event_id, stream_ordering, forgotten)
         VALUES ${chunk.map(() => '(?, ?, ?, ?, ?, ?)').join(', ')}
         ON CONFLICT (room_id, user_id) DO UPDATE SET membership = excluded.membership,
           event_id = excluded.event_id, stream_ordering = excluded.stream_ordering, forgotten = excluded.forgotten`,
        chunk.flatMap((r) => [roomId, r.userId, r.membership, r.eventId, r.streamOrdering, false]),
      );
    }
  }
}
