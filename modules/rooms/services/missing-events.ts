/**
 * Filling the gaps the receive pipeline finds (server-server-api "Backfilling and retrieving missing
 * events", and "Checks performed on receipt of a PDU"): a PDU whose prev_events or auth_events we lack.
 * The remote side is a port (`RemoteEventSource`) the federation module passes in with the PDU, so rooms
 * never imports federation.
 *
 * 1. prev_events missing: `get_missing_events` from the sending server (earliest = our forward
 *    extremities, latest = the event, limit 10, min_depth = the room's smallest depth, as Synapse), each
 *    answer run through the pipeline oldest first (an event pulled this way fills its own gap with state,
 *    never with another get_missing_events);
 * 2. still missing: the state before the event from that server (`/state_ids`, then the events we lack
 *    through `/event`, or `/state` when they are many), every one of them checked (format, signatures,
 *    hash, auth against its own auth events, whose missing ones come from `/event_auth`) and stored as an
 *    outlier (in no timeline); the receiver checks the event against that state (`RemoteStateBefore`);
 * 3. only auth_events missing: the event's auth chain through `/event_auth`, checked and stored likewise.
 */
import type { Cradle } from '../../../core/container.js';
import { checkEventAgainstAuthEvents, type AuthEvent } from '../../../core/protocol/auth-rules/index.js';
import { referenceIds } from '../../../core/protocol/event-references.js';
import { stateKey, type StateKey } from '../../../core/protocol/pdu.js';
import { checkPduOnReceipt, type PduAccepted } from '../../../core/protocol/pdu-receipt.js';
import {
  signedByVerifiedServers,
  verifyThirdPartyInviteSignature,
  type VerifyKeyLookup,
} from '../../../core/protocol/pdu-signatures.js';
import { isUniqueViolation } from '../../../core/storage/errors.js';
import { sqlTransaction } from '../../../core/storage/sql.js';
import type { StoredEvent } from '../store/event-rows.js';
import type { EventStore } from '../store/event-store.js';
import type { TimelineStore } from '../store/timeline-store.js';
import { newEventOf } from './persisted-rows.js';
import type { IncomingPdu, ReceiveOutcome } from './federated-event-receiver.js';
import type { RoomHead, RoomHeads } from './room-heads.js';

/**
 * Another server's room reads, as the receive pipeline needs them (the federation module implements it
 * over its signed client). Every method throws when the server cannot answer.
 */
export interface RemoteEventSource {
  /** The server asked. */
  readonly server: string;
  /** `POST /get_missing_events/{roomId}`: the `events` of the answer (unvalidated PDUs). */
  getMissingEvents(
    roomId: string,
    query: { earliest: readonly string[]; latest: readonly string[]; limit: number; minDepth: number },
  ): Promise<unknown[]>;
  /** `GET /state_ids/{roomId}?event_id=`: the ids of the state before the event and of its auth chain. */
  stateIds(roomId: string, eventId: string): Promise<{ stateIds: string[]; authChainIds: string[] }>;
  /** `GET /state/{roomId}?event_id=`: the same as PDUs. */
  state(roomId: string, eventId: string): Promise<{ state: unknown[]; authChain: unknown[] }>;
  /** `GET /event/{eventId}`: the PDU. */
  event(eventId: string): Promise<unknown>;
  /** `GET /event_auth/{roomId}/{eventId}`: the auth chain. */
  eventAuth(roomId: string, eventId: string): Promise<unknown[]>;
  /** `GET /backfill/{roomId}?v=&limit=`: the PDUs. */
  backfill(roomId: string, from: readonly string[], limit: number): Promise<unknown[]>;
}

/** Other servers' room reads, as federation offers them to rooms (`RoomsHookRegistry.setRemoteRooms`). */
export interface RemoteRooms {
  /** The room reads of `server`. */
  readsOf(server: string): RemoteEventSource;
  /** Where PDU signatures' keys come from (federation's key ring). */
  readonly keys: VerifyKeyLookup;
}

/** The state before an event as another server gave it, every event checked and stored (outliers). */
export interface RemoteStateBefore {
  readonly state: ReadonlyMap<StateKey, AuthEvent>;
}

