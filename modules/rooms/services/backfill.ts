/**
 * Backfill, the requesting side (server-server-api "Backfilling and retrieving missing events"): when
 * `/messages` reaches the oldest event we have of a room joined over federation, the history before it is
 * asked from a server in the room (`/backfill` from our backward extremities) and every PDU checked as the
 * receive pipeline checks it — format, signatures, hash, auth against its own auth events (missing ones
 * through /event_auth), auth against the state before it (the state after its prev_event when we have
 * it, else the state another server gives through /state_ids) — but as *history*: no soft-fail check, no
 * change to the current state, the membership table or the forward extremities, and stream orderings below
 * every other (negative, as Synapse's backfill), so no sync ever sees them as new; `/messages` orders them
 * by depth before the events we had.
 */
import { LRUCache } from 'lru-cache';
import type { Cradle } from '../../../core/container.js';
import {
  checkEventAgainstAuthEvents,
  checkEventAuth,
  type AuthEvent,
} from '../../../core/protocol/auth-rules/index.js';
import { referenceIds } from '../../../core/protocol/event-references.js';
import { stateKey, type PduJson, type StateKey } from '../../../core/protocol/pdu.js';
import { redactEvent } from '../../../core/protocol/redaction.js';
import { checkPduOnReceipt, type PduAccepted } from '../../../core/protocol/pdu-receipt.js';
import {
  signedByVerifiedServers,
  verifyThirdPartyInviteSignature,
  type VerifyKeyLookup,
} from '../../../core/protocol/pdu-signatures.js';
import { isUniqueViolation } from '../../../core/storage/errors.js';
import { sqlTransaction, type Sql } from '../../../core/storage/sql.js';
import type { ServerUnsigned, StoredEvent } from '../store/event-rows.js';
import type { EventStore } from '../store/event-store.js';
import type { StateStore } from '../store/state-store.js';
import type { TimelineStore } from '../store/timeline-store.js';
import { newEventOf } from './persisted-rows.js';
import type { FederationRoomReads } from './federation-room-reads.js';
import type { RoomHooks } from './hooks.js';
import type { MissingEvents, RemoteEventSource } from './missing-events.js';
import type { RoomHead, RoomHeads } from './room-heads.js';

/** Events asked per /backfill (the most a resident answers, as Synapse asks). */
export const BACKFILL_LIMIT = 100;
/** Backward extremities named in one /backfill (as Synapse). */
const MAX_EXTREMITIES = 5;
/**
 * After a backfill that brought nothing (no server answered, or nothing new), the room is not asked
 * again for this long: paging to the end of such a room must not wait on the remote every time.
 */
const FRUITLESS_PAUSE_MS = 60_000;

type State = ReadonlyMap<StateKey, AuthEvent>;

/** One checked event of a batch, ready to store. */
interface Planned {
  readonly verdict: PduAccepted;
  readonly rejectedReason?: string;
  readonly before: State;
  readonly after: State;
  /** The prev_event whose state group this event's state derives from, when it has one. */
  readonly basedOn?: string;
}

type Deps = Pick<
  Cradle,
  | 'db'
  | 'logger'
  | 'serverName'
  | 'roomsHeads'
  | 'roomsEventStore'
  | 'roomsStateStore'
  | 'roomsTimelineStore'
  | 'roomsFederationReads'
  | 'roomsMissingEvents'
  | 'roomsHookLists'
>;

export class Backfiller {
  private readonly db: Deps['db'];
  private readonly logger: Deps['logger'];
  private readonly serverName: string;
  private readonly heads: RoomHeads;
  private readonly eventStore: EventStore;
  private readonly stateStore: StateStore;
  private readonly timelineStore: TimelineStore;
  private readonly reads: FederationRoomReads;
  private readonly missing: MissingEvents;
  private readonly hooks: RoomHooks;
  /** One backfill per room at a time in this process: concurrent /messages share it. */
  private readonly inFlight = new Map<string, Promise<number>>();
  /** Rooms whose last backfill brought nothing, for FRUITLESS_PAUSE_MS. */
  private readonly fruitless = new LRUCache<string, true>({ max: 10_000, ttl: FRUITLESS_PAUSE_MS });

  constructor(deps: Deps) {
    this.db = deps.db;
    this.logger = deps.logger.child({ module: 'rooms', component: 'backfill' });
    this.serverName = deps.serverName;
    this.heads = deps.roomsHeads;
    this.eventStore = deps.roomsEventStore;
    this.stateStore = deps.roomsStateStore;
    this.timelineStore = deps.roomsTimelineStore;
    this.reads = deps.roomsFederationReads;
    this.missing = deps.roomsMissingEvents;
    this.hooks = deps.roomsHookLists;
  }

