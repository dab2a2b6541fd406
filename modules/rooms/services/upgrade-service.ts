/**
 * POST /rooms/{id}/upgrade (spec client-server-api/modules/room_upgrades.md "Server behaviour"): a new
 * room whose create event names its predecessor, the transferable state and bans copied, a tombstone in
 * the old room, and the old room's power levels raised so that nobody but moderators can keep talking.
 */
import { MatrixError } from '../../../core/errors.js';
import { stateKey, type JsonObject, type JsonValue } from '../../../core/protocol/pdu.js';
import {
  powerLevelsFromContent,
  requiredPowerForEvent,
  userPowerLevelFrom,
} from '../../../core/protocol/power-levels.js';
import type { Cradle } from '../../../core/container.js';
import type { EventSender } from './event-sender.js';
import type { RoomHooks } from './hooks.js';
import type { Actor, MembershipService } from './membership-service.js';
import type { RoomCreationService } from './room-creation-service.js';
import type { RoomReader } from './room-reader.js';

/** The state the spec recommends transferring, power levels handled separately. */
const TRANSFERABLE = [
  'm.room.server_acl',
  'm.room.encryption',
  'm.room.name',
  'm.room.avatar',
  'm.room.topic',
  'm.room.guest_access',
  'm.room.history_visibility',
  'm.room.join_rules',
];

export class UpgradeService {
  private readonly sender: EventSender;
  private readonly reader: RoomReader;
  private readonly creation: RoomCreationService;
  private readonly membership: MembershipService;
  private readonly hooks: RoomHooks;

  constructor({
    roomsSender,
    roomsReader,
    roomsCreation,
    roomsMembership,
    roomsHookLists,
  }: Pick<Cradle, 'roomsSender' | 'roomsReader' | 'roomsCreation' | 'roomsMembership' | 'roomsHookLists'>) {
    this.sender = roomsSender;
    this.reader = roomsReader;
    this.creation = roomsCreation;
    this.membership = roomsMembership;
    this.hooks = roomsHookLists;
  }

  async upgrade(
    actor: Actor,
    roomId: string,
    newVersionId: string,
    additionalCreators?: string[],
  ): Promise<string> {
    const newVersion = this.creation.roomVersion(newVersionId);
    const old = await this.reader.requireJoined(actor.userId, roomId);
    const create = old.state.get(stateKey('m.room.create', ''));
    const plEvent = old.state.get(stateKey('m.room.power_levels', ''));
    const levels = powerLevelsFromContent(plEvent?.pdu.content, old.version);
    const actorLevel = userPowerLevelFrom(plEvent, create, actor.userId, old.version);
    const needed = requiredPowerForEvent(levels, 'm.room.tombstone', true);
    if (actorLevel < needed) {
      throw new MatrixError(
        403,
        'M_FORBIDDEN',
        `Upgrading needs power level ${needed} (to send m.room.tombstone); you have ${actorLevel}`,
      );
    }

    const createContent: JsonObject = {
      room_version: newVersion.id,
      predecessor: { room_id: roomId, event_id: old.extremities[0] ?? '' },
    };
    const roomType = create?.pdu.content['type'];
    if (typeof roomType === 'string') createContent['type'] = roomType;
    if (!newVersion.implicitRoomCreator) createContent['creator'] = actor.userId;
    if (newVersion.privilegedCreators && additionalCreators && additionalCreators.length > 0) {
      createContent['additional_creators'] = additionalCreators;
    }
    const newRoomId = await this.sender.createRoom(actor.userId, newVersion, createContent, 'private');
    const send = (type: string, key: string, content: JsonObject) =>
      this.sender.send({ roomId: newRoomId, sender: actor.userId, type, stateKey: key, content });

    await send('m.room.member', actor.userId, {
      membership: 'join',
      ...(await this.membership.profileContent(actor.userId)),
    });

    // Power levels: the old ones, with the upgrading user able to send the rest of the copied state.
    const oldPl: JsonObject = { ...(plEvent?.pdu.content ?? {}) };
    const users: Record<string, JsonValue> = {
      ...((oldPl['users'] as Record<string, JsonValue> | undefined) ?? {}),
    };
    const creators = new Set([actor.userId, ...(additionalCreators ?? [])]);
    if (newVersion.privilegedCreators) for (const c of creators) delete users[c];
    const finalPl: JsonObject = { ...oldPl, users: { ...users } };
    if (!newVersion.privilegedCreators) {
      const finite = Number.isFinite(actorLevel) ? actorLevel : 100;
      const highest = Math.max(finite, 100, levels.stateDefault, ...levels.events.values());
      (finalPl['users'] as Record<string, JsonValue>)[actor.userId] = finite;
      users[actor.userId] = highest;
    }
    const firstPl: JsonObject = { ...oldPl, users };
    await send('m.room.power_levels', '', firstPl);

    for (const type of TRANSFERABLE) {
      const e = old.state.get(stateKey(type, ''));
      if (e) await send(type, '', e.pdu.content);
    }
    if (JSON.stringify(firstPl) !== JSON.stringify(finalPl)) await send('m.room.power_levels', '', finalPl);

    for (const [k, e] of old.state) {
      if (!k.startsWith('m.room.member\u0000')) continue;
      const target = e.pdu.state_key ?? '';
      if (e.pdu.content['membership'] === 'ban' && target !== actor.userId) {
        await send('m.room.member', target, {
          membership: 'ban',
          ...(typeof e.pdu.content['reason'] === 'string' ? { reason: e.pdu.content['reason'] } : {}),
        }).catch(() => undefined);
      }
    }

    await this.sender.send({
      roomId,
      sender: actor.userId,
      type: 'm.room.tombstone',
      stateKey: '',
      content: { body: 'This room has been replaced', replacement_room: newRoomId },
    });

    // Discourage further use of the old room: events_default and invite to max(50, users_default + 1).
    const restrict = Math.max(50, levels.usersDefault + 1);
    if (plEvent && (levels.eventsDefault < restrict || levels.invite < restrict)) {
      const current = old.state.get(stateKey('m.room.power_levels', ''));
      const content = { ...(current?.pdu.content ?? {}), events_default: restrict, invite: restrict };
      await this.sender
        .send({ roomId, sender: actor.userId, type: 'm.room.power_levels', stateKey: '', content })
        .catch(() => undefined); // not having power-levels permission must not undo the upgrade
    }
    for (const hook of this.hooks.roomUpgraded)
      await hook({ oldRoomId: roomId, newRoomId, userId: actor.userId });
    return newRoomId;
  }
}
