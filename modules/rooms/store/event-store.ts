/* eslint-disable @typescript-eslint/no-unnecessary-type-assertion -- knex rows are typed by assertion here, at the store boundary */
/**
 * `rooms_events` and `rooms_event_edges`: writing an event with its prev/auth edges (knex-free, inside the
 * send path's transaction), redacting it, reading events by id, and the stream ordering (the `events`
 * stream's position). Range reads live in timeline-store.ts.
 */
import type { PduJson } from '../../../core/protocol/pdu.js';
import { isSqlite, toJsonColumn, toNumber } from '../../../core/storage/dialect.js';
import type { Sql, SqlStatement } from '../../../core/storage/sql.js';
import type { Queryable } from '../../../core/storage/transaction.js';
import {
  EVENT_COLUMNS,
  EVENT_VALUE_SLOTS,
  eventFromRow,
  eventValues,
  type EventDbRow,
  type NewEvent,
  type StoredEvent,
} from './event-rows.js';
import { constraintMessage, RoomsTableStore } from './table-store.js';

export class EventStore extends RoomsTableStore {
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

  /** Inserts an event and returns its stream ordering (assigned by the database, or `streamOrdering` reserved). */
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

  /**
   * Inserts an event before the stream: at a negative stream ordering below every other (no stream read,
   * so no sync, reaches it). For outliers (state and auth events fetched from another server, in no
   * timeline) and backfilled history (in the timeline by topological order only). Each call goes one lower,
   * so a backfill run inserted newest first keeps its stream order topological too.
   */
  async insertBeforeStream(e: NewEvent, outlier: boolean, sql: Sql): Promise<number> {
    const rows = await sql.all<{ stream_ordering: number | string }>(
      `INSERT INTO rooms_events (stream_ordering, outlier, ${EVENT_COLUMNS})
       VALUES ((SELECT CASE WHEN MIN(stream_ordering) < 0 THEN MIN(stream_ordering) - 1 ELSE -1 END
                FROM rooms_events), ?, ?, ${EVENT_VALUE_SLOTS})
       RETURNING stream_ordering`,
      [outlier, e.eventId, ...eventValues(e)],
    );
    return toNumber(rows[0]?.stream_ordering);
  }

  /** Which of `eventIds` are outliers (known only as state or auth of another event). */
  async outlierIds(eventIds: readonly string[], trx: Queryable = this.db): Promise<Set<string>> {
    const out = new Set<string>();
    for (let i = 0; i < eventIds.length; i += 500) {
      const rows = (await trx('rooms_events')
        .whereIn('event_id', eventIds.slice(i, i + 500))
        .andWhere('outlier', true)
        .select('event_id')) as { event_id: string }[];
      for (const r of rows) out.add(r.event_id);
    }
    return out;
  }

  /** An outlier enters the timeline (backfill reached it): its place in history, state and verdict. */
  async promoteOutlier(
    e: Pick<NewEvent, 'eventId' | 'stateGroup' | 'unsigned' | 'rejectedReason' | 'relatesTo' | 'relType'>,
    streamOrdering: number,
    sql: Sql,
  ): Promise<void> {
    await sql.run(
      `UPDATE rooms_events SET outlier = ?, stream_ordering = ?, state_group = ?, unsigned_json = ?,
       rejected_reason = ?, relates_to = ?, rel_type = ? WHERE event_id = ? AND outlier = ?`,
      [
        false,
        streamOrdering,
        e.stateGroup,
        e.unsigned ? toJsonColumn(e.unsigned) : null,
        e.rejectedReason,
        e.relatesTo,
        e.relType,
        e.eventId,
        true,
      ],
    );
  }

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

  /** Replaces the stored PDU with its redacted form: the original content is gone from the database. */
  async redactEvent(eventId: string, redacted: PduJson, redactedBy: string, sql?: Sql): Promise<void> {
    await this.write(sql, (q) =>
      q.run('UPDATE rooms_events SET json = ?, redacted_by = ?, unsigned_json = NULL WHERE event_id = ?', [
        toJsonColumn(redacted),
        redactedBy,
        eventId,
      ]),
    );
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

  async maxStreamOrdering(trx: Queryable = this.db): Promise<number> {
    const row = (await trx('rooms_events').max('stream_ordering as m').first()) as
      { m: number | string | null } | undefined;
    return toNumber(row?.m);
  }
}

/** The one-call send transaction failed because another process wrote events (see insertEventStatement). */
export function isStreamMoved(err: unknown): boolean {
  const message = constraintMessage(err);
  return (
    message.includes('NOT NULL constraint failed: rooms_events.event_id') ||
    message.includes('UNIQUE constraint failed: rooms_events.stream_ordering')
  );
}
