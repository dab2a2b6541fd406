/**
 * A local user's membership actions that need another server (server-server-api "Inviting to a room",
 * "Knocking upon a room", "Leaving Rooms (Rejecting Invites)"), through the port the federation module
 * registers (`FederationInvitesPort`; rooms never imports federation):
 *
 * - inviting a remote user: the invite is built and checked here, then signed by the invitee's server
 *   before it is stored (`countersignInvite`, run by the send path under the room lock);
 * - knocking on a room this server is not in: make_knock → sign → send_knock elsewhere, stored out-of-band;
 * - rejecting an out-of-band invite or retracting an out-of-band knock: make_leave → send_leave.
 */
import type { Cradle } from '../../../core/container.js';
import { MatrixError } from '../../../core/errors.js';
import type { BuiltEvent } from '../../../core/protocol/event-builder.js';
import { serverNameOf } from '../../../core/protocol/identifiers.js';
import type { JsonObject, PduJson } from '../../../core/protocol/pdu.js';
import type { FederationInvitesPort, RemoteMembership } from '../api.js';
import { prejoinStateOf, stripState } from './federation-memberships.js';
import type { RoomHooks } from './hooks.js';
import type { OutOfBandMemberships } from './out-of-band-memberships.js';
import type { RoomHead } from './room-heads.js';

type Deps = Pick<Cradle, 'serverName' | 'roomsHookLists' | 'roomsOutOfBand'>;

export class RemoteMemberships {
  private readonly serverName: string;
  private readonly hooks: RoomHooks;
  private readonly outOfBand: OutOfBandMemberships;

  constructor({ serverName, roomsHookLists, roomsOutOfBand }: Deps) {
    this.serverName = serverName;
    this.hooks = roomsHookLists;
    this.outOfBand = roomsOutOfBand;
  }

  /**
   * For an invite of a user of another server: the send path's `countersign` step, which sends the built
   * invite to that server and returns it with its signature. Undefined for a local user, or when federation
   * is disabled (the invite then stays on this server, as before federation existed).
   */
  countersignInvite(target: string): ((built: BuiltEvent, head: RoomHead) => Promise<PduJson>) | undefined {
    const port = this.hooks.federationInvites;
    if (!port || serverNameOf(target) === this.serverName) return undefined;
    return (built, head) =>
      port.sendInvite({
        roomVersion: head.version.id,
        eventId: built.eventId,
        pdu: built.pdu,
        inviteRoomState: prejoinStateOf(head),
      });
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
    const left = await this.port().leave({ roomId, userId, servers: candidates, content });
    await this.save(left, candidates);
    return true;
  }

  private async save(m: RemoteMembership, servers: readonly string[]): Promise<void> {
    await this.outOfBand.save({
      eventId: m.eventId,
      pdu: m.pdu,
      roomVersion: m.roomVersion,
      servers: [m.server, ...servers.filter((s) => s !== m.server)],
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
