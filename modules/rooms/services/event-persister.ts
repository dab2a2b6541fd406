/**
 * The commit step of the send path, and THE one way an event enters the room DAG: `persistEvents` takes
 * events that are already built, signed and authorised — by the local builder (event-builder.ts) today, by
 * the federation receive pipeline (signatures, hashes and auth checked there; a rejection carried as
 * `rejectedReason`) later — and writes them on the room's head in one transaction: event row, prev/auth
 * edges, state group, current state, membership, redaction of the target, txn id, the rows EventWriters
 * asked for, and the room head with its optimistic `last_stream` check. Then the head cache and the
 * committed stream maximum advance. `announce` (listeners, notifier) runs after, outside the room lock.
 *
 * Two ways to the database, both core/storage/sql.ts (see the module README "The send path"):
 * - the one-call batch (`commitOneCall`): SQLite, message-like events only — one call into the driver with
 *   the stream orderings chosen by this process and guarded in SQL;
 * - statement by statement (`commitPrepared`): everything else, and every event on PostgreSQL.
 */
import type { Cradle } from '../../../core/container.js';
import { splitStateKey, stateKey, type PduJson } from '../../../core/protocol/pdu.js';
import { redactEvent } from '../../../core/protocol/redaction.js';
import {
  sqlBatchTransaction,
  sqlTransaction,
  type Sql,
  type SqlStatement,
} from '../../../core/storage/sql.js';
import type { StoredEvent } from '../store/event-rows.js';
import { isStreamMoved, type EventStore } from '../store/event-store.js';
import type { MembershipStore } from '../store/membership-store.js';
import { isHeadMoved, type RoomRow, type RoomStore } from '../store/room-store.js';
import type { StateStore } from '../store/state-store.js';
import { isTxnReplayed, type TxnStore } from '../store/txn-store.js';
import { persistedView, type RoomHooks, type TransactionWrite } from './hooks.js';
import type { RoomHead, RoomHeads } from './room-heads.js';
import { extremitiesAfter, newEventOf, redactsOf, refIds } from './persisted-rows.js';
import { forkedStateStep, headStateStep, type ForkedState, type StateStep } from './persist-state.js';
import type { StreamTracker } from './stream-tracker.js';

/** An event ready to be written: built, signed and authorised by whoever hands it over. */
export interface EventToPersist {
  readonly eventId: string;
  readonly pdu: PduJson;
  /** A local send's (device, txn id): a reused one fails the commit with `TxnReplayed`. */
  readonly txn?: { readonly deviceId: string; readonly txnId: string };
  /** Rows other modules commit with the event (see EventWriter). */
  readonly writes?: readonly TransactionWrite[];
  /**
   * Why the event failed its auth checks (federation): it is stored with the reason and its edges, and
   * changes nothing else — no state, no membership, no redaction, no forward extremity.
   */
  readonly rejectedReason?: string;
  /**
   * The state around an event whose prev_events are not exactly the head's forward extremities (a fork or
   * a merge, received over federation): the state before it and the resolved current state after it.
   */
  readonly forked?: ForkedState;
}

export interface PersistOptions {
  /** The room's row, written in the same transaction (its create event is the first of `events`). */
  readonly newRoom?: RoomRow;
  /**
   * Writes that come first in the same transaction (after the room row), returning the head the events
   * build on: a remote join's outliers and the state before the join (remote-room-writer.ts), whose state
   * group only exists once written.
   */
  readonly prelude?: (sql: Sql) => Promise<RoomHead>;
}

/** One persisted event and the room head just after it. */
export interface Persisted {
  readonly head: RoomHead;
  readonly stored: StoredEvent;
}

/** The (user, device, txn id) was used already: roll back and answer with the first event. */
export class TxnReplayed extends Error {}
/** Another writer (process) advanced the room since the head was read: roll back and rebuild. */
export class HeadMoved extends Error {}

