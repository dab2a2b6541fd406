/**
 * The send path (ARCHITECTURE.md "The flow of an event"): build the event on the room's forward
 * extremities with its auth events, check the auth rules against the state before it, persist everything
 * in one transaction, announce it on the notifier. Writes to a room are serialised by an in-process lock
 * and, across processes, by the locked room row.
 */
import { randomBytes } from 'node:crypto';
import type { Cradle } from '../../../core/container.js';
import { MatrixError } from '../../../core/errors.js';
import { authEventsSelection } from '../../../core/protocol/auth-events-selection.js';
import {
  checkEventAuth,
  type AuthEvent,
  type AuthStateLookup,
} from '../../../core/protocol/auth-rules/index.js';
import { CanonicalJsonError } from '../../../core/protocol/canonical-json.js';
import { buildEvent, type BuiltEvent } from '../../../core/protocol/event-builder.js';
import { stateKey, type JsonObject, type PduJson, type StateKey } from '../../../core/protocol/pdu.js';
import { powerLevelsFromContent, userPowerLevelFrom } from '../../../core/protocol/power-levels.js';
import { redactEvent } from '../../../core/protocol/redaction.js';
import type { RoomVersion } from '../../../core/protocol/room-versions.js';
import {
  sqlBatchTransaction,
  sqlTransaction,
  type Sql,
  type SqlStatement,
} from '../../../core/storage/sql.js';
import type { NewEvent, ServerUnsigned, StoredEvent } from '../store/event-rows.js';
import { isStreamMoved, type EventStore } from '../store/event-store.js';
import type { MembershipStore } from '../store/membership-store.js';
import { isHeadMoved, type RoomStore } from '../store/room-store.js';
import type { StateStore } from '../store/state-store.js';
import { isTxnReplayed, type TxnStore } from '../store/txn-store.js';
import type { RoomHead, RoomHeads } from './room-heads.js';
import {
  persistedView,
  type EventDraft,
  type RoomHooks,
  type RoomStateView,
  type TransactionWrite,
} from './hooks.js';
import type { StreamTracker } from './stream-tracker.js';
import { growingLru } from '../../../core/lru.js';

/** The largest event the spec allows, in bytes of its JSON. */
export const MAX_EVENT_BYTES = 65536;

export interface SendRequest {
  readonly roomId: string;
  readonly sender: string;
  readonly type: string;
  readonly stateKey?: string;
  readonly content: JsonObject;
  /** For m.room.redaction. */
  readonly redacts?: string;
  /** For m.room.redaction: the sender of the target (a user may always redact their own events). */
  readonly redactionTargetSender?: string;
  /** Makes the send idempotent per (sender, device, txn id). */
  readonly txn?: { readonly deviceId: string; readonly txnId: string };
  /** Runs under the room lock with the state before the event; throw to refuse (e.g. a membership rule). */
  readonly precheck?: (head: RoomHead) => void;
}

export interface SentEvent {
  readonly eventId: string;
  readonly streamOrdering: number;
  readonly roomId: string;
  /** True when the txn id had been used: nothing new was sent. */
  readonly deduplicated: boolean;
}

type Deps = Pick<Cradle, 'serverName' | 'signingKey' | 'notifier' | 'spamCheckers' | 'db' | 'logger'>;

export class EventSender {
  private readonly deps: Deps;
  private readonly roomStore: RoomStore;
  private readonly eventStore: EventStore;
  private readonly stateStore: StateStore;
  private readonly membershipStore: MembershipStore;
  private readonly txnStore: TxnStore;
  private readonly heads: RoomHeads;
  /** Stream orderings reserved by transactions still in flight (see StreamTracker). */
  private readonly streams: StreamTracker;
  private readonly hooks: RoomHooks;

  constructor(
    c: Deps &
      Pick<
        Cradle,
        | 'roomsRoomStore'
        | 'roomsEventStore'
        | 'roomsStateStore'
        | 'roomsMembershipStore'
        | 'roomsTxnStore'
        | 'roomsHeads'
        | 'roomsStreams'
        | 'roomsHooks'
      >,
  ) {
    this.deps = c;
    this.roomStore = c.roomsRoomStore;
    this.eventStore = c.roomsEventStore;
    this.stateStore = c.roomsStateStore;
    this.membershipStore = c.roomsMembershipStore;
    this.txnStore = c.roomsTxnStore;
    this.heads = c.roomsHeads;
    this.streams = c.roomsStreams;
    this.hooks = c.roomsHooks;
  }

