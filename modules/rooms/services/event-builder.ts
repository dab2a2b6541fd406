/**
 * The build step of the local send path: from a request and the room's head, the signed event —
 * prev_events (the forward extremities), auth_events (the selection algorithm over the cached state),
 * depth, hashes, signature — checked as a local event must be: 413 over 65536 bytes, the auth rules against
 * the state before it (403 with the rule's reason), the redaction power check, the spam checkers; and the
 * rows each EventWriter wants committed with it. Reads nothing from the database (the head is in memory) but,
 * in v1–2 rooms after a restart, the reference hashes of the extremities it builds on.
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
import { buildEvent, referenceHashOf, type BuiltEvent } from '../../../core/protocol/event-builder.js';
import { growingLru } from '../../../core/lru.js';
import { stateKey, type JsonObject, type PduJson, type StateKey } from '../../../core/protocol/pdu.js';
import { powerLevelsFromContent, userPowerLevelFrom } from '../../../core/protocol/power-levels.js';
import type { RoomVersion } from '../../../core/protocol/room-versions.js';
import type { EventDraft, RoomHooks, RoomStateView, TransactionWrite } from './hooks.js';
import type { RoomHead } from './room-heads.js';
import type { EventStore } from '../store/event-store.js';

/** The largest event the spec allows, in bytes of its JSON. */
export const MAX_EVENT_BYTES = 65536;

/** What a local user asks to send. */
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
  /**
   * The event, built and checked earlier by `buildChecked` and signed by another server since (an invite of a
   * remote user): it is only authorised again against the head it is stored on (which may have moved).
   */
  readonly prebuilt?: BuiltEvent;
}

/** A local event ready for the commit step, and the head as the next event of a batch builds on it. */
export interface PreparedEvent {
  readonly built: BuiltEvent;
  readonly writes: readonly TransactionWrite[];
  readonly after: RoomHead;
}

type Deps = Pick<Cradle, 'serverName' | 'signingKey' | 'spamCheckers' | 'roomsHookLists' | 'roomsEventStore'>;

export class LocalEventBuilder {
  private readonly serverName: string;
  private readonly signingKey: Deps['signingKey'];
  private readonly spamCheckers: Deps['spamCheckers'];
  private readonly hooks: RoomHooks;
  private readonly eventStore: EventStore;
  /** v1–2 reference hashes of recently built or read events, by event id (see `sign`). */
  private readonly referenceHashes = growingLru<string, string>(10_000);

  constructor({ serverName, signingKey, spamCheckers, roomsHookLists, roomsEventStore }: Deps) {
    this.serverName = serverName;
    this.signingKey = signingKey;
    this.spamCheckers = spamCheckers;
    this.hooks = roomsHookLists;
    this.eventStore = roomsEventStore;
  }

  /** Precheck, build, spam check and EventWriters for one request on `head` (the build step, whole). */
  async prepare(head: RoomHead, req: SendRequest): Promise<PreparedEvent> {
    const built = req.prebuilt ? this.reauthorise(head, req.prebuilt) : await this.buildChecked(head, req);
    const after = afterBuilt(head, built, req);
    return { built, after, writes: await this.prepareWrites(built, req, after) };
  }

  /** Precheck, build (signed, authorised) and spam check of one request on `head`: the event, not stored. */
  async buildChecked(head: RoomHead, req: SendRequest): Promise<BuiltEvent> {
    req.precheck?.(head);
    await this.loadReferenceHashes(head);
    const built = this.build(head, req);
    await this.checkSpam(built.pdu);
    return built;
  }

  /** A `prebuilt` event against the state it is now stored on: 403 when the auth rules no longer allow it. */
  private reauthorise(head: RoomHead, built: BuiltEvent): BuiltEvent {
    const lookup: AuthStateLookup = (type, key) => head.state.get(stateKey(type, key));
    const verdict = checkEventAuth({ eventId: built.eventId, pdu: built.pdu }, lookup, head.version, {
      isSignedBy: (_event, server) => server === this.serverName,
    });
    if (!verdict.allowed) throw new MatrixError(403, 'M_FORBIDDEN', verdict.reason);
    return built;
  }