  /**
   * Fetches history older than what we have of the room from a server in it; returns how many events were
   * added to the timeline (0: nothing to backfill, no server could answer, or nothing new came).
   */
  backfill(roomId: string): Promise<number> {
    if (this.fruitless.has(roomId)) return Promise.resolve(0);
    let running = this.inFlight.get(roomId);
    if (!running) {
      running = this.run(roomId)
        .then((added) => {
          if (added === 0) this.fruitless.set(roomId, true);
          else this.fruitless.delete(roomId);
          return added;
        })
        .finally(() => this.inFlight.delete(roomId));
      this.inFlight.set(roomId, running);
    }
    return running;
  }

  private async run(roomId: string): Promise<number> {
    const remoteRooms = this.hooks.remoteRooms;
    const head = await this.heads.get(roomId);
    if (!remoteRooms || !head) return 0;
    const extremities = await this.timelineStore.backwardExtremities(roomId, MAX_EXTREMITIES);
    if (extremities.length === 0) return 0;
    const servers = (await this.reads.serversInRoom(roomId)).filter((s) => s !== this.serverName);
    for (const server of servers) {
      const remote = remoteRooms.readsOf(server);
      let pdus: unknown[];
      try {
        pdus = await remote.backfill(roomId, extremities, BACKFILL_LIMIT);
      } catch (err) {
        this.logger.info({ err, server, roomId }, 'a server could not backfill');
        continue;
      }
      return this.storeBatch(head, pdus, remote, remoteRooms.keys);
    }
    return 0;
  }

  /** Checks a /backfill answer oldest first and stores what passes as history, in one transaction. */
  private async storeBatch(
    head: RoomHead,
    pdus: readonly unknown[],
    remote: RemoteEventSource,
    keys: VerifyKeyLookup,
  ): Promise<number> {
    const roomId = head.roomId;
    const checked = new Map<string, PduAccepted>();
    for (const pdu of pdus) {
      const v = await checkPduOnReceipt({ pdu, roomVersion: head.version, keys, roomId });
      if (v.accepted) checked.set(v.eventId, v);
    }
    // Known events are skipped, but outliers (the state we were given at our join) enter the timeline.
    const known = await this.eventStore.getEvents([...checked.keys()]);
    const outliers = await this.eventStore.outlierIds([...known.keys()]);
    for (const id of known.keys()) if (!outliers.has(id)) checked.delete(id);
    const batch = [...checked.values()].sort((x, y) => x.pdu.depth - y.pdu.depth);
    if (batch.length === 0) return 0;

    // Auth events none of us has: their chains through /event_auth, stored as outliers.
    const referenced = [...new Set(batch.flatMap((v) => referenceIds(v.pdu.auth_events)))].filter(
      (id) => !checked.has(id),
    );
    const have = await this.eventStore.getEvents(referenced);
    for (const v of batch) {
      if (referenceIds(v.pdu.auth_events).some((a) => !checked.has(a) && !have.has(a))) {
        await this.missing.fetchAuthChain(head, v.eventId, remote, keys);
      }
    }

    const planned = new Map<string, Planned>();
    const groupStates = new Map<number, Promise<State>>();
    for (const v of batch) {
      const plan = await this.check(head, v, planned, groupStates, remote, keys);
      if (plan) planned.set(v.eventId, plan);
    }
    if (planned.size === 0) return 0;
    for (let attempt = 1; ; attempt++) {
      try {
        const plan = [...planned.values()];
        const redactions = await this.redactionTargets(roomId, plan);
        await sqlTransaction(this.db, (sql) => this.insert(head, plan, outliers, redactions, sql));
        break;
      } catch (err) {
        // Another writer took the same negative stream orderings or stored one of these: try again.
        if (!isUniqueViolation(err) || attempt >= 3) throw err;
        const stored = await this.eventStore.getEvents([...planned.keys()]);
        const still = await this.eventStore.outlierIds([...stored.keys()]);
        for (const id of stored.keys()) if (!still.has(id)) planned.delete(id);
        if (planned.size === 0) return 0;
      }
    }
    return [...planned.values()].filter((p) => p.rejectedReason === undefined).length;
  }