  /** Builds, authorises and persists one event as a local user. */
  async send(req: SendRequest): Promise<SentEvent> {
    const txnKey = req.txn ? `${req.sender}|${req.txn.deviceId}|${req.txn.txnId}` : undefined;
    const recent = txnKey ? this.recentTxns.get(txnKey) : undefined;
    if (recent) return this.deduplicated(recent, req.roomId);
    if (!(await this.heads.get(req.roomId)))
      throw new MatrixError(404, 'M_NOT_FOUND', `Unknown room ${req.roomId}`);
    for (let attempt = 0; ; attempt++) {
      const outcome = await this.enqueue(req);
      if (outcome instanceof TxnReplayed && req.txn) {
        const existing = await this.txnStore.getTxn(req.sender, req.txn.deviceId, req.txn.txnId);
        if (existing) return this.deduplicated(existing, req.roomId);
        continue;
      }
      if (outcome instanceof HeadMoved || outcome instanceof TxnReplayed) {
        if (attempt >= 10) throw new MatrixError(503, 'M_UNKNOWN', 'The room is busy; try again');
        continue;
      }
      const { next, built } = outcome;
      if (txnKey) this.recentTxns.set(txnKey, built.eventId);
      await this.announce(next.stored);
      return {
        eventId: built.eventId,
        streamOrdering: next.stored.streamOrdering,
        roomId: req.roomId,
        deduplicated: false,
      };
    }
  }

  /** Recently used txn ids of this process, so a client's retry is answered without building anything. */
  private readonly recentTxns = growingLru<string, string>(10_000);

  /** Sends waiting for their room's write lock; whoever holds it persists them all in one transaction. */
  private readonly pending = new Map<string, Pending[]>();

  /**
   * Queues a send for its room. Group commit: the first send of an idle room takes the room lock; sends
   * that arrive meanwhile wait in the queue and are built one on top of the other and persisted together
   * in one transaction (one fsync) — the DAG stays linear, and concurrent senders stop paying one commit
   * each.
   */
  private enqueue(req: SendRequest): Promise<Outcome> {
    return new Promise<Outcome>((resolve, reject) => {
      let queue = this.pending.get(req.roomId);
      if (!queue) this.pending.set(req.roomId, (queue = []));
      queue.push({ req, resolve, reject });
      if (queue.length === 1) void this.heads.withRoomLock(req.roomId, () => this.drain(req.roomId));
    });
  }

  private async drain(roomId: string): Promise<void> {
    for (;;) {
      const queue = this.pending.get(roomId);
      if (!queue || queue.length === 0) {
        this.pending.delete(roomId);
        return;
      }
      const batch = queue.splice(0, MAX_BATCH);
      try {
        await this.persistBatch(roomId, batch);
      } catch (err) {
        for (const item of batch) item.reject(err);
      }
    }
  }

  /** Builds each send on the head left by the previous one, then persists the batch in one transaction. */
  private async persistBatch(roomId: string, batch: readonly Pending[]): Promise<void> {
    const head = await this.heads.get(roomId);
    if (!head) {
      for (const item of batch) item.reject(new MatrixError(404, 'M_NOT_FOUND', `Unknown room ${roomId}`));
      return;
    }
    const ready: Ready[] = [];
    let speculative = head;
    for (const item of batch) {
      try {
        item.req.precheck?.(speculative);
        const built = this.build(speculative, item.req);
        await this.checkSpam(built.pdu);
        const after = afterBuilt(speculative, built, item.req);
        ready.push({ item, built, writes: await this.prepareWrites(built, item.req, after) });
        speculative = after;
      } catch (err) {
        item.reject(err);
      }
    }
    if (ready.length === 0) return;
    const reservations: number[] = [];
    try {
      const results = this.oneCallFits(ready)
        ? await this.commitOneCall(head, ready)
        : await this.commitPrepared(head, ready, reservations);
      const last = results[results.length - 1];
      if (last) this.heads.set(last.head);
      ready.forEach(({ item, built }, i) => item.resolve({ next: results[i] as Persisted, built }));
    } catch (err) {
      this.heads.invalidate(roomId); // reload from the database on the next write
      if (ready.length > 1) {
        // One send spoiled the batch (a replayed txn id, a moved head): retry each alone so only it is affected.
        for (const { item } of ready) await this.persistBatch(roomId, [item]);
        return;
      }
      const only = ready[0];
      if (!only) return;
      if (err instanceof TxnReplayed || err instanceof HeadMoved) only.item.resolve(err);
      else only.item.reject(err);
    } finally {
      for (const n of reservations) this.streams.release(n);
    }
  }

