/**
 * A local user's membership actions that need another server (server-server-api "Inviting to a room",
 * "Knocking upon a room", "Leaving Rooms (Rejecting Invites)"), through the port the federation module
 * registers (`FederationInvitesPort`; rooms never imports federation):
 *
 * - inviting a remote user: the invite is built and checked here, then signed by the invitee's server
 *   (outside the room lock) and stored through the send path as `prebuilt`, authorised again there;
 * - knocking on a room this server is not in: make_knock → sign → send_knock elsewhere, stored out-of-band;
 * - rejecting an out-of-band invite or retracting an out-of-band knock: make_leave → send_leave; an invite
 *   no server takes the rejection of is rejected locally (a leave only this server knows, as Synapse).
 */
import type { Cradle } from '../../../core/container.js';
import { MatrixError } from '../../../core/errors.js';
import { buildEvent, referenceHashOf, type BuiltEvent } from '../../../core/protocol/event-builder.js';
import { computeEventId } from '../../../core/protocol/event-id.js';
import { getRoomVersion, type RoomVersion } from '../../../core/protocol/room-versions.js';
import type { EventStore } from '../store/event-store.js';
import { serverNameOf } from '../../../core/protocol/identifiers.js';
import type { JsonObject, PduJson } from '../../../core/protocol/pdu.js';
import type { FederationInvitesPort, RemoteMembership } from '../api.js';
import { prejoinStateOf, stripState } from './federation-memberships.js';
import type { RoomHooks } from './hooks.js';
import type { OutOfBandMembership, OutOfBandMemberships } from './out-of-band-memberships.js';
import type { EventSender, SendRequest } from './event-sender.js';

type Deps = Pick<
  Cradle,
  | 'serverName'
  | 'signingKey'
  | 'logger'
  | 'roomsHookLists'
  | 'roomsOutOfBand'
  | 'roomsEventStore'
  | 'roomsSender'
>;

export class RemoteMemberships {
  private readonly serverName: string;
  private readonly signingKey: Deps['signingKey'];
  private readonly logger: Deps['logger'];
  private readonly hooks: RoomHooks;
  private readonly outOfBand: OutOfBandMemberships;
  private readonly eventStore: EventStore;
  private readonly sender: EventSender;

  constructor({
    serverName,
    signingKey,
    logger,
    roomsHookLists,
    roomsOutOfBand,
    roomsEventStore,
    roomsSender,
  }: Deps) {
    this.serverName = serverName;
    this.signingKey = signingKey;
    this.logger = logger;
    this.hooks = roomsHookLists;
    this.outOfBand = roomsOutOfBand;
    this.eventStore = roomsEventStore;
    this.sender = roomsSender;
  }

  /**
   * For an invite of a user of another server: the invite built and checked here on the room's head, then
   * signed by the invitee's server (outside the room lock: the room's other sends do not wait for it) —
   * ready to send as `prebuilt`. Undefined for a local user, or when federation is disabled (the invite then
   * stays on this server, as before federation existed).
   */
  async countersignedInvite(req: SendRequest, target: string): Promise<BuiltEvent | undefined> {
    const port = this.hooks.federationInvites;
    if (!port || serverNameOf(target) === this.serverName) return undefined;
    const { built, head } = await this.sender.buildDetached(req);
    const returned = await port.sendInvite({
      roomVersion: head.version.id,
      eventId: built.eventId,
      pdu: built.pdu,
      inviteRoomState: prejoinStateOf(head),
    });
    return countersigned(built, returned, head.version);
  }

  /** Knocks on a room this server is not in, through `servers`; stores the knock out-of-band. */
  async knock(
    userId: string,
    roomId: string,
    servers: readonly string[],
    content: JsonObject,
  ): Promise<void> {
    const port = this.port();
    const candidates = this.candidates(roomId, servers);
    const knock = await port.knock({ roomId, userId, servers: candidates, content });
    await this.save(knock, candidates);
  }

