/**
 * A tiny room builder for auth rule and state resolution tests: events get synthetic ids, auth
 * events are chosen from the builder's current state by the auth events selection, and `fork()`
 * gives an independent branch sharing the event store, so forked DAGs are easy to write.
 */
import { authEventsSelection } from '../../../../../core/protocol/auth-events-selection.js';
import { checkEventAuth } from '../../../../../core/protocol/auth-rules/check-event-auth.js';
import type {
  AuthCheckOptions,
  AuthEvent,
  AuthResult,
  AuthStateLookup,
} from '../../../../../core/protocol/auth-rules/types.js';
import type { EventReference, JsonObject, PduJson, StateKey } from '../../../../../core/protocol/pdu.js';
import { stateKey } from '../../../../../core/protocol/pdu.js';
import { getRoomVersion, type RoomVersion } from '../../../../../core/protocol/room-versions.js';
import type { StateResLoader } from '../../../../../core/protocol/state-res/types.js';

export const ALICE = '@alice:a.test';
export const BOB = '@bob:b.test';
export const CHARLIE = '@charlie:c.test';
export const ZARA = '@zara:z.test';
export const EVE = '@eve:e.test';

export const ALL_VERSIONS = ['1', '2', '3', '4', '5', '6', '7', '8', '9', '10', '11', '12'];

export interface EventSpec {
  readonly type: string;
  readonly sender: string;
  readonly stateKey?: string;
  readonly content?: JsonObject;
  /** prev_events; defaults to this branch's head. */
  readonly prev?: readonly string[];
  /** auth_events; defaults to the auth events selection over this branch's state. */
  readonly auth?: readonly string[];
  readonly ts?: number;
  /** A chosen event id (for tie-break tests); otherwise a synthetic one. */
  readonly id?: string;
  readonly extra?: Readonly<Record<string, unknown>>;
  readonly rejected?: boolean;
}

interface Shared {
  counter: number;
  ts: number;
  readonly events: Map<string, AuthEvent>;
}

function domain(userId: string): string {
  return userId.slice(userId.indexOf(':') + 1);
}

export class RoomFixture {
  roomId = '';
  private heads: string[] = [];
  private constructor(
    readonly version: RoomVersion,
    private readonly shared: Shared,
    readonly state: Map<StateKey, AuthEvent>,
  ) {}

  /** A room whose create event `creator` sent; nothing else. */
  static create(versionId: string, creator = ALICE, content: JsonObject = {}): RoomFixture {
    const version = getRoomVersion(versionId);
    if (!version) throw new Error(`no room version ${versionId}`);
    const room = new RoomFixture(version, { counter: 0, ts: 1000, events: new Map() }, new Map());
    const createContent: JsonObject = { room_version: versionId, ...content };
    if (!version.implicitRoomCreator && createContent['creator'] === undefined)
      createContent['creator'] = creator;
    if (version.roomIdIsCreateEventHash) {
      room.roomId = '!createhash';
      room.send({
        type: 'm.room.create',
        sender: creator,
        stateKey: '',
        content: createContent,
        id: '$createhash',
      });
    } else {
      room.roomId = `!room:${domain(creator)}`;
      room.send({ type: 'm.room.create', sender: creator, stateKey: '', content: createContent });
    }
    return room;
  }

  /**
   * The usual start: alice creates and joins, sets power levels (alice 100 unless she is a v12
   * creator, plus `users`) and makes the room public; each of `members` then joins.
   */
  static standard(
    versionId: string,
    users: Record<string, number> = {},
    members: string[] = [],
  ): RoomFixture {
    const room = RoomFixture.create(versionId);
    room.join(ALICE);
    const userLevels: JsonObject = room.version.privilegedCreators
      ? { ...users }
      : { [ALICE]: 100, ...users };
    room.send({ type: 'm.room.power_levels', sender: ALICE, stateKey: '', content: { users: userLevels } });
    room.send({ type: 'm.room.join_rules', sender: ALICE, stateKey: '', content: { join_rule: 'public' } });
    for (const m of members) room.join(m);
    return room;
  }

  /** An independent branch from this branch's head, sharing the event store. */
  fork(): RoomFixture {
    const f = new RoomFixture(this.version, this.shared, new Map(this.state));
    f.roomId = this.roomId;
    f.heads = [...this.heads];
    return f;
  }

  get head(): readonly string[] {
    return this.heads;
  }

  private ref(id: string): EventReference {
    return this.version.eventReferencesAreTuples ? [id, { sha256: 'hash' }] : id;
  }

