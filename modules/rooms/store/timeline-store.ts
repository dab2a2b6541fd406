/* eslint-disable @typescript-eslint/no-unnecessary-type-assertion -- knex rows are typed by assertion here, at the store boundary */
/**
 * Reads of `rooms_events` by position: topological order (/messages, /context), stream order (sync), by
 * relation and thread, by timestamp, and the history of one state entry or of memberships. The hot ones
 * (a sync's per-room timeline, a user's membership changes) are plain SQL through `select`.
 */
import { toNumber } from '../../../core/storage/dialect.js';
import type { Queryable } from '../../../core/storage/transaction.js';
import { eventFromRow, type EventDbRow, type StoredEvent, type TopoPosition } from './event-rows.js';
import { RoomsTableStore } from './table-store.js';

/** The columns of an event row but `json`, in the order both branches of `bundleRows` select them. */
const BUNDLE_COLUMNS = [
  'stream_ordering',
  'event_id',
  'room_id',
  'type',
  'state_key',
  'sender',
  'depth',
  'origin_server_ts',
  'unsigned_json',
  'redacted_by',
  'rejected_reason',
  'state_group',
  'membership',
  'relates_to',
  'rel_type',
] as const;

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

  /** Events related to `eventId`, optionally of one rel_type and event type, in topological order. */
  async relations(
    eventId: string,
    options: { relType?: string; eventType?: string; dir: 'f' | 'b'; from?: TopoPosition; limit: number },
    trx: Queryable = this.db,
  ): Promise<StoredEvent[]> {
    // A redacted child is no longer related (its m.relates_to is redacted away).
    const q = trx('rooms_events')
      .where({ relates_to: eventId })
      .whereNull('rejected_reason')
      .whereNull('redacted_by');
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

  /**
   * Which of `parentIds` have at least one live (not rejected, not redacted) child relation whose rel_type is
   * in `relTypes` and whose sender is in `senders` (an absent list does not restrict): the RoomEventFilter's
   * `related_by_rel_types` / `related_by_senders`, one indexed read (`rooms_events_relates`) per batch.
   */
  async relatedBy(
    parentIds: readonly string[],
    match: { relTypes?: readonly string[]; senders?: readonly string[] },
    trx: Queryable = this.db,
  ): Promise<Set<string>> {
    if (parentIds.length === 0) return new Set();
    const q = trx('rooms_events')
      .distinct('relates_to')
      .whereIn('relates_to', parentIds)
      .whereNull('rejected_reason')
      .whereNull('redacted_by');
    if (match.relTypes) q.whereIn('rel_type', match.relTypes);
    if (match.senders) q.whereIn('sender', match.senders);
    const rows = (await q) as { relates_to: string }[];
    return new Set(rows.map((r) => r.relates_to));
  }

  /** Live children of any of `parentIds` (one level of a recursive /relations), oldest first, up to `limit`. */
  async childrenOf(
    parentIds: readonly string[],
    limit: number,
    trx: Queryable = this.db,
  ): Promise<StoredEvent[]> {
    if (parentIds.length === 0) return [];
    const rows = (await trx('rooms_events')
      .whereIn('relates_to', parentIds)
      .whereNull('rejected_reason')
      .whereNull('redacted_by')
      .orderBy([
        { column: 'depth', order: 'asc' },
        { column: 'stream_ordering', order: 'asc' },
      ])
      .limit(limit)) as EventDbRow[];
    return rows.map(eventFromRow);
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
      .whereNull('redacted_by')
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

  /**
   * What the bundled aggregations of `eventIds` need, in one indexed read (`rooms_events_relates`): every
   * live (not rejected, not redacted) `m.replace` and `m.reference` child of them, and for each that is a
   * thread root its newest live `m.thread` reply, whose `threadCount` is the number of live replies.
   * Children sent by `excludeSenders` (the viewer's ignored users) are left out, count included. A
   * reference comes without its content (`pdu` is `{}`): only its id is bundled.
   */
  async bundleRows(
    eventIds: readonly string[],
    excludeSenders: ReadonlySet<string> = new Set(),
    trx: Queryable = this.db,
  ): Promise<{ event: StoredEvent; threadCount: number }[]> {
    if (eventIds.length === 0) return [];
    if (!(await this.anyRelatesTo(eventIds, trx))) return [];
    const ignored = [...excludeSenders];
    // A reference's JSON is not needed (only its id is bundled): a poll's thousands of answers stay cheap.
    const children = trx('rooms_events')
      .select(
        ...BUNDLE_COLUMNS,
        trx.raw(`CASE WHEN rel_type = 'm.replace' THEN json ELSE '{}' END as json`),
        trx.raw('1 as n'),
      )
      .whereIn('relates_to', eventIds)
      .whereIn('rel_type', ['m.replace', 'm.reference'])
      .whereNull('rejected_reason')
      .whereNull('redacted_by');
    if (ignored.length > 0) children.whereNotIn('sender', ignored);
    const threads = trx('rooms_events')
      .select('relates_to')
      .count('* as n')
      .max('stream_ordering as latest')
      .whereIn('relates_to', eventIds)
      .andWhere({ rel_type: 'm.thread' })
      .whereNull('rejected_reason')
      .whereNull('redacted_by')
      .modify((q) => {
        if (ignored.length > 0) q.whereNotIn('sender', ignored);
      })
      .groupBy('relates_to')
      .as('s');
    const latest = trx('rooms_events as t')
      .select(...BUNDLE_COLUMNS.map((c) => `t.${c}`), 't.json', 's.n')
      .join(threads, 't.stream_ordering', 's.latest');
    const rows = (await children.unionAll(latest)) as (EventDbRow & { n: number | string })[];
    return rows.map((r) => ({ event: eventFromRow(r), threadCount: toNumber(r.n) }));
  }

  /**
   * Whether any event relates to one of `eventIds`: most pages (and nearly every incremental sync) have no
   * child at all, and this prepared probe costs a fraction of building the bundle query through knex
   * (scripts/bench/sync-bench.ts, SQLite, incremental sync with one new message: p50 2.7-2.8 ms with the
   * bundle query alone, 1.7 ms with this probe first, as before bundling).
   */
  private async anyRelatesTo(eventIds: readonly string[], trx: Queryable): Promise<boolean> {
    // Chunks of up to 100 ids keep the statement texts (and so the prepared-statement cache) few.
    for (let i = 0; i < eventIds.length; i += 100) {
      const chunk = eventIds.slice(i, i + 100);
      const marks = chunk.map(() => '?').join(',');
      const rows = await this.select<{ one: number }>(
        trx,
        `SELECT 1 AS one FROM rooms_events WHERE relates_to IN (${marks}) LIMIT 1`,
        chunk,
      );
      if (rows.length > 0) return true;
    }
    return false;
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
      .whereNull('rejected_reason')
      .whereNull('redacted_by')
      .distinct('relates_to')) as { relates_to: string }[];
    return new Set(rows.map((r) => r.relates_to));
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