  /**
   * Creates a room: persists its m.room.create event and the room row. Returns the room id (for v12+ the
   * create event's reference hash). Later events go through `send`.
   */
  async createRoom(
    sender: string,
    version: RoomVersion,
    content: JsonObject,
    visibility: 'public' | 'private',
  ): Promise<string> {
    const roomId = version.roomIdIsCreateEventHash
      ? undefined
      : `!${randomBytes(12).toString('base64url').replace(/[-_]/g, 'x')}:${this.deps.serverName}`;
    const built = this.sign(version, {
      room_id: roomId,
      sender,
      type: 'm.room.create',
      state_key: '',
      content,
      prev_events: [],
      auth_events: [],
      depth: 1,
    });
    const created: AuthEvent = { eventId: built.eventId, pdu: built.pdu };
    const verdict = checkEventAuth(created, () => undefined, version);
    if (!verdict.allowed)
      throw new MatrixError(400, 'M_BAD_JSON', `Invalid m.room.create: ${verdict.reason}`);
    const head: RoomHead = {
      roomId: built.roomId,
      version,
      lastStream: 0,
      maxDepth: 0,
      extremities: [],
      stateGroup: null,
      chainLength: 0,
      state: new Map(),
    };
    const reservations: number[] = [];
    const createReq = { roomId: built.roomId, sender, type: 'm.room.create', stateKey: '', content };
    const next = await this.heads
      .withRoomLock(built.roomId, async () => {
        const writes = await this.prepareWrites(built, createReq, afterBuilt(head, built, createReq));
        return sqlTransaction(this.deps.db, async (sql) => {
          await this.roomStore.insertRoom(
            {
              roomId: built.roomId,
              roomVersion: version.id,
              creator: sender,
              visibility,
              createdTs: Date.now(),
              lastStream: 0,
              maxDepth: 0,
              forwardExtremities: [],
              stateGroup: null,
            },
            sql,
          );
          return this.persist(head, built, createReq, sql, reservations, writes);
        });
      })
      .finally(() => {
        for (const n of reservations) this.streams.release(n);
      });
    this.heads.set(next.head);
    this.streams.committed(next.stored.streamOrdering);
    await this.announce(next.stored);
    return built.roomId;
  }

  private async deduplicated(eventId: string, roomId: string): Promise<SentEvent> {
    const event = await this.eventStore.getEvent(eventId);
    return {
      eventId,
      streamOrdering: event?.streamOrdering ?? 0,
      roomId: event?.roomId ?? roomId,
      deduplicated: true,
    };
  }

  private build(head: RoomHead, req: SendRequest): BuiltEvent {
    const draft = { type: req.type, sender: req.sender, state_key: req.stateKey, content: req.content };
    const authKeys = authEventsSelection(draft, head.version);
    const authEvents: string[] = [];
    for (const k of authKeys) {
      const e = head.state.get(k);
      if (e) authEvents.push(e.eventId);
    }
    const built = this.sign(head.version, {
      room_id: head.roomId,
      sender: req.sender,
      type: req.type,
      state_key: req.stateKey,
      content: req.content,
      redacts: req.redacts,
      prev_events: head.extremities.slice(-10),
      auth_events: authEvents,
      depth: Math.min(head.maxDepth + 1, Number.MAX_SAFE_INTEGER),
    });
    const size = Buffer.byteLength(JSON.stringify(built.pdu), 'utf8');
    if (size > MAX_EVENT_BYTES) {
      throw new MatrixError(413, 'M_TOO_LARGE', `Event is ${size} bytes; the limit is ${MAX_EVENT_BYTES}`);
    }
    const lookup: AuthStateLookup = (type, key) => head.state.get(stateKey(type, key));
    const verdict = checkEventAuth({ eventId: built.eventId, pdu: built.pdu }, lookup, head.version);
    if (!verdict.allowed) throw new MatrixError(403, 'M_FORBIDDEN', verdict.reason);
    if (req.type === 'm.room.redaction') this.checkRedactionPower(head, req);
    return built;
  }