type Deps = Pick<
  Cradle,
  | 'db'
  | 'logger'
  | 'notifier'
  | 'roomsRoomStore'
  | 'roomsEventStore'
  | 'roomsStateStore'
  | 'roomsMembershipStore'
  | 'roomsTxnStore'
  | 'roomsHeads'
  | 'roomsStreams'
  | 'roomsHookLists'
>;

export class EventPersister {
  private readonly db: Deps['db'];
  private readonly logger: Deps['logger'];
  private readonly notifier: Deps['notifier'];
  private readonly roomStore: RoomStore;
  private readonly eventStore: EventStore;
  private readonly stateStore: StateStore;
  private readonly membershipStore: MembershipStore;
  private readonly txnStore: TxnStore;
  private readonly heads: RoomHeads;
  private readonly streams: StreamTracker;
  private readonly hooks: RoomHooks;

  constructor({
    db,
    logger,
    notifier,
    roomsRoomStore,
    roomsEventStore,
    roomsStateStore,
    roomsMembershipStore,
    roomsTxnStore,
    roomsHeads,
    roomsStreams,
    roomsHookLists,
  }: Deps) {
    this.db = db;
    this.logger = logger;
    this.notifier = notifier;
    this.roomStore = roomsRoomStore;
    this.eventStore = roomsEventStore;
    this.stateStore = roomsStateStore;
    this.membershipStore = roomsMembershipStore;
    this.txnStore = roomsTxnStore;
    this.heads = roomsHeads;
    this.streams = roomsStreams;
    this.hooks = roomsHookLists;
  }

  /**
   * Persists `events`, in order, each on the head left by the previous one (`head` for the first), in one
   * transaction; call it under the room lock (`RoomHeads.withRoomLock`). On success the head cache holds
   * the new head. Throws `TxnReplayed` (a reused txn id) or `HeadMoved` (another process wrote to the room:
   * the cache is dropped, rebuild on the reloaded head); anything else is a real failure.
   */
  async persistEvents(
    head: RoomHead,
    events: readonly EventToPersist[],
    options: PersistOptions = {},
  ): Promise<Persisted[]> {
    const reservations: number[] = [];
    try {
      const results = this.oneCallFits(events, options)
        ? await this.commitOneCall(head, events)
        : await this.commitPrepared(head, events, options, reservations);
      const last = results[results.length - 1];
      if (last) this.heads.set(last.head);
      return results;
    } catch (err) {
      this.heads.invalidate(head.roomId); // reload from the database on the next write
      throw err;
    } finally {
      for (const n of reservations) this.streams.release(n);
    }
  }

  /** After commit, outside the room lock: persisted-event listeners, then the notifier wakes sync. */
  async announce(stored: StoredEvent): Promise<void> {
    for (const listener of this.hooks.persistedListeners) {
      try {
        await listener(persistedView(stored));
      } catch (err) {
        this.logger.error({ err, eventId: stored.eventId }, 'a persisted-event listener failed');
      }
    }
    this.notifier.publish({
      stream: 'events',
      position: stored.streamOrdering,
      roomIds: [stored.roomId],
      userIds: stored.type === 'm.room.member' && stored.stateKey !== null ? [stored.stateKey] : undefined,
    });
  }

  // ---- statement by statement ------------------------------------------------------------------------

  /** Commits the events statement by statement (`persistOne`), then records the stream maximum. */
  private async commitPrepared(
    head: RoomHead,
    events: readonly EventToPersist[],
    options: PersistOptions,
    reservations: number[],
  ): Promise<Persisted[]> {
    const results = await sqlTransaction(this.db, async (sql) => {
      if (options.newRoom) await this.roomStore.insertRoom(options.newRoom, sql);
      const out: Persisted[] = [];
      let current = options.prelude ? await options.prelude(sql) : head;
      for (const event of events) {
        const persisted = await this.persistOne(current, event, sql, reservations);
        out.push(persisted);
        current = persisted.head;
      }
      return out;
    });
    const last = results[results.length - 1];
    if (last) this.streams.committed(last.stored.streamOrdering);
    return results;
  }

