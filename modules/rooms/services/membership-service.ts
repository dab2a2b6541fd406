/**
 * Membership changes as a local user: join (also through an alias), invite, leave, kick, ban, unban,
 * knock, forget; restricted joins authorised through the allow list; joined rooms. The auth rules decide
 * what is permitted; this service adds the spam checks, the profile in the member event and the
 * `join_authorised_via_users_server` a restricted join needs.
 */
import type { Cradle } from '../../../core/container.js';
import { MatrixError } from '../../../core/errors.js';
import { isValidRoomAlias, isValidRoomId, isValidUserId } from '../../../core/protocol/identifiers.js';
import { stateKey, type JsonObject } from '../../../core/protocol/pdu.js';
import { powerLevelsFromContent, userPowerLevelFrom } from '../../../core/protocol/power-levels.js';
import type { MembershipStore } from '../store/membership-store.js';
import type { EventSender, SentEvent } from './event-sender.js';
import type { RoomHooks } from './hooks.js';
import type { RoomHead, RoomHeads } from './room-heads.js';
import type { RemoteMembershipService } from './remote-membership-service.js';
import type { RoomReader } from './room-reader.js';
import type { RemoteMemberships } from './remote-memberships.js';

export interface Actor {
  readonly userId: string;
  readonly deviceId?: string | null;
  readonly isGuest?: boolean;
}

export class MembershipService {
  private readonly spamCheckers: Cradle['spamCheckers'];
  private readonly serverName: string;
  /** Auth's profiles: the displayname and avatar_url of a member event (rooms requires auth). */
  private readonly authApi: Pick<Cradle['authApi'], 'getProfile'>;
  private readonly membershipStore: MembershipStore;
  private readonly sender: EventSender;
  private readonly reader: RoomReader;
  private readonly heads: RoomHeads;
  private readonly hooks: RoomHooks;
  private readonly remoteJoins: RemoteMembershipService;
  private readonly remote: RemoteMemberships;

  constructor({
    spamCheckers,
    serverName,
    authApi,
    roomsMembershipStore,
    roomsSender,
    roomsReader,
    roomsHeads,
    roomsHookLists,
    roomsRemoteMembership,
    roomsRemoteMemberships,
  }: Pick<
    Cradle,
    | 'spamCheckers'
    | 'serverName'
    | 'roomsMembershipStore'
    | 'roomsSender'
    | 'roomsReader'
    | 'roomsHeads'
    | 'roomsHookLists'
    | 'roomsRemoteMembership'
    | 'roomsRemoteMemberships'
  > & { authApi: Pick<Cradle['authApi'], 'getProfile'> }) {
    this.spamCheckers = spamCheckers;
    this.serverName = serverName;
    this.authApi = authApi;
    this.membershipStore = roomsMembershipStore;
    this.sender = roomsSender;
    this.reader = roomsReader;
    this.heads = roomsHeads;
    this.hooks = roomsHookLists;
    this.remoteJoins = roomsRemoteMembership;
    this.remote = roomsRemoteMemberships;
  }

  /** A room id, or an alias resolved through the directory's resolver; 404 when neither. */
  async resolveRoom(roomIdOrAlias: string): Promise<string> {
    if (roomIdOrAlias.startsWith('!')) {
      if (!isValidRoomId(roomIdOrAlias)) throw new MatrixError(400, 'M_INVALID_PARAM', 'Invalid room id');
      return roomIdOrAlias;
    }
    if (roomIdOrAlias.startsWith('#') && isValidRoomAlias(roomIdOrAlias)) {
      const roomId = await this.hooks.resolveAlias(roomIdOrAlias);
      if (!roomId) throw new MatrixError(404, 'M_NOT_FOUND', `Room alias ${roomIdOrAlias} not found`);
      return roomId;
    }
    throw new MatrixError(400, 'M_INVALID_PARAM', `${roomIdOrAlias} is not a room id or alias`);
  }