  /** The checks of one backfilled event against its auth events and the state before it. */
  private async check(
    head: RoomHead,
    v: PduAccepted,
    planned: ReadonlyMap<string, Planned>,
    groupStates: Map<number, Promise<State>>,
    remote: RemoteEventSource,
    keys: VerifyKeyLookup,
  ): Promise<Planned | undefined> {
    const prevIds = referenceIds(v.pdu.prev_events);
    // The state before: after the first prev_event when we have it in the timeline (at a fork the first
    // branch's, until state resolution of forks is built), else what the remote server says.
    let before: State | undefined;
    let basedOn: string | undefined;
    const first = prevIds[0];
    if (first !== undefined) {
      const inBatch = planned.get(first);
      if (inBatch) {
        before = inBatch.after;
        basedOn = first;
      } else {
        const stored = await this.eventStore.getEvent(first);
        if (stored && stored.roomId === head.roomId && stored.stateGroup !== null) {
          before = await this.stateOfGroup(stored.stateGroup, groupStates);
          basedOn = first;
        }
      }
    }
    before ??= (await this.missing.stateFromRemote(head, v.eventId, remote, keys))?.state;
    if (!before) {
      this.logger.info({ eventId: v.eventId }, 'no state for a backfilled event: left out');
      return undefined;
    }

    const authIds = referenceIds(v.pdu.auth_events);
    const stored = await this.eventStore.getEvents(authIds.filter((id) => !planned.has(id)));
    const authEvents: AuthEvent[] = [];
    for (const id of authIds) {
      const p = planned.get(id);
      const e = stored.get(id);
      if (p) authEvents.push({ eventId: id, pdu: p.verdict.pdu, rejected: p.rejectedReason !== undefined });
      else if (e && e.roomId === head.roomId) authEvents.push(asAuthEvent(e));
      else {
        this.logger.info(
          { eventId: v.eventId, missing: id },
          'a backfilled event lacks auth events: left out',
        );
        return undefined;
      }
    }
    const verified = signedByVerifiedServers(head.version);
    const options = {
      isSignedBy: (e: Pick<AuthEvent, 'eventId' | 'pdu'>, server: string) =>
        e.eventId === v.eventId ? v.signedBy.includes(server) : verified(e, server),
      verifySignature: verifyThirdPartyInviteSignature,
    };
    const event: AuthEvent = { eventId: v.eventId, pdu: v.pdu };
    const createEvent = head.state.get(stateKey('m.room.create', ''));
    const own = checkEventAgainstAuthEvents(event, authEvents, head.version, { ...options, createEvent });
    const state = before;
    const atBefore = own.allowed
      ? checkEventAuth(event, (type, key) => state.get(stateKey(type, key)), head.version, options)
      : own;
    const rejectedReason = !own.allowed
      ? `auth_events: ${own.reason}`
      : !atBefore.allowed
        ? `state before the event: ${atBefore.reason}`
        : undefined;
    const after =
      rejectedReason === undefined && v.pdu.state_key !== undefined
        ? new Map(before).set(stateKey(v.pdu.type, v.pdu.state_key), event)
        : before;
    return {
      verdict: v,
      before,
      after,
      ...(rejectedReason === undefined ? {} : { rejectedReason }),
      ...(basedOn === undefined ? {} : { basedOn }),
    };
  }

