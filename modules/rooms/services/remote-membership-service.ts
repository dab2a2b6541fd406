/**
 * Joining and leaving rooms this server is not in (server-server-api "Joining Rooms", "Leaving Rooms
 * (Rejecting Invites)"), the joining side: the room is found (a remote alias through `/query/directory`),
 * a resident server is asked for a template (make_join / make_leave, each candidate in turn), the event is
 * completed, hashed and signed with our key, and sent (send_join / send_leave). A send_join answer is
 * validated (remote-join-validator.ts) and stored in one transaction (remote-room-writer.ts); an invalid
 * answer falls back to the next candidate, and when none gives a valid one the join fails with 502 and
 * nothing stored. The transport is federation's, through the `FederationMembershipPort` it registers: rooms
 * never imports federation.
 */
import type { Cradle } from '../../../core/container.js';
import { MatrixError } from '../../../core/errors.js';
import { CanonicalJsonError } from '../../../core/protocol/canonical-json.js';
import { computeEventId, generateLegacyEventId } from '../../../core/protocol/event-id.js';
import { isValidRoomId, parseRoomAlias, serverNameOf } from '../../../core/protocol/identifiers.js';
import { stateKey, type JsonObject, type PduJson } from '../../../core/protocol/pdu.js';
import { getRoomVersion, ROOM_VERSIONS, type RoomVersion } from '../../../core/protocol/room-versions.js';
import { hashAndSignEvent } from '../../../core/protocol/signing.js';
import type { FederationMembershipPort } from '../api.js';
import type { StoredEvent } from '../store/event-rows.js';
import type { RoomHooks } from './hooks.js';
import { InvalidJoinAnswer, validateSendJoinAnswer } from './remote-join-validator.js';
import type { RemoteRoomWriter } from './remote-room-writer.js';
import type { RoomHead, RoomHeads } from './room-heads.js';

/** Where a join goes: a room this server can join locally, or through the candidate servers. */
export type JoinTarget =
  | { readonly remote: false; readonly roomId: string }
  | {
      readonly remote: true;
      readonly roomId: string;
      readonly servers: readonly string[];
      /** The user holds an out-of-band invite to the room (from another server). */
      readonly invited: boolean;
    };

type Deps = Pick<
  Cradle,
  | 'serverName'
  | 'signingKey'
  | 'logger'
  | 'roomsHookLists'
  | 'roomsHeads'
  | 'roomsRemoteRoomWriter'
  | 'roomsOutOfBand'
>;

export class RemoteMembershipService {
  private readonly serverName: string;
  private readonly signingKey: Deps['signingKey'];
  private readonly logger: Deps['logger'];
  private readonly hooks: RoomHooks;
  private readonly heads: RoomHeads;
  private readonly writer: RemoteRoomWriter;
  private readonly outOfBand: Deps['roomsOutOfBand'];

  constructor({
    serverName,
    signingKey,
    logger,
    roomsHookLists,
    roomsHeads,
    roomsRemoteRoomWriter,
    roomsOutOfBand,
  }: Deps) {
    this.serverName = serverName;
    this.signingKey = signingKey;
    this.logger = logger.child({ module: 'rooms', component: 'remote-membership' });
    this.hooks = roomsHookLists;
    this.heads = roomsHeads;
    this.writer = roomsRemoteRoomWriter;
    this.outOfBand = roomsOutOfBand;
  }

  /**
   * Where a join of `roomIdOrAlias` goes. Local aliases resolve through the directory's resolver, others
   * through the alias's server; a room is joined remotely when we do not know it, or when it was not made
   * here and no local user is joined (our copy may be stale). `via`: the client's `via` / `server_name`;
   * an out-of-band invite of `userId` adds the servers it names (the inviter's).
   */
  async joinTarget(roomIdOrAlias: string, via: readonly string[], userId: string): Promise<JoinTarget> {
    let roomId = roomIdOrAlias;
    let servers: readonly string[] = [];
    if (roomIdOrAlias.startsWith('#')) {
      const alias = parseRoomAlias(roomIdOrAlias);
      if (!alias) throw new MatrixError(400, 'M_INVALID_PARAM', `${roomIdOrAlias} is not a room id or alias`);
      const local = await this.hooks.resolveAlias(roomIdOrAlias);
      const port = this.hooks.federationMembership;
      if (local !== undefined || alias.serverName === this.serverName || !port) {
        if (local === undefined)
          throw new MatrixError(404, 'M_NOT_FOUND', `Room alias ${roomIdOrAlias} not found`);
        roomId = local;
      } else {
        ({ roomId, servers } = await port.queryDirectory(roomIdOrAlias));
      }
    } else if (!roomIdOrAlias.startsWith('!') || !isValidRoomId(roomIdOrAlias)) {
      throw new MatrixError(400, 'M_INVALID_PARAM', `${roomIdOrAlias} is not a room id or alias`);
    }
    const head = await this.heads.get(roomId);
    if (!this.hooks.federationMembership || (head && this.joinsLocally(head)))
      return { remote: false, roomId };
    const outOfBand = await this.outOfBand.get(roomId, userId);
    return {
      remote: true,
      roomId,
      servers: this.candidates(roomId, [...via, ...servers, ...(outOfBand?.servers ?? [])], head),
      invited: outOfBand?.membership === 'invite',
    };
  }

