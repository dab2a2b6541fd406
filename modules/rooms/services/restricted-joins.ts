/**
 * The resident side of a restricted join over federation (server-server-api "Restricted rooms"): which local
 * member vouches for a remote user's join (`join_authorised_via_users_server` in the make_join template), or
 * the spec's error — 403 when the user meets no condition of the allow list, 400
 * `M_UNABLE_TO_AUTHORISE_JOIN` when this server holds none of the allowed rooms so cannot tell, 400
 * `M_UNABLE_TO_GRANT_JOIN` when it can tell but none of its users may invite.
 */
import { MatrixError } from '../../../core/errors.js';
import { stateKey } from '../../../core/protocol/pdu.js';
import { powerLevelsFromContent, userPowerLevelFrom } from '../../../core/protocol/power-levels.js';
import type { RoomHead } from './room-heads.js';

export interface AllowListFacts {
  /** Whether this server is in the room (holds its state). */
  isRoomKnown(roomId: string): Promise<boolean>;
  /** Whether `userId` is joined to `roomId` as this server sees it. */
  isJoined(roomId: string, userId: string): Promise<boolean>;
}

/** The room ids of the `m.room_membership` conditions of a join rule's `allow` list. */
export function allowedRooms(joinRules: Readonly<Record<string, unknown>> | undefined): string[] {
  const allow = Array.isArray(joinRules?.['allow']) ? (joinRules['allow'] as unknown[]) : [];
  const out: string[] = [];
  for (const a of allow) {
    if (typeof a !== 'object' || a === null || Array.isArray(a)) continue;
    const entry = a as Record<string, unknown>;
    if (entry['type'] === 'm.room_membership' && typeof entry['room_id'] === 'string') {
      out.push(entry['room_id']);
    }
  }
  return out;
}

/**
 * The local member who authorises `userId`'s join of the room at `head`, or undefined when the join needs
 * no authoriser (not a restricted rule, or the user is already invited or joined). Throws the spec's errors.
 */
export async function remoteJoinAuthoriser(
  head: RoomHead,
  userId: string,
  serverName: string,
  facts: AllowListFacts,
): Promise<string | undefined> {
  const rule = head.state.get(stateKey('m.room.join_rules', ''))?.pdu.content;
  const joinRule = rule?.['join_rule'];
  if (joinRule !== 'restricted' && joinRule !== 'knock_restricted') return undefined;
  if (!head.version.restrictedJoinRule) return undefined;
  const current = head.state.get(stateKey('m.room.member', userId))?.pdu.content['membership'];
  if (current === 'join' || current === 'invite') return undefined;
  const rooms = allowedRooms(rule);
  let known = 0;
  let meets = false;
  for (const roomId of rooms) {
    if (!(await facts.isRoomKnown(roomId))) continue;
    known++;
    if (await facts.isJoined(roomId, userId)) {
      meets = true;
      break;
    }
  }
  if (!meets) {
    if (rooms.length > 0 && known === 0) {
      throw new MatrixError(
        400,
        'M_UNABLE_TO_AUTHORISE_JOIN',
        'This server is in none of the rooms of the allow list: it cannot tell whether the user may join',
      );
    }
    throw new MatrixError(403, 'M_FORBIDDEN', 'The user meets none of the conditions of the join rule');
  }
  const create = head.state.get(stateKey('m.room.create', ''));
  const pl = head.state.get(stateKey('m.room.power_levels', ''));
  const levels = powerLevelsFromContent(pl?.pdu.content, head.version);
  for (const [k, e] of head.state) {
    if (!k.startsWith('m.room.member\u0000') || e.pdu.content['membership'] !== 'join') continue;
    const member = e.pdu.state_key ?? '';
    if (!member.endsWith(`:${serverName}`)) continue;
    if (userPowerLevelFrom(pl, create, member, head.version) >= levels.invite) return member;
  }
  throw new MatrixError(400, 'M_UNABLE_TO_GRANT_JOIN', 'No user of this server may authorise the join');
}