/** How the receiver runs a fetched PDU through the pipeline (itself). */
export type ReceiveFn = (input: IncomingPdu) => Promise<ReceiveOutcome>;

/** get_missing_events' limit (the spec's default, as Synapse asks). */
const MISSING_EVENTS_LIMIT = 10;
/** Above this many unknown state and auth events, one `/state` beats one `/event` each. */
const STATE_FETCH_THRESHOLD = 50;
/** `/event` requests in flight at once. */
const EVENT_FETCH_CONCURRENCY = 10;
/** `/event_auth` requests for one batch of outliers whose auth events are missing. */
const MAX_AUTH_FETCHES = 5;

type Deps = Pick<Cradle, 'db' | 'logger' | 'roomsHeads' | 'roomsEventStore' | 'roomsTimelineStore'>;

export class MissingEvents {
  private readonly db: Deps['db'];
  private readonly logger: Deps['logger'];
  private readonly heads: RoomHeads;
  private readonly eventStore: EventStore;
  private readonly timelineStore: TimelineStore;

  constructor({ db, logger, roomsHeads, roomsEventStore, roomsTimelineStore }: Deps) {
    this.db = db;
    this.logger = logger.child({ module: 'rooms', component: 'missing-events' });
    this.heads = roomsHeads;
    this.eventStore = roomsEventStore;
    this.timelineStore = roomsTimelineStore;
  }

  /**
   * Fetches what `verdict`'s event references and we lack, from `input.remote`. Returns the state before
   * the event when its prev_events could not all be had (the receiver then checks it against that state),
   * undefined otherwise. Never throws for a remote failure: what could not be fetched stays missing.
   */
  async fill(
    roomId: string,
    verdict: PduAccepted,
    input: IncomingPdu,
    receive: ReceiveFn,
  ): Promise<RemoteStateBefore | undefined> {
    const remote = input.remote;
    const head = await this.heads.get(roomId);
    if (!remote || !head) return undefined;
    const prevIds = referenceIds(verdict.pdu.prev_events);
    if ((await this.unknown(roomId, prevIds)).length > 0 && input.pulled !== true) {
      await this.pullMissing(head, verdict, input, remote, receive);
    }
    if ((await this.unknown(roomId, prevIds)).length > 0) {
      return this.stateFromRemote(head, verdict.eventId, remote, input.keys);
    }
    if ((await this.unknown(roomId, referenceIds(verdict.pdu.auth_events))).length > 0) {
      await this.fetchAuthChain(head, verdict.eventId, remote, input.keys);
    }
    return undefined;
  }

  /** Step 1: get_missing_events, then each answer through the pipeline, oldest first. */
  private async pullMissing(
    head: RoomHead,
    verdict: PduAccepted,
    input: IncomingPdu,
    remote: RemoteEventSource,
    receive: ReceiveFn,
  ): Promise<void> {
    let pulled: unknown[];
    try {
      pulled = await remote.getMissingEvents(head.roomId, {
        earliest: head.extremities,
        latest: [verdict.eventId],
        limit: MISSING_EVENTS_LIMIT,
        minDepth: await this.timelineStore.minDepth(head.roomId),
      });
    } catch (err) {
      this.logger.warn({ err, server: remote.server, eventId: verdict.eventId }, 'get_missing_events failed');
      return;
    }
    const ordered = pulled.slice(0, MISSING_EVENTS_LIMIT).sort((x, y) => depthOf(x) - depthOf(y));
    for (const pdu of ordered) {
      try {
        const outcome = await receive({ pdu, keys: input.keys, roomId: head.roomId, remote, pulled: true });
        if (outcome.status === 'refused') {
          this.logger.info({ outcome, server: remote.server }, 'a missing event was refused');
        }
      } catch (err) {
        this.logger.warn({ err, server: remote.server }, 'a missing event could not be checked');
      }
    }
  }

