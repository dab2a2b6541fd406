/**
 * What other modules may use of rooms, and nothing else: interfaces only, implemented in services/.
 *
 * - `RoomsApi` (`roomsApi` in the container): reads and local actions. Each consumer takes the slice it
 *   calls (`RoomsApiForSync`, `RoomsApiForDirectory`, ...), so its dependency on rooms is visible in its
 *   constructor's type and a unit test fakes only that.
 * - `RoomsHookRegistry` (`roomsHooks`): where other modules plug behaviour in — alias resolution,
 *   createRoom/state validators, rows committed with each event, persisted-event listeners. Registered in
 *   the other module's `start()`; nothing is set on rooms after boot any other way.
 *
 * Events come out in the client format (`ClientEvent`); the sync reads (`timeline`, `stateAt`, `stateDelta`)
 * also pair each with its federation format when asked (`withPdu: true`). Stream positions are the `events`
 * stream the rooms module announces on the notifier.
 */
import type { JsonObject, PduJson, StateKey } from '../../core/protocol/pdu.js';
import type { VerifyKeyLookup } from '../../core/protocol/pdu-signatures.js';
import type { ClientEvent, EventWithPdu } from './services/client-events.js';
import type {
  AliasResolver,
  EventWriter,
  PersistedEvent,
  PersistedListener,
  RoomCreatedHook,
  RoomCreateValidator,
  RoomUpgradedHook,
  StateEventValidator,
} from './services/hooks.js';
import type { RoomEventFilter } from './services/timeline-service.js';
import type { IncomingPdu, ReceiveOutcome, ReceiveResult } from './services/federated-event-receiver.js';
import type { MissingEventsQuery } from './services/federation-history-reads.js';
import type { RemoteRooms } from './services/missing-events.js';
import type { JoinTemplate, StateAtEvent } from './services/federation-room-reads.js';

export type { ClientEvent, EventWithPdu, FederationEvent } from './services/client-events.js';
export type { RoomEventFilter } from './services/timeline-service.js';
export type {
  AliasResolver,
  EventDraft,
  EventWriter,
  PersistedEvent,
  PersistedListener,
  RoomCreatedHook,
  RoomCreateValidator,
  RoomStateView,
  RoomUpgradedHook,
  StateEventValidator,
  TransactionWrite,
} from './services/hooks.js';
export { parseRoomToken, formatTopoToken } from './services/tokens.js';

export interface MembershipChange {
  readonly roomId: string;
  readonly userId: string;
  readonly membership: string;
  readonly sender: string;
  readonly eventId: string;
  readonly streamOrdering: number;
  readonly event: ClientEvent;
}

export interface RoomSummaryRow {
  readonly roomId: string;
  readonly roomVersion: string;
  readonly creator: string;
  readonly visibility: 'public' | 'private';
  readonly createdTs: number;
}

/** A timeline slice for a sync response (of `EventWithPdu` when read `withPdu`). */
export interface TimelineSlice<E = ClientEvent> {
  /** Oldest first. */
  readonly events: E[];
  /** True when more events than `limit` fell in the range (a gap). */
  readonly limited: boolean;
  /** A /messages `from` token pointing just before the first event returned. */
  readonly prevBatch: string;
}

/** The range of a sync timeline read. */
export interface TimelineRange {
  readonly after: number;
  readonly upTo: number;
  readonly limit: number;
  /** The viewer's device: its own `transaction_id`s are shown. */
  readonly deviceId?: string | null;
  readonly filter?: RoomEventFilter;
  /** The viewer's ignored users, when the caller knows them: left out of the bundled aggregations. */
  readonly ignored?: ReadonlySet<string>;
}

/**
 * Pair each client event with the same event in federation format (`EventWithPdu`), for a sync filter's
 * `event_format: "federation"`. The PDU is already loaded with the event, so this costs no extra read.
 */
export interface WithPdu {
  readonly withPdu: true;
}

/** Client events only (the default). */
export interface WithoutPdu {
  readonly withPdu?: false;
}

