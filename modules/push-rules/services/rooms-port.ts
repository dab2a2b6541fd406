/** `PushRooms` over the rooms module's public API. */
import type { JsonObject, PduJson } from '../../../core/protocol/pdu.js';
import {
  notificationPowerLevel,
  powerLevelsFromContent,
  roomCreators,
  CREATOR_POWER_LEVEL,
} from '../../../core/protocol/power-levels.js';
import { getRoomVersion } from '../../../core/protocol/room-versions.js';
import type { RoomsApi } from '../../rooms/api.js';
import type { PushRooms } from './notification-service.js';

export function pushRoomsFrom(roomsApi: RoomsApi): PushRooms {
  return {
    joinedMembers: (roomId) => roomsApi.members(roomId, 'join'),
    async powerFacts(roomId, sender) {
      const version = getRoomVersion((await roomsApi.roomVersion(roomId)) ?? '');
      const [pl, create] = await Promise.all([
        roomsApi.currentStateEvent(roomId, 'm.room.power_levels', ''),
        roomsApi.currentStateEvent(roomId, 'm.room.create', ''),
      ]);
      if (!version) return { senderPowerLevel: 0, notificationLevels: { room: 50 } };
      const levels = powerLevelsFromContent(pl?.content, version);
      const creators = roomCreators(
        create ? ({ sender: create.sender, content: create.content } as unknown as PduJson) : undefined,
        version,
      );
      let senderPowerLevel: number;
      if (version.privilegedCreators && creators.has(sender)) senderPowerLevel = CREATOR_POWER_LEVEL;
      else if (!pl) senderPowerLevel = creators.has(sender) ? 100 : 0;
      else senderPowerLevel = levels.users.get(sender) ?? levels.usersDefault;
      const notificationLevels: Record<string, number> = { room: notificationPowerLevel(levels, 'room') };
      for (const [key, level] of levels.notifications) notificationLevels[key] = level;
      return { senderPowerLevel, notificationLevels };
    },
    async displayName(roomId, userId) {
      const member = await roomsApi.currentStateEvent(roomId, 'm.room.member', userId);
      const name = member?.content['displayname'];
      return typeof name === 'string' ? name : undefined;
    },
    async eventContent(eventId) {
      return (await roomsApi.getEvent(eventId))?.content;
    },
    async clientEvent(eventId) {
      const event = await roomsApi.getEvent(eventId);
      if (!event) return undefined;
      const { room_id: _roomId, ...rest } = event;
      return rest as unknown as JsonObject;
    },
  };
}