  private sign(version: RoomVersion, partial: Parameters<typeof buildEvent>[0]['partial']): BuiltEvent {
    try {
      return buildEvent({
        roomVersion: version,
        serverName: this.deps.serverName,
        key: this.deps.signingKey,
        partial,
        referenceHash: () => undefined,
      });
    } catch (err) {
      if (err instanceof CanonicalJsonError) throw new MatrixError(400, 'M_BAD_JSON', err.message);
      throw err;
    }
  }

  /** Redacting someone else's event needs the `redact` level (the v11+ auth rules no longer check it). */
  private checkRedactionPower(head: RoomHead, req: SendRequest): void {
    const create = head.state.get(stateKey('m.room.create', ''));
    const pl = head.state.get(stateKey('m.room.power_levels', ''));
    const levels = powerLevelsFromContent(pl?.pdu.content, head.version);
    const level = userPowerLevelFrom(pl, create, req.sender, head.version);
    if (level >= levels.redact) return;
    if (req.redactionTargetSender === req.sender) return;
    throw new MatrixError(
      403,
      'M_FORBIDDEN',
      `Redacting another user's event needs power level ${levels.redact}; you have ${level}`,
    );
  }

  private async checkSpam(pdu: PduJson): Promise<void> {
    if (!this.deps.spamCheckers.has('checkEventForSpam')) return;
    await this.deps.spamCheckers.assertAllowed('checkEventForSpam', { event: pdu });
  }

  /** Asks every EventWriter what to write with this event (see EventWriter). */
  private async prepareWrites(
    built: BuiltEvent,
    req: Pick<SendRequest, 'roomId' | 'sender' | 'type' | 'stateKey' | 'content'>,
    after: RoomHead,
  ): Promise<TransactionWrite[]> {
    if (this.hooks.eventWriters.length === 0) return [];
    const draft: EventDraft = {
      eventId: built.eventId,
      roomId: built.roomId,
      type: req.type,
      stateKey: req.stateKey ?? null,
      sender: req.sender,
      content: req.content,
    };
    const view = stateView(after);
    const writes: TransactionWrite[] = [];
    for (const writer of this.hooks.eventWriters) {
      const write = await writer(draft, view);
      if (write) writes.push(write);
    }
    return writes;
  }

  private async persist(
    head: RoomHead,
    built: BuiltEvent,
    req: Pick<SendRequest, 'roomId' | 'sender' | 'type' | 'stateKey' | 'content' | 'txn' | 'redacts'>,
    sql: Sql,
    reservations: number[],
    writes: readonly TransactionWrite[],
  ): Promise<{ head: RoomHead; stored: StoredEvent }> {
    const { eventId, pdu } = built;
    if (
      req.txn &&
      !(await this.txnStore.insertTxn(req.sender, req.txn.deviceId, req.txn.txnId, eventId, sql))
    ) {
      throw new TxnReplayed();
    }
    const isState = req.stateKey !== undefined;
    const key = isState ? stateKey(req.type, req.stateKey ?? '') : undefined;
    let stateGroup = head.stateGroup;
    let chainLength = head.chainLength;
    let unsigned: ServerUnsigned | undefined;
    if (key) {
      const replaced = head.state.get(key);
      if (replaced) {
        unsigned = {
          replaces_state: replaced.eventId,
          prev_content: replaced.pdu.content,
          prev_sender: replaced.pdu.sender,
        };
      }
      const group = await this.stateStore.createStateGroup(
        head.roomId,
        head.stateGroup,
        head.chainLength,
        new Map<StateKey, string>([[key, eventId]]),
        () => {
          const full = new Map<StateKey, string>();
          for (const [k, e] of head.state) full.set(k, e.eventId);
          full.set(key, eventId);
          return full;
        },
        sql,
      );
      stateGroup = group.id;
      chainLength = group.chainLength;
    }
    const newEvent = newEventOf(head, built, req, stateGroup, unsigned);
    const membership = newEvent.membership;
    let reserved: number | undefined;
    if (this.eventStore.reservesStreamOrdering) {
      reserved = await this.streams.reserve(() => this.eventStore.reserveStreamOrdering(sql));
      reservations.push(reserved);
    }
    const streamOrdering = await this.eventStore.insertEvent(newEvent, sql, reserved);
    await this.eventStore.insertEdges(eventId, head.extremities.slice(-10), authIdsOf(pdu), sql);
    if (key) await this.stateStore.setCurrentState(head.roomId, req.type, req.stateKey ?? '', eventId, sql);
    if (membership !== null && req.stateKey !== undefined) {
      await this.membershipStore.setMembership(
        head.roomId,
        req.stateKey,
        membership,
        eventId,
        streamOrdering,
        sql,
      );
    }
    if (req.type === 'm.room.redaction' && req.redacts !== undefined) {
      const target = await this.eventStore.getEventIn(sql, req.redacts);
      if (target && target.roomId === head.roomId && target.redactedBy === null) {
        await this.eventStore.redactEvent(req.redacts, redactEvent(target.pdu, head.version), eventId, sql);
      }
    }
    const next: RoomHead = {
      ...head,
      lastStream: streamOrdering,
      maxDepth: Math.max(head.maxDepth, pdu.depth),
      extremities: [eventId],
      stateGroup,
      chainLength,
      state: key ? new Map(head.state).set(key, { eventId, pdu, streamOrdering }) : head.state,
    };
    const advanced = await this.roomStore.advanceRoomHead(
      head.roomId,
      head.lastStream,
      {
        lastStream: streamOrdering,
        maxDepth: next.maxDepth,
        forwardExtremities: next.extremities,
        stateGroup,
      },
      sql,
    );
    if (!advanced) throw new HeadMoved();
    for (const write of writes)
      for (const [text, params] of write(streamOrdering)) await sql.run(text, params);
    return { head: next, stored: { ...newEvent, streamOrdering, redactedBy: null } };
  }