export interface RoomsApi {
  /**
   * The newest position of the `events` stream every event at or below which is committed (0 before any
   * event): the `upTo` of a sync. Never skips an event still being written in another room.
   */
  currentStreamPosition(): Promise<number>;
  /**
   * The events of `roomId` with stream ordering in (`after`, `upTo`] that `userId` may see, the newest
   * `limit` of them oldest first, formatted for `deviceId` (its own `transaction_id`s). With `withPdu: true`,
   * each comes with its federation format.
   */
  timeline(
    userId: string,
    roomId: string,
    range: TimelineRange & WithPdu,
  ): Promise<TimelineSlice<EventWithPdu>>;
  timeline(userId: string, roomId: string, range: TimelineRange & WithoutPdu): Promise<TimelineSlice>;
  /**
   * Which of `roomIds` have an event in (`after`, `upTo`] (no visibility filter); all of them when the window
   * is too large to look at cheaply (more than `scanLimit` events).
   */
  roomsWithEvents(
    roomIds: readonly string[],
    after: number,
    upTo: number,
    scanLimit: number,
  ): Promise<Set<string>>;
  /** Raw stream read: events of `roomIds` in (`after`, `upTo`], newest first, no visibility filter. */
  eventsInStreamRange(
    roomIds: readonly string[],
    after: number,
    upTo: number,
    limit: number,
  ): Promise<PersistedEvent[]>;
  /**
   * The room state at stream position `at` (after the newest event of the room at or before it); with
   * `withPdu: true`, each event with its federation format.
   */
  stateAt(roomId: string, at: number, options: WithPdu): Promise<EventWithPdu[]>;
  stateAt(roomId: string, at: number, options?: WithoutPdu): Promise<ClientEvent[]>;
  /** State entries that differ between stream positions `from` and `to` (their values at `to`); `withPdu` as above. */
  stateDelta(roomId: string, from: number, to: number, options: WithPdu): Promise<EventWithPdu[]>;
  stateDelta(roomId: string, from: number, to: number, options?: WithoutPdu): Promise<ClientEvent[]>;
  /**
   * When state resolution (forks of the DAG meeting) changed the room's current state in (`from`, `to`]:
   * the entries at `to` that differ from `from` or whose key an event in the range set (resolution may
   * have overruled it); else nothing — the events in the range then carry every change.
   */
  resolvedStateDelta(roomId: string, from: number, to: number, options: WithPdu): Promise<EventWithPdu[]>;
  resolvedStateDelta(roomId: string, from: number, to: number, options?: WithoutPdu): Promise<ClientEvent[]>;
  /** The current state, or one entry of it. */
  currentState(roomId: string): Promise<ClientEvent[]>;
  currentStateEvent(roomId: string, type: string, stateKey: string): Promise<ClientEvent | undefined>;
  /** Membership events targeting `userId` in (`after`, `upTo`], oldest first. */
  membershipChangesOfUser(userId: string, after: number, upTo: number): Promise<MembershipChange[]>;
  /** Membership events of any user in `roomIds` in (`after`, `upTo`] (device-list tracking). */
  membershipChangesInRooms(
    roomIds: readonly string[],
    after: number,
    upTo: number,
  ): Promise<MembershipChange[]>;
  /** Rooms with the given memberships of `userId` (all memberships when omitted), forgotten ones excluded. */
  roomsOfUser(
    userId: string,
    memberships?: readonly string[],
  ): Promise<{ roomId: string; membership: string; eventId: string; streamOrdering: number }[]>;
  joinedRooms(userId: string): Promise<string[]>;
  /** User ids with `membership` (default join) in the room. */
  members(roomId: string, membership?: string): Promise<string[]>;
  joinedMemberCounts(roomIds: readonly string[]): Promise<Map<string, number>>;
  /** Every user who shares a joined room with `userId` (including them). */
  usersSharingRoomWith(userId: string): Promise<string[]>;
  roomVersion(roomId: string): Promise<string | undefined>;
  roomVersions(roomIds: readonly string[]): Promise<Map<string, string>>;
  /** Rooms known to this server with the visibility set at creation or by the directory. */
  listRooms(options?: { visibility?: 'public' | 'private' }): Promise<RoomSummaryRow[]>;
  setRoomVisibility(roomId: string, visibility: 'public' | 'private'): Promise<void>;
  /** Sends a state event as local user `userId` (auth rules apply; 403/404 as over HTTP). */
  sendStateEvent(
    userId: string,
    roomId: string,
    type: string,
    stateKey: string,
    content: JsonObject,
  ): Promise<{ eventId: string }>;
  /** Sends a message event as local user `userId`. */
  sendEvent(userId: string, roomId: string, type: string, content: JsonObject): Promise<{ eventId: string }>;
  /** One event in the client format, or undefined; no visibility check (callers check `canSee`). */
  getEvent(eventId: string): Promise<ClientEvent | undefined>;
  /**
   * Events in the client format with their bundled aggregations (`unsigned['m.relations']`) as `userId`
   * sees them, by id (unknown ids left out); one batch, no visibility check.
   */
  clientEventsFor(userId: string, eventIds: readonly string[]): Promise<Map<string, ClientEvent>>;
  /**
   * Which of `eventIds` some live relation points to whose sender is in `match.senders` and whose rel_type
   * is in `match.relTypes` (an absent list does not restrict): a filter's `related_by_senders` /
   * `related_by_rel_types`.
   */
  eventsRelatedBy(
    eventIds: readonly string[],
    match: { senders?: readonly string[]; relTypes?: readonly string[] },
  ): Promise<Set<string>>;
  /** Which of `eventIds` (of one room) `userId` may see. */
  visibleEventIds(userId: string, roomId: string, eventIds: readonly string[]): Promise<Set<string>>;
  /** Joins `userId` to a room (id or alias), as POST /join does. */
  join(userId: string, roomIdOrAlias: string): Promise<string>;
  /** Makes `userId` leave every room they are joined, invited or knocking in. */
  leaveAllRooms(userId: string): Promise<void>;
  /** Plugins: the current state as (type, state_key) → content. */
  getRoomState(roomId: string): Promise<Map<StateKey, JsonObject>>;
  getJoinedRooms(userId: string): Promise<string[]>;

