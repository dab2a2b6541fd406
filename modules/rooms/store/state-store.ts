/* eslint-disable @typescript-eslint/no-unnecessary-type-assertion -- knex rows are typed by assertion here, at the store boundary */
/**
 * The state of a room: `rooms_state_groups` + `rooms_state_group_entries` (the state after each event, as
 * deltas with a snapshot every SNAPSHOT_INTERVAL) and `rooms_current_state` ((type, state_key) → event).
 */
import { stateKey, type StateKey } from '../../../core/protocol/pdu.js';
import { toNumber } from '../../../core/storage/dialect.js';
import type { Sql } from '../../../core/storage/sql.js';
import type { Queryable } from '../../../core/storage/transaction.js';
import { eventFromRow, type EventDbRow, type StoredEvent } from './event-rows.js';
import { RoomsTableStore } from './table-store.js';

/** A state group gets a full snapshot once its delta chain would grow past this length. */
export const SNAPSHOT_INTERVAL = 100;

/** Rows per multi-row INSERT of state entries (4 parameters each; well under both engines' limits). */
const STATE_ROWS_PER_INSERT = 200;

export class StateStore extends RoomsTableStore {
  /**
   * Stores the state after a state event as a new group: the one-entry delta off `prevGroup`, or a full
   * snapshot (`fullState`) when the chain would pass SNAPSHOT_INTERVAL, there is no previous group, or
   * the caller asks (`snapshot`: the new state lacks a key of the previous one — deltas only add). A delta
   * may hold several entries (a state resolved from forks, written off one of their groups).
   */
  async createStateGroup(
    roomId: string,
    prevGroup: number | null,
    prevChainLength: number,
    delta: ReadonlyMap<StateKey, string>,
    fullState: () => ReadonlyMap<StateKey, string>,
    sql?: Sql,
    options: { snapshot?: boolean } = {},
  ): Promise<{ id: number; chainLength: number }> {
    const snapshot =
      options.snapshot === true || prevGroup === null || prevChainLength + 1 >= SNAPSHOT_INTERVAL;
    const chainLength = snapshot ? 0 : prevChainLength + 1;
    return this.write(sql, async (q) => {
      const rows = await q.all<{ id: number | string }>(
        'INSERT INTO rooms_state_groups (room_id, prev_group, is_snapshot, chain_length) VALUES (?, ?, ?, ?) RETURNING id',
        [roomId, prevGroup, snapshot, chainLength],
      );
      const id = toNumber(rows[0]?.id);
      const entries = snapshot ? fullState() : delta;
      const values = [...entries].map(([k, eventId]) => {
        const i = k.indexOf('\u0000');
        return [id, k.slice(0, i), k.slice(i + 1), eventId];
      });
      for (let i = 0; i < values.length; i += STATE_ROWS_PER_INSERT) {
        const chunk = values.slice(i, i + STATE_ROWS_PER_INSERT);
        await q.run(
          `INSERT INTO rooms_state_group_entries (state_group, type, state_key, event_id)
           VALUES ${chunk.map(() => '(?, ?, ?, ?)').join(', ')}`,
          chunk.flat(),
        );
      }
      return { id, chainLength };
    });
  }

  async stateGroupInfo(
    id: number,
    trx: Queryable = this.db,
  ): Promise<{ prevGroup: number | null; isSnapshot: boolean; chainLength: number } | undefined> {
    const row = (await trx('rooms_state_groups').where({ id }).first()) as
      | { prev_group: number | string | null; is_snapshot: boolean | number; chain_length: number | string }
      | undefined;
    if (!row) return undefined;
    return {
      prevGroup: row.prev_group == null ? null : toNumber(row.prev_group),
      isSnapshot: row.is_snapshot === true || row.is_snapshot === 1,
      chainLength: toNumber(row.chain_length),
    };
  }

  /**
   * The full state map of a group: its delta chain back to the snapshot, read in one recursive query, with
   * the deltas applied forward from the snapshot.
   */
  async stateOfGroup(id: number, trx: Queryable = this.db): Promise<Map<StateKey, string>> {
    const rows = await this.select<{
      hops: number | string;
      type: string;
      state_key: string;
      event_id: string;
    }>(
      trx,
      `WITH RECURSIVE chain (id, prev_group, is_snapshot, hops) AS (
         SELECT id, prev_group, is_snapshot, 0 FROM rooms_state_groups WHERE id = ?
         UNION ALL
         SELECT g.id, g.prev_group, g.is_snapshot, c.hops + 1
         FROM rooms_state_groups g JOIN chain c ON g.id = c.prev_group
         WHERE NOT c.is_snapshot
       )
       SELECT c.hops, e.type, e.state_key, e.event_id
       FROM chain c JOIN rooms_state_group_entries e ON e.state_group = c.id
       ORDER BY c.hops DESC`,
      [id],
    );
    const state = new Map<StateKey, string>();
    for (const r of rows) state.set(stateKey(r.type, r.state_key), r.event_id);
    return state;
  }

