/**
 * What a resident server answers other servers about its rooms (server-server-api "Joining rooms",
 * "Retrieving events"): the make_join template, the state before an event with its auth chain, the
 * servers in a room, and PDUs in the federation format (the stored PDU: its redacted form once redacted).
 */
import type { Cradle } from '../../../core/container.js';
import { MatrixError } from '../../../core/errors.js';
import { authEventsSelection } from '../../../core/protocol/auth-events-selection.js';
import { checkEventAuth } from '../../../core/protocol/auth-rules/index.js';
import { referenceHashOf } from '../../../core/protocol/event-builder.js';
import { referenceIds } from '../../../core/protocol/event-references.js';
import { serverNameOf } from '../../../core/protocol/identifiers.js';
import { stateKey, type EventReference, type PduJson, type StateKey } from '../../../core/protocol/pdu.js';
import type { StoredEvent } from '../store/event-rows.js';
import type { EventStore } from '../store/event-store.js';
import type { StateStore } from '../store/state-store.js';
import type { RoomHeads } from './room-heads.js';
import { remoteJoinAuthoriser } from './restricted-joins.js';

/** The make_join answer: the room version and the join event to sign. */
export interface JoinTemplate {
  readonly roomVersion: string;
  readonly event: Readonly<Record<string, unknown>>;
}

/** The state before an event and the auth chain of that state, in the federation format. */
export interface StateAtEvent {
  readonly state: PduJson[];
  readonly stateIds: string[];
  readonly authChain: PduJson[];
  readonly authChainIds: string[];
}

type Deps = Pick<
  Cradle,
  'roomsHeads' | 'roomsEventStore' | 'roomsStateStore' | 'roomsMembershipStore' | 'serverName'
>;

export class FederationRoomReads {
  private readonly heads: RoomHeads;
  private readonly eventStore: EventStore;
  private readonly stateStore: StateStore;
  private readonly membershipStore: Deps['roomsMembershipStore'];
  private readonly serverName: string;
  constructor({ roomsHeads, roomsEventStore, roomsStateStore, roomsMembershipStore, serverName }: Deps) {
    this.heads = roomsHeads;
    this.eventStore = roomsEventStore;
    this.stateStore = roomsStateStore;
    this.membershipStore = roomsMembershipStore;
    this.serverName = serverName;
  }

  /**
   * The unsigned join event `userId` would send now (make_join): 404 for an unknown room,
   * 400 M_INCOMPATIBLE_ROOM_VERSION when the joining server does not support its version, 403 when the
   * auth rules would not let the user join.
   */
  async makeJoinTemplate(
    roomId: string,
    userId: string,
    supportedVersions: readonly string[],
  ): Promise<JoinTemplate> {
    return this.makeMembershipTemplate(roomId, userId, 'join', supportedVersions);
  }

  /** The unsigned leave event `userId` would send now (make_leave): 404 unknown room, 403 not allowed. */
  async makeLeaveTemplate(roomId: string, userId: string): Promise<JoinTemplate> {
    return this.makeMembershipTemplate(roomId, userId, 'leave', undefined);
  }

  /** make_knock: as make_join, for a knock (403 when the join rule or the room version has no knocking). */
  async makeKnockTemplate(
    roomId: string,
    userId: string,
    supportedVersions: readonly string[],
  ): Promise<JoinTemplate> {
    return this.makeMembershipTemplate(roomId, userId, 'knock', supportedVersions);
  }

  /**
   * send_join of a restricted join naming one of our users: throws unless `userId` still meets the allow
   * list (403, or the spec's 400s); see restricted-joins.ts.
   */
  async checkRestrictedJoin(roomId: string, userId: string): Promise<void> {
    const head = await this.heads.get(roomId);
    if (!head) throw new MatrixError(404, 'M_NOT_FOUND', 'Unknown room');
    await remoteJoinAuthoriser(head, userId, this.serverName, this.allowListFacts);
  }

  private readonly allowListFacts = {
    isRoomKnown: async (id: string) => (await this.heads.get(id)) !== undefined,
    isJoined: async (id: string, user: string) =>
      (await this.membershipStore.getMembership(id, user))?.membership === 'join',
  };