  /** Commits a batch statement by statement (`persist`), then records its stream maximum. */
  private async commitPrepared(
    head: RoomHead,
    ready: readonly Ready[],
    reservations: number[],
  ): Promise<Persisted[]> {
    const results = await sqlTransaction(this.deps.db, async (sql) => {
      const out: Persisted[] = [];
      let current = head;
      for (const { item, built, writes } of ready) {
        const persisted = await this.persist(current, built, item.req, sql, reservations, writes);
        out.push(persisted);
        current = persisted.head;
      }
      return out;
    });
    const last = results[results.length - 1];
    if (last) this.streams.committed(last.stored.streamOrdering);
    return results;
  }

  /**
   * Whether the batch can commit as one call into SQLite (sql.ts `sqlBatchTransaction`): on SQLite, whose
   * single writer lets this process choose each event's stream ordering (guarded in SQL against another
   * process having written meanwhile), when it can be planned without reading anything back — message-like
   * events only (no state group to allocate, no redaction target to read). Everything else takes `persist`.
   */
  private oneCallFits(ready: readonly Ready[]): boolean {
    return (
      !this.eventStore.reservesStreamOrdering &&
      ready.every(({ item }) => item.req.stateKey === undefined && item.req.type !== 'm.room.redaction')
    );
  }

