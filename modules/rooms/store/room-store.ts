/* eslint-disable @typescript-eslint/no-unnecessary-type-assertion -- knex rows are typed by assertion here, at the store boundary */
/**
 * The only code that touches the rooms tables. The write methods of the send path take the `Sql` of one
 * fast transaction (core/storage/sql.ts), so an event, its edges, state group, current state, membership,
 * txn id and the room head commit together; without one, each runs in a transaction of its own. Reads take
 * an optional knex `trx`.
 */
import type { Knex } from 'knex';
import type { Cradle } from '../../../core/container.js';
import { fromJsonColumn, isSqlite, toJsonColumn, toNumber } from '../../../core/storage/dialect.js';
import type { Queryable } from '../../../core/storage/transaction.js';
import { sqlQuery, sqlTransaction, type Sql, type SqlStatement } from '../../../core/storage/sql.js';
import { stateKey, type PduJson, type StateKey } from '../../../core/protocol/pdu.js';

/** A state group gets a full snapshot once its delta chain would grow past this length. */
export const SNAPSHOT_INTERVAL = 100;

/** Rows per multi-row INSERT of state entries (4 parameters each; well under both engines' limits). */
const STATE_ROWS_PER_INSERT = 200;

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

/** Facts the server adds to `unsigned` of a state event when it replaces an earlier one. */
export interface ServerUnsigned {
  replaces_state?: string;
  prev_content?: Record<string, unknown>;
  prev_sender?: string;
}

export interface StoredEvent {
  readonly streamOrdering: number;
  readonly eventId: string;
  readonly roomId: string;
  readonly type: string;
  readonly stateKey: string | null;
  readonly sender: string;
  readonly depth: number;
  readonly originServerTs: number;
  /** The PDU; the redacted form once redacted. */
  readonly pdu: PduJson;
  readonly unsigned: ServerUnsigned | undefined;
  readonly redactedBy: string | null;
  readonly rejectedReason: string | null;
  readonly stateGroup: number | null;
  readonly membership: string | null;
  readonly relatesTo: string | null;
  readonly relType: string | null;
}

export type NewEvent = Omit<StoredEvent, 'streamOrdering' | 'redactedBy'>;