  /** The `m.room_versions` entry of GET /capabilities: the default version and each known one's stability. */
  roomVersionsCapability(): { default: string; available: Record<string, 'stable' | 'unstable'> };
}

/**
 * Where other modules plug behaviour into rooms (`roomsHooks` in the container). Call it from a module's
 * `start()`; hooks run in registration order.
 */
export interface RoomsHookRegistry {
  /** `#alias:server` → room id for /join and /knock (the directory); the first resolver that knows it wins. */
  addAliasResolver(resolver: AliasResolver): void;
  /** Called during createRoom after the power levels; may add alias state and publish the room. */
  onRoomCreated(hook: RoomCreatedHook): void;
  /** Called before anything of a createRoom is written (reject with a MatrixError). */
  addCreateRoomValidator(validator: RoomCreateValidator): void;
  /** Called before a local user's state event is built (reject with a MatrixError). */
  addStateEventValidator(validator: StateEventValidator): void;
  onRoomUpgraded(hook: RoomUpgradedHook): void;
  /** Called after every persisted event, before it is announced on the notifier. */
  onEventPersisted(listener: PersistedListener): void;
  /**
   * Rows that must commit in the same transaction as each new event (push actions and unread counts): the
   * writer runs under the room lock before the transaction and returns the write to run inside it.
   */
  addEventWriter(writer: EventWriter): void;
  /**
   * The transport rooms uses to join rooms on other servers (make_join/send_join, /query/directory); the federation module sets it in its `start()`. Without it,
   * joining a room this server is not in answers 404 as before.
   */
  setFederationMembership(port: FederationMembershipPort): void;
  /** The federation module's side of invites, knocks and rejections across servers (one port; the last set wins). */
  setFederationInvites(port: FederationInvitesPort): void;
  /**
   * How rooms reaches other servers' room reads (federation sets it): `/messages` backfills a room joined
   * over federation from a server in it. Without it, rooms reads only what it has.
   */
  setRemoteRooms(remote: RemoteRooms): void;
}