  private async persistOne(
    head: RoomHead,
    event: EventToPersist,
    sql: Sql,
    reservations: number[],
  ): Promise<Persisted> {
    const { eventId, pdu } = event;
    const accepted = event.rejectedReason === undefined;
    if (
      event.txn &&
      !(await this.txnStore.insertTxn(pdu.sender, event.txn.deviceId, event.txn.txnId, eventId, sql))
    ) {
      throw new TxnReplayed();
    }
    const key = accepted && pdu.state_key !== undefined ? stateKey(pdu.type, pdu.state_key) : undefined;
    const stepInput = { head, eventId, event: { eventId, pdu }, key, accepted };
    const step = event.forked
      ? await forkedStateStep(this.stateStore, stepInput, event.forked, sql)
      : await headStateStep(this.stateStore, stepInput, sql);
    const newEvent = newEventOf(head.roomId, event, step.eventGroup, step.unsigned);
    let reserved: number | undefined;
    if (this.eventStore.reservesStreamOrdering) {
      reserved = await this.streams.reserve(() => this.eventStore.reserveStreamOrdering(sql));
      reservations.push(reserved);
    }
    const streamOrdering = await this.eventStore.insertEvent(newEvent, sql, reserved);
    await this.eventStore.insertEdges(eventId, refIds(pdu.prev_events), refIds(pdu.auth_events), sql);
    await this.applyCurrentState(head, step, streamOrdering, sql);
    const redacts = accepted ? redactsOf(pdu) : undefined;
    if (redacts !== undefined) {
      const target = await this.eventStore.getEventIn(sql, redacts);
      if (target && target.roomId === head.roomId && target.redactedBy === null) {
        await this.eventStore.redactEvent(redacts, redactEvent(target.pdu, head.version), eventId, sql);
      }
    }
    const next: RoomHead = {
      ...head,
      lastStream: streamOrdering,
      maxDepth: Math.max(head.maxDepth, pdu.depth),
      extremities: accepted ? extremitiesAfter(head, event) : head.extremities,
      stateGroup: step.currentGroup,
      chainLength: step.chainLength,
      state: step.state,
    };
    // The event in the state it made current (a fresh map, never the previous head's) learns its position.
    if (key && step.state.get(key)?.eventId === eventId)
      step.state.set(key, { eventId, pdu, streamOrdering });
    const advanced = await this.roomStore.advanceRoomHead(
      head.roomId,
      head.lastStream,
      {
        lastStream: streamOrdering,
        maxDepth: next.maxDepth,
        forwardExtremities: next.extremities,
        stateGroup: step.currentGroup,
      },
      sql,
    );
    if (!advanced) throw new HeadMoved();
    for (const write of event.writes ?? [])
      for (const [text, params] of write(streamOrdering)) await sql.run(text, params);
    return { head: next, stored: { ...newEvent, streamOrdering, redactedBy: null } };
  }

  /**
   * Writes the current-state entries a step changed, the memberships among them (at this event's stream
   * position, so sync sees the change), and the current state's history when its group changed.
   */
  private async applyCurrentState(
    head: RoomHead,
    step: StateStep,
    streamOrdering: number,
    sql: Sql,
  ): Promise<void> {
    for (const [key, e] of step.changes) {
      const [type, stateKeyOf] = splitStateKey(key);
      if (!e) {
        await this.stateStore.deleteCurrentState(head.roomId, type, stateKeyOf, sql);
        continue;
      }
      await this.stateStore.setCurrentState(head.roomId, type, stateKeyOf, e.eventId, sql);
      const membership = e.pdu.content['membership'];
      if (type === 'm.room.member' && typeof membership === 'string') {
        await this.membershipStore.setMembership(
          head.roomId,
          stateKeyOf,
          membership,
          e.eventId,
          streamOrdering,
          sql,
        );
      }
    }
    if (step.currentGroup !== null && step.currentGroup !== head.stateGroup) {
      await this.stateStore.recordCurrentStateGroup(
        head.roomId,
        streamOrdering,
        step.currentGroup,
        step.resolved,
        sql,
      );
    }
  }