  /**
   * Joins `userId` to a room on other servers with the member event `content` (membership, profile,
   * reason): make_join → sign → send_join → validate → store. Throws the remote's 4xx, or 502 when no
   * server gave a usable answer.
   */
  async join(
    userId: string,
    roomId: string,
    servers: readonly string[],
    content: JsonObject,
  ): Promise<StoredEvent> {
    const port = this.port();
    let remaining = [...servers];
    let lastInvalid: InvalidJoinAnswer | undefined;
    while (remaining.length > 0) {
      const made = await port.makeJoin({
        roomId,
        userId,
        servers: remaining,
        supportedVersions: [...ROOM_VERSIONS.keys()],
      });
      const tried = remaining.indexOf(made.origin);
      remaining = tried < 0 ? [] : remaining.slice(tried + 1);
      const { version, eventId, pdu } = this.completeTemplate(made, roomId, userId, 'join', content);
      const answer = await port.sendJoin(made.origin, roomId, eventId, pdu);
      try {
        const joined = await validateSendJoinAnswer({
          roomId,
          version,
          join: { eventId, pdu },
          answer,
          keys: port.keys,
        });
        return await this.writer.persist(roomId, joined);
      } catch (err) {
        if (!(err instanceof InvalidJoinAnswer)) throw err;
        this.logger.warn({ roomId, origin: made.origin, reason: err.message }, 'invalid send_join answer');
        lastInvalid = err;
      }
    }
    throw new MatrixError(
      502,
      'M_UNKNOWN',
      `No server gave a valid answer to join ${roomId}${lastInvalid ? `: ${lastInvalid.message}` : ''}`,
    );
  }

  private port(): FederationMembershipPort {
    const port = this.hooks.federationMembership;
    if (!port) throw new MatrixError(404, 'M_NOT_FOUND', 'This server cannot reach other servers');
    return port;
  }

  /** A room made here, or one where a local user is joined, is joined with a local event. */
  private joinsLocally(head: RoomHead): boolean {
    const create = head.state.get(stateKey('m.room.create', ''));
    if (create && serverNameOf(create.pdu.sender) === this.serverName) return true;
    for (const [key, e] of head.state) {
      if (!key.startsWith('m.room.member\u0000') || e.pdu.content['membership'] !== 'join') continue;
      if (serverNameOf(e.pdu.state_key ?? '') === this.serverName) return true;
    }
    return false;
  }

  /**
   * The servers to ask, in order: the ones given, the room id's server (rooms before v12), and the servers
   * of members we know of (an invite's sender); never ourselves. 404 when there is none, as Synapse.
   */
  private candidates(roomId: string, given: readonly string[], head: RoomHead | undefined): string[] {
    const out = new Set<string>(given);
    const roomServer = serverNameOf(roomId);
    if (roomServer !== undefined) out.add(roomServer);
    for (const [key, e] of head?.state ?? []) {
      if (!key.startsWith('m.room.member\u0000')) continue;
      const server = serverNameOf(e.pdu.sender);
      if (server !== undefined) out.add(server);
    }
    out.delete(this.serverName);
    if (out.size === 0) {
      throw new MatrixError(404, 'M_NOT_FOUND', `No known servers to join ${roomId} through`);
    }
    return [...out];
  }

  /**
   * The template checked (type, room, sender, state key, membership: the spec's MUSTs), completed with
   * our content, `origin`, `origin_server_ts` (and `event_id` in v1–2 rooms), hashed and signed.
   */
  private completeTemplate(
    made: { origin: string; roomVersion: string; event: unknown },
    roomId: string,
    userId: string,
    membership: 'join',
    content: JsonObject,
  ): { version: RoomVersion; eventId: string; pdu: PduJson } {
    const version = getRoomVersion(made.roomVersion);
    if (!version) {
      throw new MatrixError(
        400,
        'M_INCOMPATIBLE_ROOM_VERSION',
        `Unsupported room version ${made.roomVersion}`,
        {
          room_version: made.roomVersion,
        },
      );
    }
    const t = made.event;
    const template =
      typeof t === 'object' && t !== null && !Array.isArray(t) ? (t as Record<string, unknown>) : {};
    const templateContent = template['content'];
    if (
      template['type'] !== 'm.room.member' ||
      template['room_id'] !== roomId ||
      template['sender'] !== userId ||
      template['state_key'] !== userId ||
      typeof templateContent !== 'object' ||
      templateContent === null ||
      (templateContent as Record<string, unknown>)['membership'] !== membership
    ) {
      throw new MatrixError(
        502,
        'M_UNKNOWN',
        `${made.origin} answered make_${membership} with a bad template`,
      );
    }
    const authoriser = (templateContent as Record<string, unknown>)['join_authorised_via_users_server'];
    const { signatures: _s, hashes: _h, unsigned: _u, event_id: _e, ...rest } = template;
    const draft = {
      ...rest,
      content: {
        ...content,
        ...(typeof authoriser === 'string' ? { join_authorised_via_users_server: authoriser } : {}),
      },
      origin_server_ts: Date.now(),
      ...(version.redactionRules === 'v11' ? {} : { origin: this.serverName }),
      ...(version.eventIdFormat === 'v1' ? { event_id: generateLegacyEventId(this.serverName) } : {}),
    } as unknown as PduJson;
    try {
      const pdu = hashAndSignEvent(draft, version, this.serverName, this.signingKey);
      return { version, eventId: computeEventId(pdu, version), pdu };
    } catch (err) {
      if (!(err instanceof CanonicalJsonError)) throw err;
      throw new MatrixError(
        502,
        'M_UNKNOWN',
        `${made.origin} answered make_${membership} with a bad template`,
      );
    }
  }
}