/**
 * What rooms needs from federation to join or leave a room this server is not in (server-server-api
 * "Joining Rooms", "Leaving Rooms"): transport only — rooms builds, signs, validates and stores the events.
 * Errors are MatrixErrors as the client should see them (the remote's 4xx relayed, 502 when no server
 * answered).
 */
export interface FederationMembershipPort {
  /** `GET /query/directory` at the alias's server: the room and servers to join through; 404 when unknown. */
  queryDirectory(alias: string): Promise<{ roomId: string; servers: string[] }>;
  /**
   * `make_join` at each of `servers` in turn until one answers: the server that did, the room version and
   * the template (unvalidated JSON).
   */
  makeJoin(request: {
    readonly roomId: string;
    readonly userId: string;
    readonly servers: readonly string[];
    readonly supportedVersions: readonly string[];
  }): Promise<{ origin: string; roomVersion: string; event: unknown }>;
  /** `PUT /v2/send_join` at `origin`: the answer as received (rooms validates it). */
  sendJoin(origin: string, roomId: string, eventId: string, pdu: PduJson): Promise<unknown>;
  /** Other servers' signing keys (federation's key ring), for the events of a send_join answer. */
  readonly keys: VerifyKeyLookup;
}

// ---- the slice each consumer calls ---------------------------------------------------------------------

/** Sync (its adapter, modules/sync/services/rooms-adapter.ts, restates this structurally). */
export type RoomsApiForSync = Pick<
  RoomsApi,
  | 'currentStreamPosition'
  | 'timeline'
  | 'roomsWithEvents'
  | 'stateAt'
  | 'stateDelta'
  | 'resolvedStateDelta'
  | 'membershipChangesOfUser'
  | 'roomsOfUser'
  | 'members'
  | 'getEvent'
  | 'eventsRelatedBy'
>;
/** The directory: aliases, the room list, publicRooms, hierarchy, summaries. */
export type RoomsApiForDirectory = Pick<
  RoomsApi,
  | 'currentState'
  | 'currentStateEvent'
  | 'sendStateEvent'
  | 'setRoomVisibility'
  | 'listRooms'
  | 'joinedMemberCounts'
  | 'joinedRooms'
  | 'roomVersion'
>;
/** E2EE device-list tracking. */
export type RoomsApiForE2ee = Pick<RoomsApi, 'members' | 'usersSharingRoomWith' | 'joinedRooms'>;
/** Presence: who shares a room with whom. */
export type RoomsApiForPresence = Pick<RoomsApi, 'joinedRooms' | 'usersSharingRoomWith'>;
/** Typing: membership checks. */
export type RoomsApiForTyping = Pick<RoomsApi, 'currentStateEvent'>;
/** Receipts: membership checks and event positions. */
export type RoomsApiForReceipts = Pick<
  RoomsApi,
  'currentStateEvent' | 'getEvent' | 'currentStreamPosition' | 'eventsInStreamRange'
>;
/** Push rules: the events a notification points at. */
export type RoomsApiForPushRules = Pick<RoomsApi, 'getEvent' | 'clientEventsFor'>;
/** Discovery: the `m.room_versions` capability. */
export type RoomsApiForDiscovery = Pick<RoomsApi, 'roomVersionsCapability'>;
/** Plugins (core/plugins/helpers.ts). */
export type RoomsApiForPlugins = Pick<RoomsApi, 'getRoomState' | 'getJoinedRooms'>;

// ---- federation ----------------------------------------------------------------------------------------

export type {
  IncomingPdu,
  ReceiveOutcome,
  ReceiveResult,
  RefusalCode,
} from './services/federated-event-receiver.js';
export type { RemoteEventSource, RemoteRooms } from './services/missing-events.js';

