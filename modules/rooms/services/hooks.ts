/**
 * The rooms module's hook registry: the one place other modules plug behaviour into rooms. The directory
 * resolves aliases and validates/extends createRoom and state events; push rules add rows to each event's
 * transaction; typing, receipts, presence and e2ee listen to persisted events. Registration is explicit and
 * happens in the other module's `start()`, before any request; each list may be empty, and rooms then
 * behaves sensibly without it. Registered as `roomsHookLists` (what the rooms services read) and aliased as
 * `roomsHooks`, typed `RoomsHookRegistry` (api.ts): other modules can only add to it.
 */
import type { SqlStatement } from '../../../core/storage/sql.js';
import type { JsonObject, PduJson } from '../../../core/protocol/pdu.js';
import type { RoomVersion } from '../../../core/protocol/room-versions.js';
import type { FederationInvitesPort, FederationMembershipPort, RoomsHookRegistry } from '../api.js';
import type { StoredEvent } from '../store/event-rows.js';
import type { RemoteRooms } from './missing-events.js';

/** `#alias:server` → room id, or undefined when unknown. */
export type AliasResolver = (alias: string) => Promise<string | undefined>;

/**
 * Called by createRoom after the preset state and before name/topic/invites, with the request body, so
 * the directory can add `m.room.canonical_alias` for `room_alias_name` and publish the room.
 */
export type RoomCreatedHook = (args: {
  readonly roomId: string;
  readonly creator: string;
  readonly request: Readonly<Record<string, unknown>>;
}) => Promise<void>;

/** Validates a create request before anything is written (e.g. `room_alias_name` already taken). */
export type RoomCreateValidator = (args: {
  readonly creator: string;
  readonly request: Readonly<Record<string, unknown>>;
}) => Promise<void>;

/** Validates a state event a local user sends before it is built (e.g. m.room.canonical_alias pointing here). */
export type StateEventValidator = (args: {
  readonly userId: string;
  readonly roomId: string;
  readonly type: string;
  readonly stateKey: string;
  readonly content: Readonly<Record<string, unknown>>;
}) => Promise<void>;

/** Called after an upgrade created the new room and tombstoned the old one. */
export type RoomUpgradedHook = (args: {
  oldRoomId: string;
  newRoomId: string;
  userId: string;
}) => Promise<void>;

/** A persisted event as listeners see it. */
export interface PersistedEvent {
  readonly eventId: string;
  readonly roomId: string;
  readonly type: string;
  readonly stateKey: string | null;
  readonly sender: string;
  readonly streamOrdering: number;
  readonly content: JsonObject;
  /** For m.room.member: the new membership. */
  readonly membership: string | null;
}

export function persistedView(e: StoredEvent): PersistedEvent {
  return {
    eventId: e.eventId,
    roomId: e.roomId,
    type: e.type,
    stateKey: e.stateKey,
    sender: e.sender,
    streamOrdering: e.streamOrdering,
    content: e.pdu.content,
    membership: e.membership,
  };
}

/** Called after each persisted event, in order, before it is announced on the notifier. */
export type PersistedListener = (event: PersistedEvent) => Promise<void> | void;

/** An event about to be persisted, as an `EventWriter` sees it. */
export interface EventDraft {
  readonly eventId: string;
  readonly roomId: string;
  readonly type: string;
  readonly stateKey: string | null;
  readonly sender: string;
  readonly content: JsonObject;
}

/** The room as of just after the event (its state applied), from the in-memory head: no queries. */
export interface RoomStateView {
  readonly version: RoomVersion;
  /** The current state event of (type, state_key). */
  state(type: string, stateKey: string): PduJson | undefined;
  /** The users whose membership is `join`. */
  joinedMembers(): readonly string[];
}

/** The statements to run inside the event's transaction, once its stream ordering is known. */
export type TransactionWrite = (streamOrdering: number) => readonly SqlStatement[];

/**
 * Rows derived from an event that must commit with it (push actions, unread counts). Called under the room
 * lock before the transaction, where it may read anything; returns the write to run inside it, if any.
 */
export type EventWriter = (
  event: EventDraft,
  room: RoomStateView,
) => Promise<TransactionWrite | undefined> | TransactionWrite | undefined;

export class RoomHooks implements RoomsHookRegistry {
  readonly aliasResolvers: AliasResolver[] = [];
  readonly roomCreated: RoomCreatedHook[] = [];
  readonly createValidators: RoomCreateValidator[] = [];
  readonly stateValidators: StateEventValidator[] = [];
  readonly roomUpgraded: RoomUpgradedHook[] = [];
  readonly persistedListeners: PersistedListener[] = [];
  readonly eventWriters: EventWriter[] = [];
  /** Joins and leaves of rooms on other servers (set by the federation module; absent without it). */
  federationMembership: FederationMembershipPort | undefined;
  /** Set by the federation module: invites, knocks and rejections that need another server. */
  federationInvites: FederationInvitesPort | undefined;
  /** Other servers' room reads (set by federation), for backfill. */
  remoteRooms: RemoteRooms | undefined;

  /** The first resolver that knows the alias answers. */
  async resolveAlias(alias: string): Promise<string | undefined> {
    for (const resolve of this.aliasResolvers) {
      const roomId = await resolve(alias);
      if (roomId !== undefined) return roomId;
    }
    return undefined;
  }

  addAliasResolver(resolver: AliasResolver): void {
    this.aliasResolvers.push(resolver);
  }

  onRoomCreated(hook: RoomCreatedHook): void {
    this.roomCreated.push(hook);
  }

  addCreateRoomValidator(validator: RoomCreateValidator): void {
    this.createValidators.push(validator);
  }

  addStateEventValidator(validator: StateEventValidator): void {
    this.stateValidators.push(validator);
  }

  onRoomUpgraded(hook: RoomUpgradedHook): void {
    this.roomUpgraded.push(hook);
  }

  onEventPersisted(listener: PersistedListener): void {
    this.persistedListeners.push(listener);
  }

  addEventWriter(writer: EventWriter): void {
    this.eventWriters.push(writer);
  }

  setFederationMembership(port: FederationMembershipPort): void {
    if (this.federationMembership) throw new Error('the federation membership port is already set');
    this.federationMembership = port;
  }

  setFederationInvites(port: FederationInvitesPort): void {
    this.federationInvites = port;
  }

  setRemoteRooms(remote: RemoteRooms): void {
    this.remoteRooms = remote;
  }
}
