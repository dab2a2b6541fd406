/* eslint-disable @typescript-eslint/no-unnecessary-type-assertion -- knex rows are typed by assertion here, at the store boundary */
/**
 * Reads of `rooms_events` by relation: an event's children (`/relations`, recursion), thread roots and
 * summaries (`/threads`), the bundles of a page (relations-bundler.ts) and `related_by_*` filter matches.
 */
import type { PduJson } from '../../../core/protocol/pdu.js';
import { fromJsonColumn, toNumber } from '../../../core/storage/dialect.js';
import type { Queryable } from '../../../core/storage/transaction.js';
import {
  eventFromRow,
  type EventDbRow,
  type ServerUnsigned,
  type StoredEvent,
  type TopoPosition,
} from './event-rows.js';
import { RoomsTableStore } from './table-store.js';

export class RelationStore extends RoomsTableStore {
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
    const out = new Set<string>();
    // Batches of 500 stay under every engine's limit on bound parameters (a room's whole state may come).
    for (let i = 0; i < parentIds.length; i += 500) {
      const q = trx('rooms_events')
        .distinct('relates_to')
        .whereIn('relates_to', parentIds.slice(i, i + 500))
        .whereNull('rejected_reason')
        .whereNull('redacted_by');
      if (match.relTypes) q.whereIn('rel_type', match.relTypes);
      if (match.senders) q.whereIn('sender', match.senders);
      for (const r of (await q) as { relates_to: string }[]) out.add(r.relates_to);
    }
    return out;
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
   * What the bundled aggregations of `eventIds` (events of `roomId`) need, in one prepared read per 100 ids
   * (the `rooms_events_relates` index), children in the same room only (relations do not cross rooms): every
   * live (not rejected, not redacted) `m.replace` child, the ids of the
   * live `m.reference` children, and for each thread root its newest live `m.thread` reply with the number
   * of live replies. Children sent by `excludeSenders` (the viewer's ignored users) are left out, counts
   * included.
   *
   * Why plain SQL and so few columns (scripts/bench/relations-bench.ts): node-sqlite3 pays per value it
   * hands over, so a row of 8 columns (the rest is in the PDU) costs about half a full row; a prepared
   * statement skips knex's query building and SQLite's compiling; and the same statement answers "no child
   * at all" as cheaply as a probe would, so a page without relations (nearly every incremental sync) costs
   * this one read. A reference comes without its JSON (only its id is bundled): a poll's thousands of
   * answers stay cheap.
   */
  async bundleRows(
    roomId: string,
    eventIds: readonly string[],
    excludeSenders: ReadonlySet<string> = new Set(),
    trx: Queryable = this.db,
  ): Promise<BundleRows> {
    const out: BundleRows = { edits: [], references: [], threads: [] };
    const ignored = [...excludeSenders];
    const notIgnored = ignored.length > 0 ? ` AND sender NOT IN (${ignored.map(() => '?').join(',')})` : '';
    // Chunks of up to 100 ids keep the statement texts (and so the prepared-statement cache) few.
    for (let i = 0; i < eventIds.length; i += 100) {
      const chunk = eventIds.slice(i, i + 100);
      const ids = chunk.map(() => '?').join(',');
      const live = `relates_to IN (${ids}) AND room_id = ? AND rejected_reason IS NULL AND redacted_by IS NULL${notIgnored}`;
      const rows = await this.select<BundleDbRow>(
        trx,
        `SELECT stream_ordering, event_id, room_id, relates_to, rel_type, unsigned_json,
           CASE WHEN rel_type = 'm.replace' THEN json ELSE NULL END AS json, 1 AS n
         FROM rooms_events WHERE ${live} AND rel_type IN ('m.replace', 'm.reference')
         UNION ALL
         SELECT t.stream_ordering, t.event_id, t.room_id, t.relates_to, t.rel_type, t.unsigned_json, t.json, s.n
         FROM rooms_events t JOIN (
           SELECT MAX(stream_ordering) AS latest, COUNT(*) AS n FROM rooms_events
           WHERE ${live} AND rel_type = 'm.thread' GROUP BY relates_to
         ) s ON t.stream_ordering = s.latest`,
        [...chunk, roomId, ...ignored, ...chunk, roomId, ...ignored],
      );
      for (const r of rows) {
        if (r.rel_type === 'm.reference') {
          out.references.push({
            eventId: r.event_id,
            relatesTo: r.relates_to,
            streamOrdering: toNumber(r.stream_ordering),
          });
        } else if (r.json !== null) {
          const event = liveEventFromBundleRow(r, r.json);
          if (r.rel_type === 'm.replace') out.edits.push(event);
          else out.threads.push({ latest: event, count: toNumber(r.n) });
        }
      }
    }
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
      .whereNull('rejected_reason')
      .whereNull('redacted_by')
      .distinct('relates_to')) as { relates_to: string }[];
    return new Set(rows.map((r) => r.relates_to));
  }
}

/** What `bundleRows` finds for a page of events. */
export interface BundleRows {
  /** Live `m.replace` children, each whole but for its state group (an edit has no use for one). */
  readonly edits: StoredEvent[];
  /** Live `m.reference` children: only what the bundle shows. */
  readonly references: { eventId: string; relatesTo: string; streamOrdering: number }[];
  /** Per thread root, its newest live reply (as `edits`) and the number of live replies. */
  readonly threads: { latest: StoredEvent; count: number }[];
}

interface BundleDbRow {
  stream_ordering: number | string;
  event_id: string;
  room_id: string;
  relates_to: string;
  rel_type: string;
  unsigned_json: string | null;
  json: string | null;
  n: number | string;
}

/**
 * A live child event from its bundle row: the columns the PDU does not hold, the rest read from the PDU as
 * the persister derived them (event-persister.ts `newEventOf`). The read selects live events only.
 */
function liveEventFromBundleRow(r: BundleDbRow, json: string): StoredEvent {
  const pdu = JSON.parse(json) as PduJson;
  const membership = pdu.content['membership'];
  return {
    streamOrdering: toNumber(r.stream_ordering),
    eventId: r.event_id,
    roomId: r.room_id,
    type: pdu.type,
    stateKey: pdu.state_key ?? null,
    sender: pdu.sender,
    depth: Number(pdu.depth),
    originServerTs: pdu.origin_server_ts,
    pdu,
    unsigned: fromJsonColumn<ServerUnsigned>(r.unsigned_json),
    redactedBy: null,
    rejectedReason: null,
    stateGroup: null,
    membership: pdu.type === 'm.room.member' && typeof membership === 'string' ? membership : null,
    relatesTo: r.relates_to,
    relType: r.rel_type,
  };
}