  async setCurrentState(
    roomId: string,
    type: string,
    key: string,
    eventId: string,
    sql?: Sql,
  ): Promise<void> {
    await this.write(sql, (q) =>
      q.run(
        `INSERT INTO rooms_current_state (room_id, type, state_key, event_id) VALUES (?, ?, ?, ?)
         ON CONFLICT (room_id, type, state_key) DO UPDATE SET event_id = excluded.event_id`,
        [roomId, type, key, eventId],
      ),
    );
  }

  /** Drops a (type, state_key) from the current state (state resolution can leave a key out). */
  async deleteCurrentState(roomId: string, type: string, key: string, sql?: Sql): Promise<void> {
    await this.write(sql, (q) =>
      q.run('DELETE FROM rooms_current_state WHERE room_id = ? AND type = ? AND state_key = ?', [
        roomId,
        type,
        key,
      ]),
    );
  }

  /**
   * Records that the room's current state is `stateGroup` from `streamOrdering` on (`resolved`: state
   * resolution changed it, not only the event at that position).
   */
  async recordCurrentStateGroup(
    roomId: string,
    streamOrdering: number,
    stateGroup: number,
    resolved: boolean,
    sql?: Sql,
  ): Promise<void> {
    await this.write(sql, (q) =>
      q.run(
        `INSERT INTO rooms_current_state_groups (room_id, stream_ordering, state_group, resolved)
         VALUES (?, ?, ?, ?)`,
        [roomId, streamOrdering, stateGroup, resolved],
      ),
    );
  }

  /**
   * The group that was the room's current state at stream position `at`; undefined when no change is
   * recorded up to there (a room written before the history existed: the caller falls back).
   */
  async currentStateGroupAt(
    roomId: string,
    at: number,
    trx: Queryable = this.db,
  ): Promise<number | undefined> {
    const rows = await this.select<{ state_group: number | string }>(
      trx,
      `SELECT state_group FROM rooms_current_state_groups
       WHERE room_id = ? AND stream_ordering <= ? ORDER BY stream_ordering DESC LIMIT 1`,
      [roomId, at],
    );
    return rows[0] === undefined ? undefined : toNumber(rows[0].state_group);
  }

  /** Whether state resolution changed the room's current state in stream positions (`after`, `upTo`]. */
  async resolvedBetween(
    roomId: string,
    after: number,
    upTo: number,
    trx: Queryable = this.db,
  ): Promise<boolean> {
    const rows = await this.select<{ one: number }>(
      trx,
      `SELECT 1 AS one FROM rooms_current_state_groups
       WHERE room_id = ? AND stream_ordering > ? AND stream_ordering <= ? AND resolved LIMIT 1`,
      [roomId, after, upTo],
    );
    return rows.length > 0;
  }

  /** The (type, state_key)s that accepted state events in stream positions (`after`, `upTo`] set. */
  async stateKeysSetBetween(
    roomId: string,
    after: number,
    upTo: number,
    trx: Queryable = this.db,
  ): Promise<Set<StateKey>> {
    const rows = await this.select<{ type: string; state_key: string }>(
      trx,
      `SELECT DISTINCT type, state_key FROM rooms_events
       WHERE room_id = ? AND stream_ordering > ? AND stream_ordering <= ?
         AND state_key IS NOT NULL AND rejected_reason IS NULL`,
      [roomId, after, upTo],
    );
    return new Set(rows.map((r) => stateKey(r.type, r.state_key)));
  }

  /** The current state as (type, state_key) → event, with the events. */
  async currentStateEvents(roomId: string, trx: Queryable = this.db): Promise<StoredEvent[]> {
    const rows = (await trx('rooms_current_state as cs')
      .join('rooms_events as e', 'e.event_id', 'cs.event_id')
      .where('cs.room_id', roomId)
      .select('e.*')) as EventDbRow[];
    return rows.map(eventFromRow);
  }

  async currentStateEvent(
    roomId: string,
    type: string,
    key: string,
    trx: Queryable = this.db,
  ): Promise<StoredEvent | undefined> {
    const row = (await trx('rooms_current_state as cs')
      .join('rooms_events as e', 'e.event_id', 'cs.event_id')
      .where({ 'cs.room_id': roomId, 'cs.type': type, 'cs.state_key': key })
      .first('e.*')) as EventDbRow | undefined;
    return row ? eventFromRow(row) : undefined;
  }
}
