/** The only code that touches push_rules_notifications: what each event notified, and what was read. */
import type { Knex } from 'knex';
import { fromJsonColumn, toJsonColumn, toNumber } from '../../../core/storage/dialect.js';
import type { Queryable } from '../../../core/storage/transaction.js';
import { sqlBatchTransaction, sqlQuery, type SqlStatement } from '../../../core/storage/sql.js';
import type { PushAction } from '../rules/types.js';

export interface NewNotification {
  readonly userId: string;
  readonly roomId: string;
  readonly eventId: string;
  readonly streamOrdering: number;
  readonly threadId: string;
  readonly actions: readonly PushAction[];
  readonly notify: boolean;
  readonly highlight: boolean;
  readonly ts: number;
}

export interface NotificationRow extends NewNotification {
  readonly id: number;
  readonly read: boolean;
}

export interface CountRow {
  readonly roomId: string;
  readonly threadId: string;
  readonly notifications: number;
  readonly highlights: number;
}

interface RawRow {
  id: string | number;
  user_id: string;
  room_id: string;
  event_id: string;
  stream_ordering: string | number;
  thread_id: string;
  actions: string;
  notify: number;
  highlight: number;
  read: boolean | number;
  ts: string | number;
}

const CHUNK = 500;

export class NotificationsStore {
  private readonly db: Knex;

  constructor({ db }: { db: Knex }) {
    this.db = db;
  }

  /** Records notifications outside an event's transaction (the send path uses `insertStatements`). */
  async insert(rows: readonly NewNotification[]): Promise<void> {
    if (rows.length === 0) return;
    await sqlBatchTransaction(this.db, () => ({
      statements: this.insertStatements(rows),
      result: undefined,
    }));
  }

  /** `insert` as statements of the event's own transaction (the send path: see rooms' EventWriter). */
  insertStatements(rows: readonly NewNotification[]): SqlStatement[] {
    const out: SqlStatement[] = [];
    for (let i = 0; i < rows.length; i += CHUNK) {
      const chunk = rows.slice(i, i + CHUNK);
      out.push([
        `INSERT INTO push_rules_notifications
           (user_id, room_id, event_id, stream_ordering, thread_id, actions, notify, highlight, read, ts)
         VALUES ${chunk.map(() => '(?, ?, ?, ?, ?, ?, ?, ?, ?, ?)').join(', ')}
         ON CONFLICT (user_id, event_id) DO NOTHING`,
        chunk.flatMap((r) => [
          r.userId,
          r.roomId,
          r.eventId,
          r.streamOrdering,
          r.threadId,
          toJsonColumn(r.actions),
          r.notify ? 1 : 0,
          r.highlight ? 1 : 0,
          false,
          r.ts,
        ]),
      ]);
    }
    return out;
  }

  /** `markRead` (one thread) as a statement of the event's own transaction. */
  markReadStatement(userId: string, roomId: string, streamOrdering: number, threadId: string): SqlStatement {
    return [
      `UPDATE push_rules_notifications SET read = ?
       WHERE user_id = ? AND room_id = ? AND read = ? AND stream_ordering <= ? AND thread_id = ?`,
      [true, userId, roomId, false, streamOrdering, threadId],
    ];
  }

  /** Marks the user's notifications in the room up to `streamOrdering` as read (in one thread, or all). */
  async markRead(
    userId: string,
    roomId: string,
    streamOrdering: number,
    threadId: string | undefined,
    trx?: Queryable,
  ): Promise<number> {
    const q = (trx ?? this.db)('push_rules_notifications')
      .where({ user_id: userId, room_id: roomId, read: false })
      .where('stream_ordering', '<=', streamOrdering);
    if (threadId !== undefined) void q.where({ thread_id: threadId });
    return q.update({ read: true });
  }

  /** Unread notification and highlight counts per room and thread. */
  async unreadCounts(userId: string, roomIds: readonly string[], trx?: Queryable): Promise<CountRow[]> {
    const out: CountRow[] = [];
    const db = trx ?? this.db;
    if (!trx && roomIds.length === 1) {
      // The counts of the one room of a woken sync, through the fast path.
      const rows = await sqlQuery<RawCountRow>(
        this.db,
        `SELECT room_id, thread_id, sum(notify) AS notifications, sum(highlight) AS highlights
         FROM push_rules_notifications WHERE user_id = ? AND read = ? AND room_id = ?
         GROUP BY room_id, thread_id`,
        [userId, false, roomIds[0]],
      );
      return rows.map(countRowOf);
    }
    for (let i = 0; i < roomIds.length; i += CHUNK) {
      const query = db('push_rules_notifications')
        .where({ user_id: userId, read: false })
        .whereIn('room_id', roomIds.slice(i, i + CHUNK))
        .groupBy('room_id', 'thread_id')
        .select(
          'room_id',
          'thread_id',
          db.raw('sum(notify) as notifications'),
          db.raw('sum(highlight) as highlights'),
        );
      const rows = (await query) as unknown as RawCountRow[];
      out.push(...rows.map(countRowOf));
    }
    return out;
  }

  /** The user's notifications, newest first, with id below `before` (GET /notifications). */
  async list(
    userId: string,
    options: { before?: number | undefined; limit: number; onlyHighlight: boolean },
    trx?: Queryable,
  ): Promise<NotificationRow[]> {
    const q = (trx ?? this.db)('push_rules_notifications')
      .where({ user_id: userId, notify: 1 })
      .orderBy('id', 'desc')
      .limit(options.limit);
    if (options.before !== undefined) void q.where('id', '<', options.before);
    if (options.onlyHighlight) void q.where({ highlight: 1 });
    const rows = (await q) as RawRow[];
    return rows.map((r) => ({
      id: toNumber(r.id),
      userId: r.user_id,
      roomId: r.room_id,
      eventId: r.event_id,
      streamOrdering: toNumber(r.stream_ordering),
      threadId: r.thread_id,
      actions: fromJsonColumn<PushAction[]>(r.actions) ?? [],
      notify: r.notify === 1,
      highlight: r.highlight === 1,
      read: Boolean(r.read),
      ts: toNumber(r.ts),
    }));
  }
}

interface RawCountRow {
  room_id: string;
  thread_id: string;
  notifications: string | number | null;
  highlights: string | number | null;
}

function countRowOf(r: RawCountRow): CountRow {
  return {
    roomId: r.room_id,
    threadId: r.thread_id,
    notifications: toNumber(r.notifications),
    highlights: toNumber(r.highlights),
  };
}