  /** Builds (and stores) an event without checking or applying it. */
  build(spec: EventSpec): AuthEvent {
    const n = ++this.shared.counter;
    const ts = spec.ts ?? (this.shared.ts += 10);
    const id = spec.id ?? `$e${String(n).padStart(3, '0')}:${domain(spec.sender)}`;
    const content = spec.content ?? {};
    const isCreate = spec.type === 'm.room.create';
    const selection = isCreate
      ? []
      : authEventsSelection(
          { type: spec.type, sender: spec.sender, state_key: spec.stateKey, content },
          this.version,
        );
    const authIds = spec.auth ?? selection.flatMap((k) => this.state.get(k)?.eventId ?? []);
    const prev = spec.prev ?? this.heads;
    const depth = Math.max(0, ...prev.map((p) => this.shared.events.get(p)?.pdu.depth ?? 0)) + 1;
    const pdu: PduJson = {
      type: spec.type,
      sender: spec.sender,
      content,
      origin_server_ts: ts,
      depth,
      prev_events: prev.map((p) => this.ref(p)),
      auth_events: authIds.map((a) => this.ref(a)),
      hashes: { sha256: 'hash' },
      signatures: { [domain(spec.sender)]: { 'ed25519:k': 'sig' } },
      ...(spec.stateKey !== undefined ? { state_key: spec.stateKey } : {}),
      ...(isCreate && this.version.roomIdIsCreateEventHash ? {} : { room_id: this.roomId }),
      ...spec.extra,
    };
    const event: AuthEvent = spec.rejected ? { eventId: id, pdu, rejected: true } : { eventId: id, pdu };
    this.shared.events.set(id, event);
    return event;
  }

  /** Builds the event, requires the auth rules to allow it against this branch's state, applies it. */
  send(spec: EventSpec, options?: AuthCheckOptions): AuthEvent {
    const event = this.build(spec);
    const r = this.check(event, options);
    if (!r.allowed) throw new Error(`fixture event ${spec.type} rejected: ${r.reason}`);
    this.apply(event);
    return event;
  }

  /** Makes `event` this branch's head and, for state events, part of its state. */
  apply(event: AuthEvent): void {
    if (typeof event.pdu.state_key === 'string')
      this.state.set(stateKey(event.pdu.type, event.pdu.state_key), event);
    this.heads = [event.eventId];
  }

  join(user: string): AuthEvent {
    return this.send({
      type: 'm.room.member',
      sender: user,
      stateKey: user,
      content: { membership: 'join' },
    });
  }

  member(sender: string, target: string, membership: string, content: JsonObject = {}): AuthEvent {
    return this.build({
      type: 'm.room.member',
      sender,
      stateKey: target,
      content: { membership, ...content },
    });
  }

  lookup(): AuthStateLookup {
    return (type, key) => this.state.get(stateKey(type, key));
  }

  check(event: AuthEvent, options?: AuthCheckOptions): AuthResult {
    return checkEventAuth(event, this.lookup(), this.version, options);
  }

  /** This branch's state as `(type, state_key)` → event id. */
  stateMap(): Map<StateKey, string> {
    return new Map([...this.state].map(([k, e]) => [k, e.eventId]));
  }

  event(id: string): AuthEvent {
    const e = this.shared.events.get(id);
    if (!e) throw new Error(`no event ${id}`);
    return e;
  }

  /** A loader over every event built in this room; counts loads so tests can check batching. */
  loader(): StateResLoader & { loads: number } {
    const events = this.shared.events;
    const loader = {
      loads: 0,
      async loadEvents(ids: readonly string[]) {
        loader.loads++;
        const out = new Map<string, AuthEvent>();
        for (const id of ids) {
          const e = events.get(id);
          if (e) out.set(id, e);
        }
        return out;
      },
    };
    return loader;
  }
}

/** `allowed`, or the id of the rule that rejected: one comparable value per check. */
export function verdict(r: AuthResult): string {
  return r.allowed ? 'allowed' : r.rule;
}

/** Room version ids from `from` to `to` inclusive. */
export function versions(from: number, to = 12): string[] {
  return ALL_VERSIONS.filter((v) => Number(v) >= from && Number(v) <= to);
}

/**
 * Options whose `isSignedBy` trusts a signature entry (as if every signature had been verified on
 * receipt): what the fixtures' `withSignature` events need to count as signed.
 */
export const TRUST_SIGNATURE_ENTRIES: AuthCheckOptions = {
  isSignedBy: (event, server) => isRecord(event.pdu.signatures) && event.pdu.signatures[server] !== undefined,
};

/** `event` with an extra signature entry from `server` (for join_authorised_via_users_server). */
export function withSignature(event: AuthEvent, server: string): AuthEvent {
  return {
    ...event,
    pdu: { ...event.pdu, signatures: { ...event.pdu.signatures, [server]: { 'ed25519:k': 's' } } },
  };
}

function isRecord(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}