  /**
   * Leaves a room this server is not in (rejects an out-of-band invite, retracts an out-of-band knock):
   * false when the user has no out-of-band invite or knock there.
   */
  async leave(userId: string, roomId: string, reason: string | undefined): Promise<boolean> {
    const current = await this.outOfBand.get(roomId, userId);
    if (!current || (current.membership !== 'invite' && current.membership !== 'knock')) return false;
    const content: JsonObject = { membership: 'leave' };
    if (reason !== undefined) content['reason'] = reason;
    const candidates = this.candidates(roomId, current.servers);
    let left: RemoteMembership;
    try {
      left = await this.port().leave({ roomId, userId, servers: candidates, content });
    } catch (err) {
      // A knock is retracted with the room or not at all; an invite whose servers cannot take the
      // rejection is rejected here alone (Synapse's local out-of-band leave), or the user would keep it.
      if (current.membership !== 'invite') throw err;
      this.logger.warn({ err, roomId, userId }, 'rejecting the invite locally: no server took the rejection');
      left = await this.localLeave(current, content);
    }
    await this.save(left, candidates);
    return true;
  }

  /** A leave built and signed here on top of the invite alone: known to us, never sent anywhere. */
  private async localLeave(invite: OutOfBandMembership, content: JsonObject): Promise<RemoteMembership> {
    const version = getRoomVersion(invite.roomVersion);
    const stored = await this.eventStore.getEvent(invite.eventId);
    if (!version || !stored) throw new MatrixError(404, 'M_NOT_FOUND', 'The invite is no longer known');
    const built = buildEvent({
      roomVersion: version,
      serverName: this.serverName,
      key: this.signingKey,
      partial: {
        room_id: invite.roomId,
        sender: invite.userId,
        type: 'm.room.member',
        state_key: invite.userId,
        content,
        prev_events: [invite.eventId],
        auth_events: [invite.eventId],
        depth: stored.depth + 1,
      },
      referenceHash: () => referenceHashOf(stored.pdu, version),
    });
    return { eventId: built.eventId, pdu: built.pdu, roomVersion: version.id, server: this.serverName };
  }

  private async save(m: RemoteMembership, servers: readonly string[]): Promise<void> {
    await this.outOfBand.save({
      eventId: m.eventId,
      pdu: m.pdu,
      roomVersion: m.roomVersion,
      servers: m.server === this.serverName ? servers : [m.server, ...servers.filter((s) => s !== m.server)],
      strippedState: m.roomState ? stripState(m.roomState) : undefined,
    });
  }

  /** The servers to try: the given ones, then the room id's own server (pre-v12 ids name one). */
  private candidates(roomId: string, servers: readonly string[]): string[] {
    const out = servers.filter((s) => s !== this.serverName);
    const own = roomId.includes(':') ? serverNameOf(roomId) : undefined;
    if (own && own !== this.serverName && !out.includes(own)) out.push(own);
    if (out.length === 0) throw new MatrixError(404, 'M_NOT_FOUND', 'No server to ask about this room');
    return out;
  }

  private port(): FederationInvitesPort {
    const port = this.hooks.federationInvites;
    if (!port) throw new MatrixError(404, 'M_NOT_FOUND', 'Unknown room (federation is disabled)');
    return port;
  }
}

/**
 * `built` with the signatures of `returned` when that is the same event (same id, same fields but
 * `signatures` and `unsigned`, our own signature unchanged); a 502 otherwise — the other server altered it.
 * `unsigned` is no part of the event (neither hashed nor signed), and Synapse answers with its own there
 * (`invite_room_state`, `age`); ours is kept.
 */
function countersigned(built: BuiltEvent, returned: PduJson, version: RoomVersion): BuiltEvent {
  const { signatures: ours, unsigned: _ourUnsigned, ...mine } = built.pdu;
  const { signatures: theirs, unsigned: _theirUnsigned, ...other } = returned;
  const same =
    computeEventId(returned, version) === built.eventId &&
    sameJson(mine, other) &&
    Object.keys(ours).every((server) => sameJson(ours[server], theirs[server]));
  if (!same) {
    throw new MatrixError(502, 'M_UNKNOWN', 'The remote server returned another event than the one sent');
  }
  return { ...built, pdu: { ...built.pdu, signatures: theirs } };
}

function sameJson(a: unknown, b: unknown): boolean {
  return JSON.stringify(sortedKeys(a)) === JSON.stringify(sortedKeys(b));
}

/** A copy of a JSON value with object keys sorted, to compare two values regardless of key order. */
function sortedKeys(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(sortedKeys);
  if (typeof value !== 'object' || value === null) return value;
  const out: Record<string, unknown> = {};
  for (const k of Object.keys(value).sort()) out[k] = sortedKeys((value as Record<string, unknown>)[k]);
  return out;
}