/**
 * What the federation module calls (`roomsFederationApi` in the container): the receive pipeline for PDUs
 * from other servers (services/federated-event-receiver.ts). Signature keys come in with each call
 * (`IncomingPdu.keys`, federation's key ring), so rooms never imports federation.
 */
export interface RoomsFederationApi extends RoomsFederationMembershipApi {
  /** Runs a PDU through the receive pipeline and stores it as the checks decide. */
  receivePdu(input: IncomingPdu): Promise<ReceiveOutcome>;
  /**
   * Runs PDUs through the receive pipeline, those of one room in order and committed together where they
   * extend the room's head (a transaction's PDUs): one result per input, an outcome or the transient error
   * that kept it from one.
   */
  receivePdus(inputs: readonly IncomingPdu[]): Promise<ReceiveResult[]>;
  /** The id of a PDU of a room this server is in (by the room's version), when it is well formed. */
  eventIdOf(pdu: unknown): Promise<string | undefined>;
  /**
   * make_join: the unsigned join event `userId` would send (404 unknown room, 400
   * M_INCOMPATIBLE_ROOM_VERSION when `supportedVersions` lacks the room's, 403 when the user may not join).
   */
  makeJoinTemplate(
    roomId: string,
    userId: string,
    supportedVersions: readonly string[],
  ): Promise<JoinTemplate>;
  /**
   * make_leave: the unsigned leave event `userId` would send (404 unknown room, 403 when the auth rules
   * would not let the user leave, e.g. they have no membership).
   */
  makeLeaveTemplate(roomId: string, userId: string): Promise<JoinTemplate>;
  /** An accepted event in the federation format (the stored PDU), with its room; undefined when unknown. */
  getPdu(eventId: string): Promise<{ roomId: string; pdu: PduJson } | undefined>;
  /** The state before an accepted event and that state's auth chain; undefined when unknown. */
  stateBeforeEvent(eventId: string): Promise<(StateAtEvent & { roomId: string }) | undefined>;
  /** The auth chain of `pdus` (their auth events, recursively). */
  authChain(pdus: readonly PduJson[]): Promise<PduJson[]>;
  /** The servers with a joined member in the room now. */
  serversInRoom(roomId: string): Promise<string[]>;
  /** Accepted events of every room in stream positions (`after`, `upTo`], oldest first (the outbound fan-out). */
  eventsInStreamOrder(after: number, upTo: number, limit: number): Promise<FederationOutboundEvent[]>;
  /** The stored PDUs of accepted events by id (unknown and rejected ones left out). */
  pdusOf(eventIds: readonly string[]): Promise<Map<string, PduJson>>;

  // ---- history reads for another server (each applies the history visibility `server` is entitled to)
  /** An accepted event as `server` may see it (redacted when its history is hidden from it). */
  pduForServer(server: string, eventId: string): Promise<{ roomId: string; pdu: PduJson } | undefined>;
  /**
   * The state before an accepted event and its auth chain, for `server`: `undefined` when unknown,
   * `'hidden'` when the server may not see the event.
   */
  stateBeforeEventForServer(
    server: string,
    eventId: string,
  ): Promise<(StateAtEvent & { roomId: string }) | 'hidden' | undefined>;
  /** /backfill: up to `limit` events from `from` (included) backwards, highest depth first. */
  backfill(server: string, roomId: string, from: readonly string[], limit: number): Promise<PduJson[]>;
  /** get_missing_events: events before `latest` back to `earliest`, oldest first. */
  missingEvents(server: string, roomId: string, query: MissingEventsQuery): Promise<PduJson[]>;
  /** /event_auth: the auth chain of an event of the room; undefined when unknown; 'hidden' as above. */
  eventAuthChain(server: string, roomId: string, eventId: string): Promise<PduJson[] | 'hidden' | undefined>;
  /** /timestamp_to_event: the event closest to `ts` in direction `dir`. */
  eventNearTimestamp(
    roomId: string,
    ts: number,
    dir: 'f' | 'b',
  ): Promise<{ eventId: string; originServerTs: number } | undefined>;
}