  /**
   * Writes the batch (oldest first) below every stream ordering, oldest lowest, so stream order stays
   * topological inside history too. A message shares its prev_event's state group; a state event gets a
   * delta off it; an event whose state came from another server gets a snapshot.
   */
  private async insert(
    head: RoomHead,
    plan: readonly Planned[],
    outliers: ReadonlySet<string>,
    redactions: ReadonlyMap<string, string>,
    sql: Sql,
  ): Promise<void> {
    const roomId = head.roomId;
    const [row] = await sql.all<{ m: number | string | null }>(
      'SELECT MIN(stream_ordering) AS m FROM rooms_events',
    );
    const base = Math.min(Number(row?.m ?? 0), 0);
    const groups = new Map<string, { id: number; chainLength: number }>();
    for (const [i, p] of plan.entries()) {
      const { eventId, pdu } = p.verdict;
      const accepted = p.rejectedReason === undefined;
      const key = accepted && pdu.state_key !== undefined ? stateKey(pdu.type, pdu.state_key) : undefined;
      const prevGroup = p.basedOn === undefined ? undefined : await this.groupOf(p.basedOn, groups, sql);
      let group: { id: number; chainLength: number } | undefined = key ? undefined : prevGroup;
      if (!group) {
        const after = new Map([...p.after].map(([k, e]) => [k, e.eventId]));
        const delta = key && prevGroup ? new Map([[key, eventId]]) : after;
        group = await this.stateStore.createStateGroup(
          roomId,
          key && prevGroup ? prevGroup.id : null,
          key && prevGroup ? prevGroup.chainLength : 0,
          delta,
          () => after,
          sql,
        );
      }
      groups.set(eventId, group);
      const replaced = key ? p.before.get(key) : undefined;
      const unsigned: ServerUnsigned | undefined = replaced
        ? {
            replaces_state: replaced.eventId,
            prev_content: replaced.pdu.content,
            prev_sender: replaced.pdu.sender,
          }
        : undefined;
      const newEvent = newEventOf(
        roomId,
        { eventId, pdu, ...(accepted ? {} : { rejectedReason: p.rejectedReason }) },
        group.id,
        unsigned,
      );
      const streamOrdering = base - plan.length + i;
      if (outliers.has(eventId)) {
        await this.eventStore.promoteOutlier(newEvent, streamOrdering, sql);
      } else {
        await this.eventStore.insertEvent(newEvent, sql, streamOrdering);
        await this.eventStore.insertEdges(
          eventId,
          referenceIds(pdu.prev_events),
          referenceIds(pdu.auth_events),
          sql,
        );
      }
      // Redacted already (a redaction we had, or a newer one of this batch): its content never lands.
      const redactedBy = redactions.get(eventId);
      if (redactedBy !== undefined) {
        await this.eventStore.redactEvent(eventId, redactEvent(pdu, head.version), redactedBy, sql);
      }
      // A backfilled redaction of an event we had: as the persister does for new ones.
      const target = accepted ? redactsOf(pdu) : undefined;
      if (target !== undefined && !plan.some((q) => q.verdict.eventId === target)) {
        const stored = await this.eventStore.getEventIn(sql, target);
        if (stored && stored.roomId === roomId && stored.redactedBy === null) {
          await this.eventStore.redactEvent(target, redactEvent(stored.pdu, head.version), eventId, sql);
        }
      }
    }
  }

  /** Events of `plan` that an accepted redaction (stored already, or in `plan`) targets → the redaction. */
  private async redactionTargets(roomId: string, plan: readonly Planned[]): Promise<Map<string, string>> {
    const ids = new Set(plan.map((p) => p.verdict.eventId));
    const out = new Map<string, string>();
    for (const r of await this.timelineStore.redactionsInRoom(roomId)) {
      const target = redactsOf(r.pdu);
      if (target !== undefined && ids.has(target)) out.set(target, r.eventId);
    }
    for (const p of plan) {
      const target = p.rejectedReason === undefined ? redactsOf(p.verdict.pdu) : undefined;
      if (target !== undefined && ids.has(target)) out.set(target, p.verdict.eventId);
    }
    return out;
  }

  /** The state group after `eventId`: one of this batch, or a stored event's (with its chain length). */
  private async groupOf(
    eventId: string,
    groups: ReadonlyMap<string, { id: number; chainLength: number }>,
    sql: Sql,
  ): Promise<{ id: number; chainLength: number } | undefined> {
    const planned = groups.get(eventId);
    if (planned) return planned;
    const [row] = await sql.all<{ id: number | string | null; chain_length: number | string | null }>(
      `SELECT e.state_group AS id, g.chain_length FROM rooms_events e
       LEFT JOIN rooms_state_groups g ON g.id = e.state_group WHERE e.event_id = ?`,
      [eventId],
    );
    if (row?.id == null) return undefined;
    return { id: Number(row.id), chainLength: Number(row.chain_length ?? 0) };
  }

  private stateOfGroup(group: number, cache: Map<number, Promise<State>>): Promise<State> {
    let state = cache.get(group);
    if (!state) {
      state = (async () => {
        const ids = await this.stateStore.stateOfGroup(group);
        const events = await this.eventStore.getEvents([...ids.values()]);
        const out = new Map<StateKey, AuthEvent>();
        for (const [k, id] of ids) {
          const e = events.get(id);
          if (e) out.set(k, asAuthEvent(e));
        }
        return out;
      })();
      cache.set(group, state);
    }
    return state;
  }
}

function asAuthEvent(e: StoredEvent): AuthEvent {
  return { eventId: e.eventId, pdu: e.pdu, rejected: e.rejectedReason !== null };
}

/** The target of an m.room.redaction: top level before v11, `content.redacts` from v11. */
function redactsOf(pdu: PduJson): string | undefined {
  if (pdu.type !== 'm.room.redaction') return undefined;
  const inContent = pdu.content['redacts'];
  return pdu.redacts ?? (typeof inContent === 'string' ? inContent : undefined);
}
