/** Facts push evaluation takes from the room's state (rooms hands it over in memory: no queries). */
import {
  notificationPowerLevel,
  powerLevelsFromContent,
  roomCreators,
  CREATOR_POWER_LEVEL,
} from '../../../core/protocol/power-levels.js';
import type { RoomStateView } from '../../rooms/api.js';

/** The sender's power level and the room's `notifications` levels (for `sender_notification_permission`). */
export function powerFacts(
  room: RoomStateView,
  sender: string,
): { senderPowerLevel: number; notificationLevels: Record<string, number> } {
  const pl = room.state('m.room.power_levels', '');
  const create = room.state('m.room.create', '');
  const levels = powerLevelsFromContent(pl?.content, room.version);
  const creators = roomCreators(create, room.version);
  let senderPowerLevel: number;
  if (room.version.privilegedCreators && creators.has(sender)) senderPowerLevel = CREATOR_POWER_LEVEL;
  else if (!pl) senderPowerLevel = creators.has(sender) ? 100 : 0;
  else senderPowerLevel = levels.users.get(sender) ?? levels.usersDefault;
  const notificationLevels: Record<string, number> = { room: notificationPowerLevel(levels, 'room') };
  for (const [key, level] of levels.notifications) notificationLevels[key] = level;
  return { senderPowerLevel, notificationLevels };
}

/** A member's display name in the room, for the deprecated `contains_display_name` condition. */
export function displayNameIn(room: RoomStateView, userId: string): string | undefined {
  const name = room.state('m.room.member', userId)?.content['displayname'];
  return typeof name === 'string' ? name : undefined;
}