  async join(
    actor: Actor,
    roomIdOrAlias: string,
    reason?: string,
    via: readonly string[] = [],
  ): Promise<string> {
    // ---- remote joins (remote-membership-service.ts): a room this server is not in ----
    const target = await this.remoteJoins.joinTarget(roomIdOrAlias, via, actor.userId);
    if (target.remote) {
      if (actor.isGuest) throw new MatrixError(403, 'M_FORBIDDEN', 'Guests cannot join remote rooms');
      const invited = await this.membershipStore.getMembership(target.roomId, actor.userId);
      await this.spamCheckers.assertAllowed('userMayJoinRoom', {
        userId: actor.userId,
        roomId: target.roomId,
        isInvited: target.invited || invited?.membership === 'invite',
      });
      const content: JsonObject = { membership: 'join', ...(await this.profileContent(actor.userId)) };
      if (reason !== undefined) content['reason'] = reason;
      await this.remoteJoins.join(actor.userId, target.roomId, target.servers, content);
      return target.roomId;
    }
    // ---- local joins ----
    const roomId = target.roomId;
    const head = await this.reader.head(roomId);
    const current = this.reader.membershipIn(head, actor.userId);
    if (
      actor.isGuest &&
      head.state.get(stateKey('m.room.guest_access', ''))?.pdu.content['guest_access'] !== 'can_join'
    ) {
      throw new MatrixError(403, 'M_FORBIDDEN', 'Guest access is not allowed in this room');
    }
    await this.spamCheckers.assertAllowed('userMayJoinRoom', {
      userId: actor.userId,
      roomId,
      isInvited: current === 'invite',
    });
    const content: JsonObject = { membership: 'join', ...(await this.profileContent(actor.userId)) };
    if (reason !== undefined) content['reason'] = reason;
    const joinRule = head.state.get(stateKey('m.room.join_rules', ''))?.pdu.content['join_rule'];
    const joinedRooms =
      joinRule === 'restricted' || joinRule === 'knock_restricted'
        ? new Set(await this.joinedRooms(actor.userId))
        : new Set<string>();
    await this.sender.send({
      roomId,
      sender: actor.userId,
      type: 'm.room.member',
      stateKey: actor.userId,
      content,
      precheck: (h) => {
        const authoriser = this.restrictedJoinAuthoriser(h, actor.userId, joinedRooms);
        if (authoriser) content['join_authorised_via_users_server'] = authoriser;
      },
    });
    return roomId;
  }

  /** `servers`: where to knock when this server is not in the room (the request's `via`/`server_name`). */
  async knock(
    actor: Actor,
    roomIdOrAlias: string,
    reason?: string,
    servers: readonly string[] = [],
  ): Promise<string> {
    const roomId = await this.resolveRoom(roomIdOrAlias);
    const content: JsonObject = { membership: 'knock', ...(await this.profileContent(actor.userId)) };
    if (reason !== undefined) content['reason'] = reason;
    if (!(await this.heads.get(roomId))) {
      await this.remote.knock(actor.userId, roomId, servers, content);
      return roomId;
    }
    await this.sender.send({
      roomId,
      sender: actor.userId,
      type: 'm.room.member',
      stateKey: actor.userId,
      content,
    });
    return roomId;
  }

  async invite(
    actor: Actor,
    roomId: string,
    target: string,
    reason?: string,
    isDirect?: boolean,
  ): Promise<SentEvent> {
    this.assertUserId(target);
    const head = await this.reader.head(roomId);
    const current = this.reader.membershipIn(head, target);
    if (current === 'join') throw new MatrixError(403, 'M_FORBIDDEN', `${target} is already in the room.`);
    if (current === 'ban') throw new MatrixError(403, 'M_FORBIDDEN', `${target} is banned from the room`);
    await this.spamCheckers.assertAllowed('userMayInvite', {
      inviter: actor.userId,
      invitee: target,
      roomId,
    });
    const content: JsonObject = { membership: 'invite', ...(await this.profileContent(target)) };
    if (reason !== undefined) content['reason'] = reason;
    if (isDirect) content['is_direct'] = true;
    const req = { roomId, sender: actor.userId, type: 'm.room.member', stateKey: target, content };
    const prebuilt = await this.remote.countersignedInvite(req, target);
    return this.sender.send(prebuilt ? { ...req, prebuilt } : req);
  }

  /** Leaves a room; in a room this server is not in, rejects the user's invite or retracts their knock. */
  async leave(actor: Actor, roomId: string, reason?: string): Promise<SentEvent | undefined> {
    if (!(await this.heads.get(roomId)) && (await this.remote.leave(actor.userId, roomId, reason))) {
      return undefined;
    }
    const head = await this.reader.head(roomId);
    const current = this.reader.membershipIn(head, actor.userId);
    if (current === undefined || current === 'leave') {
      throw new MatrixError(403, 'M_FORBIDDEN', `User ${actor.userId} is not in room ${roomId}`);
    }
    const content: JsonObject = { membership: 'leave' };
    if (reason !== undefined) content['reason'] = reason;
    return this.sender.send({
      roomId,
      sender: actor.userId,
      type: 'm.room.member',
      stateKey: actor.userId,
      content,
    });
  }

  /** kick (→ leave), ban, unban (→ leave of a banned user). */
  async moderate(
    actor: Actor,
    roomId: string,
    action: 'kick' | 'ban' | 'unban',
    target: string,
    reason?: string,
  ): Promise<SentEvent> {
    this.assertUserId(target);
    const head = await this.reader.head(roomId);
    const current = this.reader.membershipIn(head, target);
    if (action === 'kick' && (current === undefined || current === 'leave' || current === 'ban')) {
      throw new MatrixError(403, 'M_FORBIDDEN', `${target} is not in the room`);
    }
    if (action === 'unban' && current !== 'ban') {
      throw new MatrixError(403, 'M_FORBIDDEN', `${target} is not banned`);
    }
    const content: JsonObject = { membership: action === 'ban' ? 'ban' : 'leave' };
    if (reason !== undefined) content['reason'] = reason;
    return this.sender.send({
      roomId,
      sender: actor.userId,
      type: 'm.room.member',
      stateKey: target,
      content,
    });
  }