  // ---- the one-call batch (SQLite) -------------------------------------------------------------------

  /**
   * Whether the batch can commit as one call into SQLite (sql.ts `sqlBatchTransaction`): on SQLite, whose
   * single writer lets this process choose each event's stream ordering (guarded in SQL against another
   * process having written meanwhile), when it can be planned without reading anything back — accepted
   * message-like events only (no state group to allocate, no redaction target to read, no room row).
   */
  private oneCallFits(events: readonly EventToPersist[], options: PersistOptions): boolean {
    return (
      !this.eventStore.reservesStreamOrdering &&
      options.newRoom === undefined &&
      options.prelude === undefined &&
      events.every(
        ({ pdu, rejectedReason, forked }) =>
          pdu.state_key === undefined &&
          pdu.type !== 'm.room.redaction' &&
          rejectedReason === undefined &&
          forked === undefined,
      )
    );
  }

  /** Plans the batch after the newest stream ordering `knownMax` (see `oneCallFits`). */
  private planOneCall(
    head: RoomHead,
    events: readonly EventToPersist[],
    knownMax: number,
  ): { statements: SqlStatement[]; result: Persisted[] } {
    const statements: SqlStatement[] = [];
    const results: Persisted[] = [];
    let current = head;
    events.forEach((event, i) => {
      const { eventId, pdu } = event;
      const streamOrdering = knownMax + 1 + i;
      const row = newEventOf(current.roomId, event, current.stateGroup, undefined);
      if (event.txn) {
        statements.push(
          this.txnStore.insertTxnStatement(pdu.sender, event.txn.deviceId, event.txn.txnId, eventId),
        );
      }
      statements.push(
        this.eventStore.insertEventStatement(row, streamOrdering, i === 0 ? knownMax : undefined),
      );
      statements.push(
        ...this.eventStore.insertEdgesStatements(eventId, refIds(pdu.prev_events), refIds(pdu.auth_events)),
      );
      for (const write of event.writes ?? []) statements.push(...write(streamOrdering));
      const next: RoomHead = {
        ...current,
        lastStream: streamOrdering,
        maxDepth: Math.max(current.maxDepth, pdu.depth),
        extremities: extremitiesAfter(current, event),
      };
      results.push({ head: next, stored: { ...row, streamOrdering, redactedBy: null } });
      current = next;
    });
    statements.push(
      this.roomStore.advanceRoomHeadStatement(head.roomId, head.lastStream, {
        lastStream: current.lastStream,
        maxDepth: current.maxDepth,
        forwardExtremities: current.extremities,
        stateGroup: current.stateGroup,
      }),
    );
    return { statements, result: results };
  }

  /**
   * Plans and commits a batch with the database connection held (so no other batch of this process picks
   * the same stream orderings); failures become the outcomes `persistOne` would have thrown.
   */
  private async commitOneCall(head: RoomHead, events: readonly EventToPersist[]): Promise<Persisted[]> {
    if (this.streams.knownMax() === undefined) {
      await this.streams.current(() => this.eventStore.maxStreamOrdering()); // once per process
    }
    try {
      return await sqlBatchTransaction(
        this.db,
        () => this.planOneCall(head, events, this.streams.knownMax() ?? 0),
        (results) => {
          const last = results[results.length - 1];
          if (last) this.streams.committed(last.stored.streamOrdering);
        },
      );
    } catch (err) {
      if (isTxnReplayed(err)) throw new TxnReplayed();
      if (isHeadMoved(err)) throw new HeadMoved();
      if (isStreamMoved(err)) {
        await this.streams.current(() => this.eventStore.maxStreamOrdering(), true); // learn the other writes
        throw new HeadMoved();
      }
      throw err;
    }
  }
}
