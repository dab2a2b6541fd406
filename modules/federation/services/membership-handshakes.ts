/**
 * The outbound side of invites, knocks and rejections (server-server-api "Inviting to a room", "Knocking upon
 * a room", "Leaving Rooms (Rejecting Invites)"): what the rooms module asks through its
 * `FederationInvitesPort`, registered in this module's `start()`.
 *
 * - invite: `PUT /_matrix/federation/v2/invite` to the invitee's server; the answer must be our event with
 *   that server's valid signature added;
 * - knock / leave: `make_knock` / `make_leave` on the first server that answers, the template checked
 *   (type, room, sender, state key, membership), completed (our content, now, hashes) and signed, then
 *   `send_knock` / `send_leave` v2 to the same server.
 *
 * A remote refusal keeps its status and errcode (403 stays 403); a destination federation may not reach
 * (federation_domain_whitelist, ip_range_blacklist) is a 403, as Synapse; an unreachable server is a 502.
 */
import { MatrixError } from '../../../core/errors.js';
import { computeEventId, generateLegacyEventId } from '../../../core/protocol/event-id.js';
import { serverNameOf } from '../../../core/protocol/identifiers.js';
import type { JsonObject, PduJson } from '../../../core/protocol/pdu.js';
import { checkPduFormat } from '../../../core/protocol/pdu-format.js';
import { redactEvent } from '../../../core/protocol/redaction.js';
import { getRoomVersion, ROOM_VERSIONS, type RoomVersion } from '../../../core/protocol/room-versions.js';
import { hashAndSignEvent } from '../../../core/protocol/signing.js';
import type { SigningKey } from '../../../core/protocol/signing-key.js';
import type { FederationInvitesPort, RemoteMembership } from '../../rooms/api.js';
import { FederationRequestError, type FederationClient, type KeyRing } from '../api.js';

export interface MembershipHandshakesDeps {
  readonly serverName: string;
  readonly signingKey: SigningKey;
  readonly client: FederationClient;
  readonly keyRing: KeyRing;
}

/** The room versions this server can take part in, as `ver` of make_knock / make_leave. */
const SUPPORTED_VERSIONS = [...ROOM_VERSIONS.keys()];

export class MembershipHandshakes implements FederationInvitesPort {
  constructor(private readonly deps: MembershipHandshakesDeps) {}

  async sendInvite(invite: {
    roomVersion: string;
    eventId: string;
    pdu: PduJson;
    inviteRoomState: readonly PduJson[];
  }): Promise<PduJson> {
    const { pdu } = invite;
    const destination = serverNameOf(pdu.state_key ?? '') ?? '';
    const version = this.version(invite.roomVersion);
    const answer = await this.call(destination, {
      method: 'PUT',
      path: `/_matrix/federation/v2/invite/${enc(pdu.room_id ?? '')}/${enc(invite.eventId)}`,
      body: { room_version: invite.roomVersion, event: pdu, invite_room_state: invite.inviteRoomState },
    });
    const event = isObject(answer) ? answer['event'] : undefined;
    const format = checkPduFormat(event, version);
    if (!format.ok || computeEventId(format.pdu, version) !== invite.eventId) {
      throw new MatrixError(502, 'M_UNKNOWN', `${destination} answered the invite with another event`);
    }
    const signed = await this.deps.keyRing.verifySignedBy(destination, redactEvent(format.pdu, version), {
      atTs: Date.now(),
      strict: false,
    });
    if (!signed) {
      throw new MatrixError(502, 'M_UNKNOWN', `${destination} did not sign the invite with a valid key`);
    }
    return format.pdu;
  }

  knock(request: {
    roomId: string;
    userId: string;
    servers: readonly string[];
    content: JsonObject;
  }): Promise<RemoteMembership> {
    return this.handshake('knock', request);
  }

  leave(request: {
    roomId: string;
    userId: string;
    servers: readonly string[];
    content: JsonObject;
  }): Promise<RemoteMembership> {
    return this.handshake('leave', request);
  }