  /** Step 2: the state before the event, fetched, checked and stored as outliers. */
  async stateFromRemote(
    head: RoomHead,
    eventId: string,
    remote: RemoteEventSource,
    keys: VerifyKeyLookup,
  ): Promise<RemoteStateBefore | undefined> {
    const roomId = head.roomId;
    let ids: { stateIds: string[]; authChainIds: string[] };
    try {
      ids = await remote.stateIds(roomId, eventId);
      const unknownIds = await this.unknown(roomId, [...new Set([...ids.stateIds, ...ids.authChainIds])]);
      let fetched: unknown[] = [];
      if (unknownIds.length > STATE_FETCH_THRESHOLD) {
        const full = await remote.state(roomId, eventId);
        fetched = [...full.state, ...full.authChain];
      } else {
        for (let i = 0; i < unknownIds.length; i += EVENT_FETCH_CONCURRENCY) {
          const batch = unknownIds.slice(i, i + EVENT_FETCH_CONCURRENCY);
          const got = await Promise.all(batch.map((id) => remote.event(id).catch(() => undefined)));
          fetched.push(...got.filter((p) => p !== undefined));
        }
      }
      await this.storeOutliers(head, fetched, remote, keys);
    } catch (err) {
      this.logger.warn(
        { err, server: remote.server, eventId },
        'the state before an event could not be fetched',
      );
      return undefined;
    }
    const events = await this.eventStore.getEvents(ids.stateIds);
    const state = new Map<StateKey, AuthEvent>();
    for (const id of ids.stateIds) {
      const e = events.get(id);
      if (!e || e.roomId !== roomId || e.rejectedReason !== null || e.stateKey === null) continue;
      state.set(stateKey(e.type, e.stateKey), asAuthEvent(e));
    }
    return { state };
  }

  /** Step 3: the event's auth chain through /event_auth. */
  async fetchAuthChain(
    head: RoomHead,
    eventId: string,
    remote: RemoteEventSource,
    keys: VerifyKeyLookup,
  ): Promise<void> {
    try {
      await this.storeOutliers(head, await remote.eventAuth(head.roomId, eventId), remote, keys);
    } catch (err) {
      this.logger.warn({ err, server: remote.server, eventId }, 'the auth chain could not be fetched');
    }
  }

  /**
   * Checks fetched PDUs — format, signatures, hash, then auth against their own auth events in dependency
   * order (missing ones from /event_auth) — and stores them as outliers in one transaction: rejected with
   * the rule's reason when their auth fails; dropped when they fail the first checks or their auth events
   * cannot be had.
   */
  async storeOutliers(
    head: RoomHead,
    raws: readonly unknown[],
    remote: RemoteEventSource,
    keys: VerifyKeyLookup,
  ): Promise<void> {
    const roomId = head.roomId;
    const checked = new Map<string, PduAccepted>();
    const check = async (list: readonly unknown[]): Promise<void> => {
      for (const raw of list) {
        const v = await checkPduOnReceipt({ pdu: raw, roomVersion: head.version, keys, roomId });
        if (v.accepted) checked.set(v.eventId, v);
        else this.logger.info({ reason: v.reason, server: remote.server }, 'a fetched event was dropped');
      }
    };
    await check(raws);
    for (const id of (await this.eventStore.getEvents([...checked.keys()])).keys()) checked.delete(id);

    // Auth events neither stored nor fetched: ask for the chains of the events that need them.
    let known = await this.knownAuthEvents(roomId, checked);
    const lacking = [...checked.values()].filter((v) =>
      referenceIds(v.pdu.auth_events).some((a) => !checked.has(a) && !known.has(a)),
    );
    for (const v of lacking.slice(0, MAX_AUTH_FETCHES)) {
      const chain = await remote.eventAuth(roomId, v.eventId).catch(() => []);
      await check(chain);
    }
    if (lacking.length > 0) known = await this.knownAuthEvents(roomId, checked);

    const decided = new Map<string, AuthEvent>();
    for (const [id, e] of known) decided.set(id, e);
    const toStore: { verdict: PduAccepted; rejectedReason?: string }[] = [];
    const verified = signedByVerifiedServers(head.version);
    const createEvent = head.state.get(stateKey('m.room.create', ''));
    for (const v of authOrder(checked)) {
      const authEvents = referenceIds(v.pdu.auth_events).map((a) => decided.get(a));
      if (authEvents.some((a) => a === undefined)) {
        this.logger.info({ eventId: v.eventId, server: remote.server }, 'a fetched event lacks auth events');
        continue;
      }
      const result = checkEventAgainstAuthEvents(
        { eventId: v.eventId, pdu: v.pdu },
        authEvents as AuthEvent[],
        head.version,
        {
          isSignedBy: (e, server) =>
            e.eventId === v.eventId ? v.signedBy.includes(server) : verified(e, server),
          verifySignature: verifyThirdPartyInviteSignature,
          createEvent,
        },
      );
      const rejectedReason = result.allowed ? undefined : `auth_events: ${result.reason}`;
      decided.set(v.eventId, { eventId: v.eventId, pdu: v.pdu, rejected: !result.allowed });
      toStore.push({ verdict: v, ...(rejectedReason === undefined ? {} : { rejectedReason }) });
    }
    await this.insertOutliers(roomId, toStore);
  }