/** An event as the federation sender fans it out. */
export interface FederationOutboundEvent {
  readonly streamOrdering: number;
  readonly eventId: string;
  readonly roomId: string;
  readonly sender: string;
  readonly stateKey: string | null;
  readonly membership: string | null;
  readonly pdu: PduJson;
}

// ---- invites, knocks and rejections across servers ----------------------------------------------------

export type { OutOfBandMembership, StrippedState } from './services/out-of-band-memberships.js';

/** A membership event another server accepted for us (send_knock, send_leave), signed and ready to store. */
export interface RemoteMembership {
  readonly eventId: string;
  readonly pdu: PduJson;
  readonly roomVersion: string;
  /** The server that answered. */
  readonly server: string;
  /** knock_room_state: the room's state as that server described it (full PDUs, or stripped events). */
  readonly roomState?: readonly JsonObject[];
}

/**
 * What rooms asks of the federation module for memberships that need another server (rooms never imports
 * federation: the federation module registers this with `roomsHooks.setFederationInvites` in its `start()`).
 * Every method throws a `MatrixError` the client can be given: a refusal of the remote server keeps its
 * status and errcode (403 stays 403), an unreachable server is a 502.
 */
export interface FederationInvitesPort {
  /**
   * Sends an invite built and signed here to the invitee's server (`PUT /_matrix/federation/v2/invite`) and
   * returns the same event with that server's signature added (checked).
   */
  sendInvite(invite: {
    readonly roomVersion: string;
    readonly eventId: string;
    readonly pdu: PduJson;
    /** The room's prejoin state, full PDUs (create, join rules, name, avatar, canonical alias, encryption, topic). */
    readonly inviteRoomState: readonly PduJson[];
  }): Promise<PduJson>;
  /** make_knock → sign → send_knock through the first of `servers` that answers. */
  knock(request: {
    readonly roomId: string;
    readonly userId: string;
    readonly servers: readonly string[];
    readonly content: JsonObject;
  }): Promise<RemoteMembership>;
  /** make_leave → sign → send_leave through the first of `servers` that answers (reject an invite, retract a knock). */
  leave(request: {
    readonly roomId: string;
    readonly userId: string;
    readonly servers: readonly string[];
    readonly content: JsonObject;
  }): Promise<RemoteMembership>;
}

/** An invite of a local user from another server, checked and signed by the federation module. */
export interface ReceivedInvite {
  readonly roomVersion: string;
  readonly eventId: string;
  /** The invite with our signature added. */
  readonly pdu: PduJson;
  /** `invite_room_state` as the inviting server sent it (validated as objects). */
  readonly inviteRoomState: readonly JsonObject[];
  /** The inviting server. */
  readonly origin: string;
  /** Keys for the receive pipeline when this server is in the room. */
  readonly keys: IncomingPdu['keys'];
}

/** What federation calls for invites, knocks and restricted joins (`roomsFederationApi` implements it too). */
export interface RoomsFederationMembershipApi {
  /**
   * Stores an invite of a local user received over federation: through the receive pipeline when this
   * server is in the room, else as an out-of-band membership the user's sync shows under `rooms.invite`.
   */
  receiveInvite(invite: ReceivedInvite): Promise<void>;
  /** make_knock: the unsigned knock template (404, 400 M_INCOMPATIBLE_ROOM_VERSION, 403 as make_join). */
  makeKnockTemplate(
    roomId: string,
    userId: string,
    supportedVersions: readonly string[],
  ): Promise<JoinTemplate>;
  /** The prejoin state of a room this server is in (knock_room_state): full PDUs. */
  prejoinState(roomId: string): Promise<PduJson[]>;
  /**
   * send_join of a join naming one of our users in `join_authorised_via_users_server`: throws unless the
   * user meets the room's allow list now (403 M_FORBIDDEN, 400 M_UNABLE_TO_AUTHORISE_JOIN / _GRANT_JOIN).
   */
  checkRestrictedJoin(roomId: string, userId: string): Promise<void>;
}