  /** make_X → complete and sign → send_X, on the first server that answers the make_X. */
  private async handshake(
    membership: 'knock' | 'leave',
    request: { roomId: string; userId: string; servers: readonly string[]; content: JsonObject },
  ): Promise<RemoteMembership> {
    const { roomId, userId } = request;
    let lastError: MatrixError | undefined;
    for (const server of request.servers) {
      let template: { version: RoomVersion; event: JsonObject };
      try {
        template = await this.template(membership, server, roomId, userId);
      } catch (err) {
        if (!(err instanceof MatrixError)) throw err;
        lastError = err;
        // A refusal of the room's rules (403) or an incompatible version is the room's answer: stop there.
        if (err.status === 403 || err.errcode === 'M_INCOMPATIBLE_ROOM_VERSION') throw err;
        continue;
      }
      const { version, event } = template;
      const draft: Record<string, unknown> = {
        ...event,
        content: { ...request.content, membership },
        origin_server_ts: Date.now(),
      };
      delete draft['signatures'];
      delete draft['hashes'];
      delete draft['unsigned'];
      if (version.eventIdFormat === 'v1') draft['event_id'] = generateLegacyEventId(this.deps.serverName);
      else delete draft['event_id'];
      const pdu = hashAndSignEvent(draft as PduJson, version, this.deps.serverName, this.deps.signingKey);
      const eventId = computeEventId(pdu, version);
      const path =
        membership === 'knock'
          ? `/_matrix/federation/v1/send_knock/${enc(roomId)}/${enc(eventId)}`
          : `/_matrix/federation/v2/send_leave/${enc(roomId)}/${enc(eventId)}`;
      const answer = await this.call(server, { method: 'PUT', path, body: pdu });
      // `knock_state_events`: the name Synapse 1.37–1.69 answer with (before the spec's `knock_room_state`).
      const state = isObject(answer)
        ? (answer['knock_room_state'] ?? answer['knock_state_events'])
        : undefined;
      return {
        eventId,
        pdu,
        roomVersion: version.id,
        server,
        ...(Array.isArray(state) ? { roomState: state.filter(isObject) as JsonObject[] } : {}),
      };
    }
    throw lastError ?? new MatrixError(404, 'M_NOT_FOUND', 'No server could be asked about the room');
  }

  /** make_knock / make_leave on `server`, its template checked against what we asked for. */
  private async template(
    membership: 'knock' | 'leave',
    server: string,
    roomId: string,
    userId: string,
  ): Promise<{ version: RoomVersion; event: JsonObject }> {
    const answer = await this.call(server, {
      method: 'GET',
      path: `/_matrix/federation/v1/make_${membership}/${enc(roomId)}/${enc(userId)}`,
      ...(membership === 'knock' ? { query: { ver: SUPPORTED_VERSIONS } } : {}),
    });
    const roomVersion = isObject(answer) ? answer['room_version'] : undefined;
    const event = isObject(answer) ? answer['event'] : undefined;
    // make_leave v1 may omit room_version for v1 rooms (the spec's default).
    const version = getRoomVersion(typeof roomVersion === 'string' ? roomVersion : '1');
    if (!version) {
      throw new MatrixError(400, 'M_INCOMPATIBLE_ROOM_VERSION', 'The room version is not supported', {
        room_version: roomVersion,
      });
    }
    const content = isObject(event) ? event['content'] : undefined;
    if (
      !isObject(event) ||
      event['type'] !== 'm.room.member' ||
      event['room_id'] !== roomId ||
      event['sender'] !== userId ||
      event['state_key'] !== userId ||
      !isObject(content) ||
      content['membership'] !== membership
    ) {
      throw new MatrixError(502, 'M_UNKNOWN', `${server} answered make_${membership} with a bad template`);
    }
    return { version, event: event as JsonObject };
  }

  /** A signed request whose failure becomes the Matrix error a client can be given. */
  private async call(
    destination: string,
    request: { method: 'GET' | 'PUT'; path: string; body?: unknown; query?: Record<string, string[]> },
  ): Promise<unknown> {
    try {
      return await this.deps.client.request({ ...request, destination });
    } catch (err) {
      if (!(err instanceof FederationRequestError)) throw err;
      if (err.kind === 'http' && err.status !== undefined && err.status >= 400 && err.status < 500) {
        const body = isObject(err.body) ? err.body : {};
        const message = typeof body['error'] === 'string' ? body['error'] : err.message;
        const extra: Record<string, unknown> = {};
        if (body['room_version'] !== undefined) extra['room_version'] = body['room_version'];
        throw new MatrixError(err.status, err.errcode ?? 'M_FORBIDDEN', message, extra);
      }
      if (err.kind === 'not_allowed') {
        throw new MatrixError(403, 'M_FORBIDDEN', `Federation with ${destination} is not allowed`);
      }
      throw new MatrixError(502, 'M_UNKNOWN', `Could not reach ${destination}: ${err.message}`);
    }
  }

  private version(id: string): RoomVersion {
    const version = getRoomVersion(id);
    if (!version) throw new MatrixError(500, 'M_UNKNOWN', `Unknown room version ${id}`);
    return version;
  }
}

function enc(s: string): string {
  return encodeURIComponent(s);
}

function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}