  private async insertOutliers(
    roomId: string,
    events: readonly { verdict: PduAccepted; rejectedReason?: string }[],
  ): Promise<void> {
    for (let attempt = 1; ; attempt++) {
      const stored = await this.eventStore.getEvents(events.map((e) => e.verdict.eventId));
      const fresh = events.filter((e) => !stored.has(e.verdict.eventId));
      if (fresh.length === 0) return;
      try {
        await sqlTransaction(this.db, async (sql) => {
          for (const { verdict, rejectedReason } of fresh) {
            const { eventId, pdu } = verdict;
            const row = newEventOf(roomId, { eventId, pdu, rejectedReason }, null, undefined);
            // An outlier relates to nothing a client reads (relation reads would otherwise list it).
            await this.eventStore.insertBeforeStream({ ...row, relatesTo: null, relType: null }, true, sql);
            await this.eventStore.insertEdges(
              eventId,
              referenceIds(pdu.prev_events),
              referenceIds(pdu.auth_events),
              sql,
            );
          }
        });
        return;
      } catch (err) {
        // Another writer took the same negative stream ordering or stored one of them: try again.
        if (!isUniqueViolation(err) || attempt >= 3) throw err;
      }
    }
  }

  /** The stored, accepted-or-rejected auth events of `events` (for the auth checks). */
  private async knownAuthEvents(
    roomId: string,
    events: ReadonlyMap<string, PduAccepted>,
  ): Promise<Map<string, AuthEvent>> {
    const ids = new Set<string>();
    for (const v of events.values())
      for (const a of referenceIds(v.pdu.auth_events)) if (!events.has(a)) ids.add(a);
    const out = new Map<string, AuthEvent>();
    for (const [id, e] of await this.eventStore.getEvents([...ids]))
      if (e.roomId === roomId) out.set(id, asAuthEvent(e));
    return out;
  }

  /** Which of `ids` are not events of the room we have. */
  private async unknown(roomId: string, ids: readonly string[]): Promise<string[]> {
    if (ids.length === 0) return [];
    const known = await this.eventStore.getEvents(ids);
    return ids.filter((id) => known.get(id)?.roomId !== roomId);
  }
}

/** `events` ordered so that each comes after the ones of the set it cites as auth events (cycles last). */
export function authOrder(events: ReadonlyMap<string, PduAccepted>): PduAccepted[] {
  const out: PduAccepted[] = [];
  const state = new Map<string, 'visiting' | 'done'>();
  const visit = (v: PduAccepted): void => {
    if (state.has(v.eventId)) return;
    state.set(v.eventId, 'visiting');
    for (const a of referenceIds(v.pdu.auth_events)) {
      const dep = events.get(a);
      if (dep) visit(dep);
    }
    state.set(v.eventId, 'done');
    out.push(v);
  };
  // Iterative enough: auth chains are shallow (create → power levels → members), a few levels deep.
  for (const v of [...events.values()].sort((x, y) => x.pdu.depth - y.pdu.depth)) visit(v);
  return out;
}

function depthOf(raw: unknown): number {
  const d = typeof raw === 'object' && raw !== null ? (raw as { depth?: unknown }).depth : undefined;
  return typeof d === 'number' ? d : 0;
}

function asAuthEvent(e: StoredEvent): AuthEvent {
  return { eventId: e.eventId, pdu: e.pdu, rejected: e.rejectedReason !== null };
}