interface EventDbRow {
  stream_ordering: number | string;
  event_id: string;
  room_id: string;
  type: string;
  state_key: string | null;
  sender: string;
  depth: number | string;
  origin_server_ts: number | string;
  json: string;
  unsigned_json: string | null;
  redacted_by: string | null;
  rejected_reason: string | null;
  state_group: number | string | null;
  membership: string | null;
  relates_to: string | null;
  rel_type: string | null;
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

export function eventFromRow(r: EventDbRow): StoredEvent {
  return {
    streamOrdering: toNumber(r.stream_ordering),
    eventId: r.event_id,
    roomId: r.room_id,
    type: r.type,
    stateKey: r.state_key,
    sender: r.sender,
    depth: toNumber(r.depth),
    originServerTs: toNumber(r.origin_server_ts),
    pdu: JSON.parse(r.json) as PduJson,
    unsigned: fromJsonColumn<ServerUnsigned>(r.unsigned_json),
    redactedBy: r.redacted_by,
    rejectedReason: r.rejected_reason,
    stateGroup: r.state_group == null ? null : toNumber(r.state_group),
    membership: r.membership,
    relatesTo: r.relates_to,
    relType: r.rel_type,
  };
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

/** Position in a room's topological order: (depth, stream ordering). */
export interface TopoPosition {
  readonly depth: number;
  readonly stream: number;
}

export interface MembershipRow {
  readonly roomId: string;
  readonly userId: string;
  readonly membership: string;
  readonly eventId: string;
  readonly streamOrdering: number;
  readonly forgotten: boolean;
}

export class RoomStore {
  private readonly db: Knex;

  constructor({ db }: Pick<Cradle, 'db'>) {
    this.db = db;
  }

  // ---- rooms -------------------------------------------------------------------------------------------

  /**
   * A hot read in plain SQL: through the fast path (prepared statement, no query builder) unless the caller
   * holds a knex transaction, which then runs it.
   */
  private async select<T>(trx: Queryable, text: string, params: readonly unknown[]): Promise<T[]> {
    if (trx === this.db) return sqlQuery<T>(this.db, text, params);
    const result: unknown = await trx.raw(text, params as Knex.RawBinding[]);
    return (Array.isArray(result) ? result : ((result as { rows?: unknown[] }).rows ?? [])) as T[];
  }

  /** Runs `fn` in the caller's fast transaction, or in one of its own. */
  private write<T>(sql: Sql | undefined, fn: (sql: Sql) => Promise<T>): Promise<T> {
    return sql ? fn(sql) : sqlTransaction(this.db, fn);
  }

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
    head: {
      lastStream: number;
      maxDepth: number;
      forwardExtremities: readonly string[];
      stateGroup: number | null;
    },
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

  // ---- the send path's one-call transaction (SQLite; see EventSender.commitBatch) ----------------------

  /**
   * The INSERT of an event at a stream ordering chosen by the caller. With `expectedMax`, the row is only
   * valid if the table's newest stream ordering is still that: otherwise `event_id` comes out NULL and the
   * statement fails (`isStreamMoved`), because another process wrote events meanwhile.
   */
  insertEventStatement(e: NewEvent, streamOrdering: number, expectedMax?: number): SqlStatement {
    const eventId =
      expectedMax === undefined
        ? '?'
        : 'CASE WHEN (SELECT COALESCE(MAX(stream_ordering), 0) FROM rooms_events) = ? THEN ? END';
    return [
      `INSERT INTO rooms_events (stream_ordering, ${EVENT_COLUMNS})
       VALUES (?, ${eventId}, ${EVENT_VALUE_SLOTS})`,
      [streamOrdering, ...(expectedMax === undefined ? [] : [expectedMax]), e.eventId, ...eventValues(e)],
    ];
  }

  /** A txn id's row; a reused (user, device, txn id) fails the statement (`isTxnReplayed`). */
  insertTxnStatement(userId: string, deviceId: string, txnId: string, eventId: string): SqlStatement {
    return [
      'INSERT INTO rooms_txns (user_id, device_id, txn_id, event_id, created_ts) VALUES (?, ?, ?, ?, ?)',
      [userId, deviceId, txnId, eventId, Date.now()],
    ];
  }

  /** The prev/auth edges of an event: no statement when it has none (a create event). */
  insertEdgesStatements(
    eventId: string,
    prevEvents: readonly string[],
    authEvents: readonly string[],
  ): SqlStatement[] {
    const rows = [...prevEvents.map((p) => [eventId, p, 'p']), ...authEvents.map((a) => [eventId, a, 'a'])];
    if (rows.length === 0) return [];
    return [
      [
        `INSERT INTO rooms_event_edges (event_id, other_id, kind) VALUES ${rows.map(() => '(?, ?, ?)').join(', ')}`,
        rows.flat(),
      ],
    ];
  }

  /** `advanceRoomHead` as a statement: a moved head makes `last_stream` NULL and fails it (`isHeadMoved`). */
  advanceRoomHeadStatement(
    roomId: string,
    expectedLastStream: number,
    head: {
      lastStream: number;
      maxDepth: number;
      forwardExtremities: readonly string[];
      stateGroup: number | null;
    },
  ): SqlStatement {
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

  // ---- events ------------------------------------------------------------------------------------------

  /** Inserts an event and returns its stream ordering (assigned by the database). */
  /** Whether writers reserve stream orderings first: not on SQLite, whose single writer commits in order. */
  get reservesStreamOrdering(): boolean {
    return !isSqlite(this.db);
  }

  /**
   * PostgreSQL only (see `reservesStreamOrdering`): the next stream ordering, reserved before the insert
   * (see StreamTracker).
   */
  async reserveStreamOrdering(sql?: Sql): Promise<number> {
    const rows = await this.write(sql, (q) =>
      q.all<{ n: number | string }>(
        `SELECT nextval(pg_get_serial_sequence('rooms_events', 'stream_ordering')) AS n`,
      ),
    );
    return toNumber(rows[0]?.n);
  }

  async insertEvent(e: NewEvent, sql?: Sql, streamOrdering?: number): Promise<number> {
    const rows = await this.write(sql, (q) =>
      q.all<{ stream_ordering: number | string }>(
        `INSERT INTO rooms_events (${streamOrdering === undefined ? '' : 'stream_ordering, '}${EVENT_COLUMNS})
         VALUES (${streamOrdering === undefined ? '' : '?, '}?, ${EVENT_VALUE_SLOTS})
         RETURNING stream_ordering`,
        [...(streamOrdering === undefined ? [] : [streamOrdering]), e.eventId, ...eventValues(e)],
      ),
    );
    return toNumber(rows[0]?.stream_ordering);
  }

  async insertEdges(
    eventId: string,
    prevEvents: readonly string[],
    authEvents: readonly string[],
    sql?: Sql,
  ): Promise<void> {
    const statements = this.insertEdgesStatements(eventId, prevEvents, authEvents);
    if (statements.length === 0) return;
    await this.write(sql, async (q) => {
      for (const [text, params] of statements) await q.run(text, params);
    });
  }

  /** An event, read inside a fast transaction (the send path's redaction target). */
  async getEventIn(sql: Sql, eventId: string): Promise<StoredEvent | undefined> {
    const [row] = await sql.all<EventDbRow>('SELECT * FROM rooms_events WHERE event_id = ?', [eventId]);
    return row ? eventFromRow(row) : undefined;
  }

  async getEvent(eventId: string, trx: Queryable = this.db): Promise<StoredEvent | undefined> {
    const row = (await trx('rooms_events').where({ event_id: eventId }).first()) as EventDbRow | undefined;
    return row ? eventFromRow(row) : undefined;
  }

  async getEvents(eventIds: readonly string[], trx: Queryable = this.db): Promise<Map<string, StoredEvent>> {
    const out = new Map<string, StoredEvent>();
    for (let i = 0; i < eventIds.length; i += 500) {
      const rows = (await trx('rooms_events').whereIn(
        'event_id',
        eventIds.slice(i, i + 500),
      )) as EventDbRow[];
      for (const r of rows) out.set(r.event_id, eventFromRow(r));
    }
    return out;
  }

  async prevEventsOf(eventId: string, trx: Queryable = this.db): Promise<string[]> {
    const rows = (await trx('rooms_event_edges')
      .where({ event_id: eventId, kind: 'p' })
      .select('other_id')) as {
      other_id: string;
    }[];
    return rows.map((r) => r.other_id);
  }

  async authEventsOf(eventId: string, trx: Queryable = this.db): Promise<string[]> {
    const rows = (await trx('rooms_event_edges')
      .where({ event_id: eventId, kind: 'a' })
      .select('other_id')) as {
      other_id: string;
    }[];
    return rows.map((r) => r.other_id);
  }

  /** Replaces the stored PDU with its redacted form: the original content is gone from the database. */
  async redactEvent(eventId: string, redacted: PduJson, redactedBy: string, sql?: Sql): Promise<void> {
    await this.write(sql, (q) =>
      q.run('UPDATE rooms_events SET json = ?, redacted_by = ?, unsigned_json = NULL WHERE event_id = ?', [
        JSON.stringify(redacted),
        redactedBy,
        eventId,
      ]),
    );
  }

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
    const q = trx('rooms_events').where({ room_id: roomId }).whereNull('rejected_reason');
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
      .where({ room_id: roomId })
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

  async maxStreamOrdering(trx: Queryable = this.db): Promise<number> {
    const row = (await trx('rooms_events').max('stream_ordering as m').first()) as
      { m: number | string | null } | undefined;
    return toNumber(row?.m);
  }

  /** Events related to `eventId`, optionally of one rel_type and event type, in topological order. */
  async relations(
    eventId: string,
    options: { relType?: string; eventType?: string; dir: 'f' | 'b'; from?: TopoPosition; limit: number },
    trx: Queryable = this.db,
  ): Promise<StoredEvent[]> {
    const q = trx('rooms_events').where({ relates_to: eventId }).whereNull('rejected_reason');
    if (options.relType) q.andWhere({ rel_type: options.relType });
    if (options.eventType) q.andWhere({ type: options.eventType });
    const from = options.from;
    if (from) {
      if (options.dir === 'b') {
        q.where((w) =>
          w
            .where('depth', '<', from.depth)
            .orWhere((w2) => w2.where('depth', from.depth).andWhere('stream_ordering', '<', from.stream)),
        );
      } else {
        q.where((w) =>
          w
            .where('depth', '>', from.depth)
            .orWhere((w2) => w2.where('depth', from.depth).andWhere('stream_ordering', '>', from.stream)),
        );
      }
    }
    const order = options.dir === 'b' ? 'desc' : 'asc';
    q.orderBy([
      { column: 'depth', order },
      { column: 'stream_ordering', order },
    ]);
    return ((await q.limit(options.limit)) as EventDbRow[]).map(eventFromRow);
  }

  /** Thread roots of a room (events with at least one m.thread relation), newest activity first. */
  async threadRoots(
    roomId: string,
    options: { beforeStream?: number; limit: number },
    trx: Queryable = this.db,
  ): Promise<{ rootId: string; latestStream: number }[]> {
    const q = trx('rooms_events')
      .where({ room_id: roomId, rel_type: 'm.thread' })
      .whereNull('rejected_reason')
      .groupBy('relates_to')
      .select('relates_to')
      .max('stream_ordering as latest');
    if (options.beforeStream !== undefined)
      q.having(trx.raw('max(stream_ordering)'), '<', options.beforeStream);
    const rows = (await q.orderBy('latest', 'desc').limit(options.limit)) as {
      relates_to: string;
      latest: number | string;
    }[];
    return rows.map((r) => ({ rootId: r.relates_to, latestStream: toNumber(r.latest) }));
  }

  /** Count and latest event of the m.thread relations to each of `rootIds`. */
  async threadSummaries(
    rootIds: readonly string[],
    trx: Queryable = this.db,
  ): Promise<Map<string, { count: number; latestStream: number }>> {
    const out = new Map<string, { count: number; latestStream: number }>();
    if (rootIds.length === 0) return out;
    const rows = (await trx('rooms_events')
      .whereIn('relates_to', rootIds)
      .andWhere({ rel_type: 'm.thread' })
      .whereNull('rejected_reason')
      .whereNull('redacted_by')
      .groupBy('relates_to')
      .select('relates_to')
      .count('* as n')
      .max('stream_ordering as latest')) as {
      relates_to: string;
      n: number | string;
      latest: number | string;
    }[];
    for (const r of rows) out.set(r.relates_to, { count: toNumber(r.n), latestStream: toNumber(r.latest) });
    return out;
  }

  /** Which of `rootIds` have an m.thread reply from `userId`. */
  async threadParticipants(
    rootIds: readonly string[],
    userId: string,
    trx: Queryable = this.db,
  ): Promise<Set<string>> {
    if (rootIds.length === 0) return new Set();
    const rows = (await trx('rooms_events')
      .whereIn('relates_to', rootIds)
      .andWhere({ rel_type: 'm.thread', sender: userId })
      .distinct('relates_to')) as { relates_to: string }[];
    return new Set(rows.map((r) => r.relates_to));
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
    const q = trx('rooms_events').where({ room_id: roomId }).whereNull('rejected_reason');
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
      .where({ room_id: roomId, type, state_key: key })
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

  // ---- state groups ------------------------------------------------------------------------------------

  /**
   * Stores the state after a state event as a new group: the one-entry delta off `prevGroup`, or a full
   * snapshot (`fullState`) when the chain would pass SNAPSHOT_INTERVAL or there is no previous group.
   */
  async createStateGroup(
    roomId: string,
    prevGroup: number | null,
    prevChainLength: number,
    delta: ReadonlyMap<StateKey, string>,
    fullState: () => ReadonlyMap<StateKey, string>,
    sql?: Sql,
  ): Promise<{ id: number; chainLength: number }> {
    const snapshot = prevGroup === null || prevChainLength + 1 >= SNAPSHOT_INTERVAL;
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

  // ---- current state and membership -------------------------------------------------------------------

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

  // ---- txn ids -------------------------------------------------------------------------------------------

  async getTxn(
    userId: string,
    deviceId: string,
    txnId: string,
    trx: Queryable = this.db,
  ): Promise<string | undefined> {
    const row = (await trx('rooms_txns')
      .where({ user_id: userId, device_id: deviceId, txn_id: txnId })
      .first('event_id')) as { event_id: string } | undefined;
    return row?.event_id;
  }

  /**
   * Records the txn id of an event; false when (user, device, txn) was already used (the caller rolls
   * back and answers with the first event).
   */
  async insertTxn(
    userId: string,
    deviceId: string,
    txnId: string,
    eventId: string,
    sql?: Sql,
  ): Promise<boolean> {
    const changed = await this.write(sql, (q) =>
      q.run(
        `INSERT INTO rooms_txns (user_id, device_id, txn_id, event_id, created_ts) VALUES (?, ?, ?, ?, ?)
         ON CONFLICT (user_id, device_id, txn_id) DO NOTHING`,
        [userId, deviceId, txnId, eventId, Date.now()],
      ),
    );
    return changed === 1;
  }

  /** The (user, device, txn id) an event was sent with, for `unsigned.transaction_id`. */
  async txnOfEvents(
    eventIds: readonly string[],
    trx: Queryable = this.db,
  ): Promise<Map<string, { userId: string; deviceId: string; txnId: string }>> {
    const out = new Map<string, { userId: string; deviceId: string; txnId: string }>();
    if (eventIds.length === 0) return out;
    const rows = (await trx('rooms_txns').whereIn('event_id', eventIds)) as {
      user_id: string;
      device_id: string;
      txn_id: string;
      event_id: string;
    }[];
    for (const r of rows) out.set(r.event_id, { userId: r.user_id, deviceId: r.device_id, txnId: r.txn_id });
    return out;
  }
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

/** The columns of an event row after `stream_ordering`, and their `?`s after `event_id`'s (see eventValues). */
const EVENT_COLUMNS = `event_id, room_id, type, state_key, sender, depth, origin_server_ts, json, unsigned_json,
  rejected_reason, state_group, membership, relates_to, rel_type`;
const EVENT_VALUE_SLOTS = '?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?';

/** The values of EVENT_COLUMNS after `event_id`, in order. */
function eventValues(e: NewEvent): unknown[] {
  return [
    e.roomId,
    e.type,
    e.stateKey,
    e.sender,
    e.depth,
    e.originServerTs,
    JSON.stringify(e.pdu),
    e.unsigned ? toJsonColumn(e.unsigned) : null,
    e.rejectedReason,
    e.stateGroup,
    e.membership,
    e.relatesTo,
    e.relType,
  ];
}

/** Why a one-call send transaction failed, from SQLite's constraint message (see the *Statement methods). */
export function isTxnReplayed(err: unknown): boolean {
  return constraintMessage(err).includes('UNIQUE constraint failed: rooms_txns.');
}

export function isHeadMoved(err: unknown): boolean {
  return constraintMessage(err).includes('NOT NULL constraint failed: rooms_rooms.last_stream');
}

export function isStreamMoved(err: unknown): boolean {
  const message = constraintMessage(err);
  return (
    message.includes('NOT NULL constraint failed: rooms_events.event_id') ||
    message.includes('UNIQUE constraint failed: rooms_events.stream_ordering')
  );
}

function constraintMessage(err: unknown): string {
  const e = err as { code?: unknown; message?: unknown } | null;
  return e && e.code === 'SQLITE_CONSTRAINT' && typeof e.message === 'string' ? e.message : '';
}
