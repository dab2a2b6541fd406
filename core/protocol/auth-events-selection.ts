/**
 * Auth events selection (spec: server-server-api.md "Auth events selection"): which state entries
 * an event's `auth_events` may contain. Used both to build `auth_events` for new events and to
 * check received ones.
 */
import type { PduJson } from './pdu.js';
import { stateKey, type StateKey } from './pdu.js';
import type { RoomVersion } from './room-versions.js';

type SelectionInput = Pick<PduJson, 'type' | 'sender' | 'state_key' | 'content'>;

/**
 * The `(type, state_key)` keys `event`'s `auth_events` should be drawn from, in the spec's order.
 * The create event gets none. The create event itself is listed except in v12+, where the room id
 * stands for it. Entries absent from the room's state are simply left out of `auth_events`.
 */
export function authEventsSelection(event: SelectionInput, version: RoomVersion): StateKey[] {
  if (event.type === 'm.room.create' && event.state_key === '') return [];
  const keys: StateKey[] = [];
  if (!version.roomIdIsCreateEventHash) keys.push(stateKey('m.room.create', ''));
  keys.push(stateKey('m.room.power_levels', ''));
  keys.push(stateKey('m.room.member', event.sender));

  if (event.type === 'm.room.member' && typeof event.state_key === 'string') {
    const target = stateKey('m.room.member', event.state_key);
    if (!keys.includes(target)) keys.push(target);
    const membership = event.content['membership'];
    if (membership === 'join' || membership === 'invite' || membership === 'knock') {
      keys.push(stateKey('m.room.join_rules', ''));
    }
    if (membership === 'invite') {
      const token = thirdPartyInviteToken(event.content['third_party_invite']);
      if (token !== undefined) keys.push(stateKey('m.room.third_party_invite', token));
    }
    const authoriser = event.content['join_authorised_via_users_server'];
    if (membership === 'join' && version.restrictedJoinRule && typeof authoriser === 'string') {
      const k = stateKey('m.room.member', authoriser);
      if (!keys.includes(k)) keys.push(k);
    }
  }
  return keys;
}

/** `third_party_invite.signed.token` when it is a string. */
export function thirdPartyInviteToken(thirdPartyInvite: unknown): string | undefined {
  if (typeof thirdPartyInvite !== 'object' || thirdPartyInvite === null) return undefined;
  const signed = (thirdPartyInvite as Record<string, unknown>)['signed'];
  if (typeof signed !== 'object' || signed === null) return undefined;
  const token = (signed as Record<string, unknown>)['token'];
  return typeof token === 'string' ? token : undefined;
}