  /** Re-sends the user's member event in each joined room with their new displayname and avatar_url. */
  async updateProfileInRooms(userId: string): Promise<void> {
    const profile = await this.profileContent(userId);
    for (const roomId of await this.joinedRooms(userId)) {
      const head = await this.heads.get(roomId);
      const current = head?.state.get(stateKey('m.room.member', userId))?.pdu.content;
      if (current?.['membership'] !== 'join') continue;
      const content: JsonObject = { ...current, ...profile };
      if (!('displayname' in profile)) delete content['displayname'];
      if (!('avatar_url' in profile)) delete content['avatar_url'];
      delete content['join_authorised_via_users_server'];
      if (JSON.stringify(content) === JSON.stringify(current)) continue;
      await this.sender
        .send({ roomId, sender: userId, type: 'm.room.member', stateKey: userId, content })
        .catch(() => undefined); // a room where the update is refused keeps the old profile
    }
  }

  async forget(actor: Actor, roomId: string): Promise<void> {
    const membership = await this.membershipStore.getMembership(roomId, actor.userId);
    if (!membership)
      throw new MatrixError(404, 'M_NOT_FOUND', `User ${actor.userId} has no membership in ${roomId}`);
    if (
      membership.membership === 'join' ||
      membership.membership === 'invite' ||
      membership.membership === 'knock'
    ) {
      throw new MatrixError(400, 'M_UNKNOWN', `User ${actor.userId} is in room ${roomId}`);
    }
    await this.membershipStore.setForgotten(roomId, actor.userId);
  }

  async joinedRooms(userId: string): Promise<string[]> {
    return (await this.membershipStore.roomsOfUser(userId, ['join'])).map((m) => m.roomId);
  }

  /** The member event's profile fields (displayname, avatar_url) from the user's profile. */
  async profileContent(userId: string): Promise<JsonObject> {
    const profile = await this.authApi.getProfile(userId);
    const out: JsonObject = {};
    const displayname = profile?.['displayname'];
    const avatarUrl = profile?.['avatar_url'];
    if (typeof displayname === 'string') out['displayname'] = displayname;
    if (typeof avatarUrl === 'string') out['avatar_url'] = avatarUrl;
    return out;
  }

  /**
   * For a join under a restricted rule by someone not yet invited or joined: a local member who may
   * invite, vouching for the join, when the user is joined to a room of the allow list. Throws 403 when
   * the allow list admits nobody; undefined when the room's rule needs no authoriser.
   */
  private restrictedJoinAuthoriser(
    head: RoomHead,
    userId: string,
    joinedRooms: ReadonlySet<string>,
  ): string | undefined {
    const rule = head.state.get(stateKey('m.room.join_rules', ''))?.pdu.content;
    const joinRule = rule?.['join_rule'];
    if (joinRule !== 'restricted' && joinRule !== 'knock_restricted') return undefined;
    if (!head.version.restrictedJoinRule) return undefined;
    const current = this.reader.membershipIn(head, userId);
    if (current === 'join' || current === 'invite') return undefined;
    const allow = Array.isArray(rule?.['allow']) ? rule['allow'] : [];
    const allowedRooms = allow
      .map((a) =>
        typeof a === 'object' && a !== null && !Array.isArray(a) && a['type'] === 'm.room_membership'
          ? a['room_id']
          : undefined,
      )
      .filter((r): r is string => typeof r === 'string');
    if (!allowedRooms.some((r) => joinedRooms.has(r))) {
      throw new MatrixError(
        403,
        'M_FORBIDDEN',
        'You are not allowed to join this room: join it through a room of its allow list',
      );
    }
    const create = head.state.get(stateKey('m.room.create', ''));
    const pl = head.state.get(stateKey('m.room.power_levels', ''));
    const levels = powerLevelsFromContent(pl?.pdu.content, head.version);
    for (const [k, e] of head.state) {
      if (!k.startsWith('m.room.member\u0000') || e.pdu.content['membership'] !== 'join') continue;
      const member = e.pdu.state_key ?? '';
      if (!member.endsWith(`:${this.serverName}`)) continue;
      if (userPowerLevelFrom(pl, create, member, head.version) >= levels.invite) return member;
    }
    throw new MatrixError(400, 'M_UNABLE_TO_GRANT_JOIN', 'No local user of this room can authorise the join');
  }

  private assertUserId(userId: string): void {
    if (!isValidUserId(userId)) throw new MatrixError(400, 'M_INVALID_PARAM', `Invalid user id ${userId}`);
  }
}