  /**
   * A room's m.room.create event, checked against the auth rules, and the empty head it goes on. For v12+
   * the room id is the create event's reference hash; before, a random id on this server.
   */
  buildCreate(
    sender: string,
    version: RoomVersion,
    content: JsonObject,
  ): { built: BuiltEvent; head: RoomHead } {
    const roomId = version.roomIdIsCreateEventHash
      ? undefined
      : `!${randomBytes(12).toString('base64url').replace(/[-_]/g, 'x')}:${this.serverName}`;
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
    return { built, head };
  }

  /** Asks every EventWriter what to write with this event (see EventWriter). */
  async prepareWrites(
    built: BuiltEvent,
    req: Pick<SendRequest, 'roomId' | 'sender' | 'type' | 'stateKey' | 'content'>,
    after: RoomHead,
  ): Promise<TransactionWrite[]> {
    const writers = this.hooks.eventWriters;
    if (writers.length === 0) return [];
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
    for (const writer of writers) {
      const write = await writer(draft, view);
      if (write) writes.push(write);
    }
    return writes;
  }

  private build(head: RoomHead, req: SendRequest): BuiltEvent {
    const draft = { type: req.type, sender: req.sender, state_key: req.stateKey, content: req.content };
    const authKeys = authEventsSelection(draft, head.version);
    const authEvents: string[] = [];
    for (const k of authKeys) {
      const e = head.state.get(k);
      if (e) {
        authEvents.push(e.eventId);
        if (head.version.eventReferencesAreTuples) this.rememberReferenceHash(e.eventId, e.pdu, head.version);
      }
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
    // This server just signed the event: it is validly signed by this server and no other.
    const isSignedBy = (_event: AuthEvent, server: string): boolean => server === this.serverName;
    const verdict = checkEventAuth({ eventId: built.eventId, pdu: built.pdu }, lookup, head.version, {
      isSignedBy,
    });
    if (!verdict.allowed) throw new MatrixError(403, 'M_FORBIDDEN', verdict.reason);
    if (req.type === 'm.room.redaction') checkRedactionPower(head, req);
    return built;
  }

  private sign(version: RoomVersion, partial: Parameters<typeof buildEvent>[0]['partial']): BuiltEvent {
    try {
      const built = buildEvent({
        roomVersion: version,
        serverName: this.serverName,
        key: this.signingKey,
        partial,
        // v1–2 reference events as [id, {sha256}]: the hashes of the head's auth events and extremities
        // (see loadReferenceHashes). v3+ never asks.
        referenceHash: (eventId) => this.referenceHashes.get(eventId),
      });
      if (version.eventReferencesAreTuples) this.rememberReferenceHash(built.eventId, built.pdu, version);
      return built;
    } catch (err) {
      if (err instanceof CanonicalJsonError) throw new MatrixError(400, 'M_BAD_JSON', err.message);
      throw err;
    }
  }

  private rememberReferenceHash(eventId: string, pdu: PduJson, version: RoomVersion): void {
    if (!this.referenceHashes.get(eventId)) this.referenceHashes.set(eventId, referenceHashOf(pdu, version));
  }

  /** v1–2: makes sure the hashes of the head's forward extremities are known before building on them. */
  private async loadReferenceHashes(head: RoomHead): Promise<void> {
    if (!head.version.eventReferencesAreTuples) return;
    for (const id of head.extremities.slice(-10)) {
      if (this.referenceHashes.get(id)) continue;
      const event = await this.eventStore.getEvent(id);
      if (event) this.rememberReferenceHash(id, event.pdu, head.version);
    }
  }

  private async checkSpam(pdu: PduJson): Promise<void> {
    if (!this.spamCheckers.has('checkEventForSpam')) return;
    await this.spamCheckers.assertAllowed('checkEventForSpam', { event: pdu });
  }
}

/** Redacting someone else's event needs the `redact` level (the v11+ auth rules no longer check it). */
function checkRedactionPower(head: RoomHead, req: SendRequest): void {
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

/** The head as the event builder sees it after `built`: what the next event of a batch builds on. */
export function afterBuilt(
  head: RoomHead,
  built: BuiltEvent,
  req: Pick<SendRequest, 'type' | 'stateKey'>,
): RoomHead {
  const key = req.stateKey !== undefined ? stateKey(req.type, req.stateKey) : undefined;
  return {
    ...head,
    extremities: [built.eventId],
    maxDepth: Math.max(head.maxDepth, built.pdu.depth),
    state: key ? new Map(head.state).set(key, { eventId: built.eventId, pdu: built.pdu }) : head.state,
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