  /** The unsigned `membership` event of `userId` (a restricted join with its authoriser). */
  private async makeMembershipTemplate(
    roomId: string,
    userId: string,
    membership: 'join' | 'knock' | 'leave',
    supportedVersions: readonly string[] | undefined,
  ): Promise<JoinTemplate> {
    const head = await this.heads.get(roomId);
    if (!head) throw new MatrixError(404, 'M_NOT_FOUND', 'Unknown room');
    if (supportedVersions && !supportedVersions.includes(head.version.id)) {
      throw new MatrixError(
        400,
        'M_INCOMPATIBLE_ROOM_VERSION',
        `The room's version ${head.version.id} is not one your server supports`,
        { room_version: head.version.id },
      );
    }
    const content: Record<string, string> = { membership };
    if (membership === 'join') {
      const authoriser = await remoteJoinAuthoriser(head, userId, this.serverName, this.allowListFacts);
      if (authoriser !== undefined) content['join_authorised_via_users_server'] = authoriser;
    }
    const draft = { type: 'm.room.member', sender: userId, state_key: userId, content };
    const authIds = authEventsSelection(draft, head.version)
      .map((k) => head.state.get(k)?.eventId)
      .filter((id): id is string => id !== undefined);
    const probe = {
      ...draft,
      room_id: roomId,
      prev_events: head.extremities,
      auth_events: authIds,
      depth: head.maxDepth + 1,
      origin_server_ts: Date.now(),
      hashes: { sha256: '' },
      signatures: {},
    } satisfies PduJson;
    const allowed = checkEventAuth(
      { eventId: '$probe', pdu: probe },
      (type, key) => head.state.get(stateKey(type, key)),
      head.version,
      // The authoriser's signature is ours to add on send_join.
      { isSignedBy: (_event, server) => server === this.serverName },
    );
    if (!allowed.allowed)
      throw new MatrixError(403, 'M_FORBIDDEN', `You cannot ${membership}: ${allowed.reason}`);
    const refs = async (ids: readonly string[]): Promise<EventReference[]> => {
      if (head.version.eventIdFormat !== 'v1') return [...ids];
      const events = await this.eventStore.getEvents(ids);
      return ids.map((id) => [id, { sha256: referenceHashOf(events.get(id)!.pdu, head.version) }]);
    };
    return {
      roomVersion: head.version.id,
      event: {
        room_id: roomId,
        sender: userId,
        // `origin` is no part of the event format from v11 (its redaction rules drop it).
        ...(head.version.redactionRules === 'v11' ? {} : { origin: serverNameOf(userId) }),
        origin_server_ts: probe.origin_server_ts,
        type: 'm.room.member',
        state_key: userId,
        content,
        prev_events: await refs(head.extremities),
        auth_events: await refs(authIds),
        depth: probe.depth,
      },
    };
  }

  /** A stored, accepted event of any room (undefined for unknown or rejected ones). */
  async event(eventId: string): Promise<StoredEvent | undefined> {
    const e = await this.eventStore.getEvent(eventId);
    return e && e.rejectedReason === null ? e : undefined;
  }

  /** The state before `event` (server-server-api /state and /state_ids), and its auth chain. */
  async stateBefore(event: StoredEvent): Promise<StateAtEvent> {
    const ids =
      event.stateGroup === null
        ? new Map<StateKey, string>()
        : await this.stateStore.stateOfGroup(event.stateGroup);
    if (event.rejectedReason === null && event.stateKey !== null) {
      const key = stateKey(event.type, event.stateKey);
      const replaced = event.unsigned?.replaces_state;
      if (replaced === undefined) ids.delete(key);
      else ids.set(key, replaced);
    }
    const events = await this.eventStore.getEvents([...ids.values()]);
    const state = [...ids.values()].map((id) => events.get(id)).filter((e) => e !== undefined);
    const chain = await this.authChainEvents(state.map((e) => e.pdu));
    return {
      state: state.map((e) => e.pdu),
      stateIds: state.map((e) => e.eventId),
      authChain: [...chain.values()],
      authChainIds: [...chain.keys()],
    };
  }

  /** Every event in the auth chains of `pdus` (their auth events, recursively), not the PDUs themselves. */
  async authChain(pdus: readonly PduJson[]): Promise<PduJson[]> {
    return [...(await this.authChainEvents(pdus)).values()];
  }

  private async authChainEvents(pdus: readonly PduJson[]): Promise<Map<string, PduJson>> {
    const seen = new Map<string, PduJson>();
    let frontier = [...new Set(pdus.flatMap((p) => referenceIds(p.auth_events)))];
    while (frontier.length > 0) {
      const events = await this.eventStore.getEvents(frontier.filter((id) => !seen.has(id)));
      const next: string[] = [];
      for (const [id, e] of events) {
        if (seen.has(id)) continue;
        seen.set(id, e.pdu);
        for (const a of referenceIds(e.pdu.auth_events)) if (!seen.has(a)) next.push(a);
      }
      frontier = [...new Set(next)];
    }
    return seen;
  }

  /** The servers with a joined member in the room now (this one included when it has one). */
  async serversInRoom(roomId: string): Promise<string[]> {
    const head = await this.heads.get(roomId);
    if (!head) return [];
    const servers = new Set<string>();
    for (const [key, e] of head.state) {
      if (!key.startsWith('m.room.member\u0000') || e.pdu.content['membership'] !== 'join') continue;
      const server = serverNameOf(e.pdu.state_key ?? '');
      if (server !== undefined) servers.add(server);
    }
    return [...servers].sort();
  }
}
