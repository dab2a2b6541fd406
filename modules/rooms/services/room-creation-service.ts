/**
 * POST /createRoom: the event sequence Synapse produces — m.room.create, the creator's join, power
 * levels, (the directory's canonical alias), join rules, history visibility, guest access for the private
 * presets, initial_state, name, topic, then the invites.
 */
import type { RoomsConfig } from '../config.js';
import type { Cradle } from '../../../core/container.js';
import { MatrixError } from '../../../core/errors.js';
import { isValidUserId } from '../../../core/protocol/identifiers.js';
import { stateKey, type JsonObject, type JsonValue } from '../../../core/protocol/pdu.js';
import { getRoomVersion, type RoomVersion } from '../../../core/protocol/room-versions.js';
import type { EventSender } from './event-sender.js';
import type { RoomHooks } from './hooks.js';
import type { Actor, MembershipService } from './membership-service.js';

export type Preset = 'private_chat' | 'public_chat' | 'trusted_private_chat';

export interface CreateRoomRequest {
  visibility?: 'public' | 'private';
  room_alias_name?: string;
  name?: string;
  topic?: string;
  invite?: string[];
  invite_3pid?: unknown[];
  room_version?: string;
  creation_content?: JsonObject;
  initial_state?: { type: string; state_key?: string; content: JsonObject }[];
  preset?: Preset;
  is_direct?: boolean;
  power_level_content_override?: JsonObject;
}

interface PresetConfig {
  readonly joinRule: string;
  readonly historyVisibility: string;
  readonly guestCanJoin: boolean;
  readonly inviteeArePowerful: boolean;
  readonly inviteLevel: number;
}

const PRESETS: Record<Preset, PresetConfig> = {
  private_chat: {
    joinRule: 'invite',
    historyVisibility: 'shared',
    guestCanJoin: true,
    inviteeArePowerful: false,
    inviteLevel: 0,
  },
  trusted_private_chat: {
    joinRule: 'invite',
    historyVisibility: 'shared',
    guestCanJoin: true,
    inviteeArePowerful: true,
    inviteLevel: 0,
  },
  public_chat: {
    joinRule: 'public',
    historyVisibility: 'shared',
    guestCanJoin: false,
    inviteeArePowerful: false,
    inviteLevel: 50,
  },
};

export class RoomCreationService {
  private readonly spamCheckers: Cradle['spamCheckers'];
  private readonly sender: EventSender;
  private readonly membership: MembershipService;
  private readonly hooks: RoomHooks;
  private readonly defaultRoomVersion: string;
  private readonly encryptByDefault: RoomsConfig['encryption_enabled_by_default_for_room_type'];

  constructor({
    spamCheckers,
    roomsSender,
    roomsMembership,
    roomsHookLists,
    roomsConfig,
  }: Pick<Cradle, 'spamCheckers' | 'roomsSender' | 'roomsMembership' | 'roomsHookLists' | 'roomsConfig'>) {
    this.spamCheckers = spamCheckers;
    this.sender = roomsSender;
    this.membership = roomsMembership;
    this.hooks = roomsHookLists;
    this.defaultRoomVersion = roomsConfig.default_room_version;
    this.encryptByDefault = roomsConfig.encryption_enabled_by_default_for_room_type;
  }