  /** Plans the batch after the newest stream ordering `knownMax` (see `oneCallFits`). */
  private planOneCall(
    head: RoomHead,
    ready: readonly Ready[],
    knownMax: number,
  ): { statements: SqlStatement[]; result: Persisted[] } {
    const statements: SqlStatement[] = [];
    const results: Persisted[] = [];
    let current = head;
    ready.forEach(({ item, built, writes }, i) => {
      const { req } = item;
      const streamOrdering = knownMax + 1 + i;
      const event = newEventOf(current, built, req, current.stateGroup, undefined);
      if (req.txn) {
        statements.push(
          this.txnStore.insertTxnStatement(req.sender, req.txn.deviceId, req.txn.txnId, built.eventId),
        );
      }
      statements.push(
        this.eventStore.insertEventStatement(event, streamOrdering, i === 0 ? knownMax : undefined),
      );
      statements.push(
        ...this.eventStore.insertEdgesStatements(
          built.eventId,
          current.extremities.slice(-10),
          authIdsOf(built.pdu),
        ),
      );
      for (const write of writes) statements.push(...write(streamOrdering));
      const next: RoomHead = {
        ...current,
        lastStream: streamOrdering,
        maxDepth: Math.max(current.maxDepth, built.pdu.depth),
        extremities: [built.eventId],
      };
      results.push({ head: next, stored: { ...event, streamOrdering, redactedBy: null } });
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
   * the same stream orderings); failures become the outcomes `persist` would have thrown.
   */
  private async commitOneCall(head: RoomHead, ready: readonly Ready[]): Promise<Persisted[]> {
    const roomId = head.roomId;
    if (this.streams.knownMax() === undefined) {
      await this.streams.current(() => this.eventStore.maxStreamOrdering()); // once per process
    }
    try {
      return await sqlBatchTransaction(
        this.deps.db,
        () => this.planOneCall(head, ready, this.streams.knownMax() ?? 0),
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
        this.heads.invalidate(roomId);
        throw new HeadMoved();
      }
      throw err;
    }
  }

  private async announce(stored: StoredEvent): Promise<void> {
    for (const listener of this.hooks.persistedListeners) {
      try {
        await listener(persistedView(stored));
      } catch (err) {
        this.deps.logger.error({ err, eventId: stored.eventId }, 'a persisted-event listener failed');
      }
    }
    this.deps.notifier.publish({
      stream: 'events',
      position: stored.streamOrdering,
      roomIds: [stored.roomId],
      userIds: stored.type === 'm.room.member' && stored.stateKey !== null ? [stored.stateKey] : undefined,
    });
  }
}

/** How many queued sends of one room go into one transaction. */
const MAX_BATCH = 64;

interface Persisted {
  readonly head: RoomHead;
  readonly stored: StoredEvent;
}

type Outcome = { readonly next: Persisted; readonly built: BuiltEvent } | TxnReplayed | HeadMoved;

interface Ready {
  readonly item: Pending;
  readonly built: BuiltEvent;
  readonly writes: readonly TransactionWrite[];
}

interface Pending {
  readonly req: SendRequest;
  resolve(outcome: Outcome): void;
  reject(err: unknown): void;
}

/** The head as the event builder sees it after `built`: what the next event of a batch builds on. */
function afterBuilt(head: RoomHead, built: BuiltEvent, req: SendRequest): RoomHead {
  const key = req.stateKey !== undefined ? stateKey(req.type, req.stateKey) : undefined;
  return {
    ...head,
    extremities: [built.eventId],
    maxDepth: Math.max(head.maxDepth, built.pdu.depth),
    state: key ? new Map(head.state).set(key, { eventId: built.eventId, pdu: built.pdu }) : head.state,
  };
}

/** The row of a new event as the store writes it. */
function newEventOf(
  head: RoomHead,
  built: BuiltEvent,
  req: Pick<SendRequest, 'type' | 'stateKey' | 'sender' | 'content'>,
  stateGroup: number | null,
  unsigned: ServerUnsigned | undefined,
): NewEvent {
  const relatesTo = relationOf(req.content);
  const membership = req.content['membership'];
  return {
    eventId: built.eventId,
    roomId: head.roomId,
    type: req.type,
    stateKey: req.stateKey ?? null,
    sender: req.sender,
    depth: built.pdu.depth,
    originServerTs: built.pdu.origin_server_ts,
    pdu: built.pdu,
    unsigned,
    rejectedReason: null,
    stateGroup,
    membership: req.type === 'm.room.member' && typeof membership === 'string' ? membership : null,
    relatesTo: relatesTo?.eventId ?? null,
    relType: relatesTo?.relType ?? null,
  };
}

/** A RoomStateView over a head; joined members computed once per state map (it is replaced on change). */
function stateView(head: RoomHead): RoomStateView {
  return {
    version: head.version,
    state: (type, key) => head.state.get(stateKey(type, key))?.pdu,
    joinedMembers: () => {
      let joined = joinedByState.get(head.state);
      if (!joined) {
        joined = [];
        for (const { pdu } of head.state.values()) {
          if (pdu.type === 'm.room.member' && pdu.content['membership'] === 'join' && pdu.state_key)
            joined.push(pdu.state_key);
        }
        joinedByState.set(head.state, joined);
      }
      return joined;
    },
  };
}

const joinedByState = new WeakMap<ReadonlyMap<StateKey, AuthEvent>, string[]>();

/** The (user, device, txn id) was used already: roll back and answer with the first event. */
class TxnReplayed extends Error {}
/** Another writer (process) advanced the room since the head was read: roll back and rebuild. */
class HeadMoved extends Error {}

function authIdsOf(pdu: PduJson): string[] {
  return pdu.auth_events.map((r) => (typeof r === 'string' ? r : r[0]));
}

/** `m.relates_to` of a content: the related event and relation type, when well formed. */
export function relationOf(content: JsonObject): { eventId: string; relType: string } | undefined {
  const rel = content['m.relates_to'];
  if (typeof rel !== 'object' || rel === null || Array.isArray(rel)) return undefined;
  const eventId = rel['event_id'];
  const relType = rel['rel_type'];
  if (typeof eventId !== 'string' || typeof relType !== 'string') return undefined;
  return { eventId, relType };
}