  async createRoom(actor: Actor, request: CreateRoomRequest): Promise<string> {
    const version = this.roomVersion(request.room_version);
    for (const invitee of request.invite ?? []) {
      if (!isValidUserId(invitee))
        throw new MatrixError(400, 'M_INVALID_PARAM', `Invalid user id in invite: ${invitee}`);
    }
    await this.spamCheckers.assertAllowed('userMayCreateRoom', {
      userId: actor.userId,
      request: request as unknown as Record<string, unknown>,
    });
    for (const validate of this.hooks.createValidators)
      await validate({ creator: actor.userId, request: { ...request } });
    const presetName = request.preset ?? (request.visibility === 'public' ? 'public_chat' : 'private_chat');
    const preset = PRESETS[presetName];
    const invitees = [...new Set(request.invite ?? [])].filter((u) => u !== actor.userId);

    const createContent: JsonObject = { ...(request.creation_content ?? {}), room_version: version.id };
    if (!version.implicitRoomCreator) createContent['creator'] = actor.userId;
    else delete createContent['creator'];
    if (version.privilegedCreators && preset.inviteeArePowerful && invitees.length > 0) {
      const extra = Array.isArray(createContent['additional_creators'])
        ? createContent['additional_creators']
        : [];
      createContent['additional_creators'] = [
        ...new Set([...extra.filter((u) => typeof u === 'string'), ...invitees]),
      ];
    }
    const roomId = await this.sender.createRoom(
      actor.userId,
      version,
      createContent,
      request.visibility ?? 'private',
    );

    const send = (type: string, key: string, content: JsonObject) =>
      this.sender.send({ roomId, sender: actor.userId, type, stateKey: key, content });

    await send('m.room.member', actor.userId, {
      membership: 'join',
      ...(await this.membership.profileContent(actor.userId)),
    });
    await send(
      'm.room.power_levels',
      '',
      this.powerLevels(version, actor.userId, preset, invitees, request.power_level_content_override),
    );

    for (const hook of this.hooks.roomCreated)
      await hook({ roomId, creator: actor.userId, request: { ...request } });

    const initial = new Map<string, { type: string; stateKey: string; content: JsonObject }>();
    for (const e of request.initial_state ?? [])
      initial.set(stateKey(e.type, e.state_key ?? ''), {
        type: e.type,
        stateKey: e.state_key ?? '',
        content: e.content,
      });
    const presetState: [string, JsonObject][] = [
      ['m.room.join_rules', { join_rule: preset.joinRule }],
      ['m.room.history_visibility', { history_visibility: preset.historyVisibility }],
    ];
    if (preset.guestCanJoin) presetState.push(['m.room.guest_access', { guest_access: 'can_join' }]);
    // Synapse's encryption_enabled_by_default_for_room_type: `all` rooms, or `invite` (the private presets).
    if (
      this.encryptByDefault === 'all' ||
      (this.encryptByDefault === 'invite' && presetName !== 'public_chat')
    ) {
      presetState.push(['m.room.encryption', { algorithm: 'm.megolm.v1.aes-sha2' }]);
    }
    for (const [type, content] of presetState) {
      if (!initial.has(stateKey(type, ''))) await send(type, '', content);
    }
    for (const e of initial.values()) {
      if (e.type === 'm.room.create' || e.type === 'm.room.member' || e.type === 'm.room.power_levels')
        continue;
      await send(e.type, e.stateKey, e.content);
    }
    if (request.name !== undefined) await send('m.room.name', '', { name: request.name });
    if (request.topic !== undefined) {
      await send('m.room.topic', '', {
        topic: request.topic,
        'm.topic': [{ mimetype: 'text/plain', body: request.topic }],
      });
    }
    for (const invitee of invitees) {
      await this.membership.invite(actor, roomId, invitee, undefined, request.is_direct === true);
    }
    return roomId;
  }

  roomVersion(requested: string | undefined): RoomVersion {
    const id = requested ?? this.defaultRoomVersion;
    const version = getRoomVersion(id);
    if (!version)
      throw new MatrixError(400, 'M_UNSUPPORTED_ROOM_VERSION', `Room version ${id} is not supported`);
    return version;
  }

  /** Synapse's default power levels, the preset's invite level, powerful invitees, then the override. */
  private powerLevels(
    version: RoomVersion,
    creator: string,
    preset: PresetConfig,
    invitees: readonly string[],
    override: JsonObject | undefined,
  ): JsonObject {
    const users: Record<string, JsonValue> = {};
    // v12+ creators have infinite power and may not be listed in `users`.
    if (!version.privilegedCreators) users[creator] = 100;
    if (preset.inviteeArePowerful && !version.privilegedCreators) for (const u of invitees) users[u] = 100;
    const content: JsonObject = {
      users,
      users_default: 0,
      events: {
        'm.room.name': 50,
        'm.room.power_levels': 100,
        'm.room.history_visibility': 100,
        'm.room.canonical_alias': 50,
        'm.room.avatar': 50,
        'm.room.tombstone': 100,
        'm.room.server_acl': 100,
        'm.room.encryption': 100,
      },
      events_default: 0,
      state_default: 50,
      ban: 50,
      kick: 50,
      redact: 50,
      invite: preset.inviteLevel,
      historical: 100,
    };
    return { ...content, ...(override ?? {}) };
  }
}
