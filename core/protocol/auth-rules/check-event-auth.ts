/**
 * The authorisation rules of every room version (spec: rooms/fragments/v1-auth-rules.md,
 * v3-auth-rules.md, v8-auth-rules.md and the inline rules of rooms/v6, v7, v10, v11, v12), checked
 * against a given state. Differences between versions come from the room version table's flags.
 *
 * The "considering the event's auth_events" rule needs the auth events themselves rather than a
 * state, so it lives in auth-events-rules.ts; this file is every other rule.
 */
import { powerLevelsFromContent, requiredPowerForEvent, userPowerLevelFrom } from '../power-levels.js';
import { getRoomVersion, type RoomVersion } from '../room-versions.js';
import { checkCreateEvent, checkRoomIdNamesCreate } from './create-rules.js';
import { domainOf } from './identifiers.js';
import { checkMemberEvent, formatLevel, membershipOf } from './member-rules.js';
import { checkPowerLevelsEvent } from './power-levels-rules.js';
import {
  ALLOWED,
  reject,
  type AuthCheckOptions,
  type AuthEvent,
  type AuthResult,
  type AuthStateLookup,
} from './types.js';

/** Resolves a room version id, throwing for one this server does not know. */
export function resolveRoomVersion(version: RoomVersion | string): RoomVersion {
  if (typeof version !== 'string') return version;
  const v = getRoomVersion(version);
  if (!v) throw new Error(`unknown room version ${version}`);
  return v;
}

/**
 * Whether `event` is allowed by the auth rules of `roomVersion` in the state `authState` describes
 * (the event's auth events, the state before it, or the room's current state: the caller chooses).
 * In v12+ the lookup must also answer `m.room.create` (derived from the room id, since v12 events
 * do not list it in `auth_events`).
 */
export function checkEventAuth(
  event: AuthEvent,
  authState: AuthStateLookup,
  roomVersion: RoomVersion | string,
  options: AuthCheckOptions = {},
): AuthResult {
  const version = resolveRoomVersion(roomVersion);
  const { pdu } = event;

  if (pdu.type === 'm.room.create' && pdu.state_key === '') return checkCreateEvent(event, version);

  const create = authState('m.room.create', '');
  if (version.roomIdIsCreateEventHash) {
    const r = checkRoomIdNamesCreate(event, create);
    if (!r.allowed) return r;
  }
  if (!create) return reject('auth_events.no_create', 'auth events: there is no m.room.create event');

  if (create.pdu.content['m.federate'] === false && domainOf(pdu.sender) !== domainOf(create.pdu.sender)) {
    return reject('federate', 'm.federate: the room is not federated and the sender is from another server');
  }

  if (version.specialCaseAliasesAuth && pdu.type === 'm.room.aliases') {
    if (typeof pdu.state_key !== 'string')
      return reject('aliases.no_state_key', 'm.room.aliases: the event has no state_key');
    if (pdu.state_key !== domainOf(pdu.sender)) {
      return reject('aliases.domain', "m.room.aliases: the state_key does not match the sender's domain");
    }
    return ALLOWED;
  }

  if (pdu.type === 'm.room.member') return checkMemberEvent(event, authState, version, options);

  if (membershipOf(authState, pdu.sender) !== 'join') {
    return reject('sender.not_joined', 'sender: the sender is not joined to the room');
  }

  const powerLevelsEvent = authState('m.room.power_levels', '');
  const levels = powerLevelsFromContent(powerLevelsEvent?.pdu.content, version);
  const senderLevel = userPowerLevelFrom(powerLevelsEvent, create, pdu.sender, version);

  if (pdu.type === 'm.room.third_party_invite') {
    if (senderLevel >= levels.invite) return ALLOWED;
    return reject(
      'third_party_invite.power',
      `m.room.third_party_invite: inviting needs power level ${levels.invite} but the sender has ${formatLevel(senderLevel)}`,
    );
  }

  const isState = typeof pdu.state_key === 'string';
  const required = requiredPowerForEvent(levels, pdu.type, isState);
  if (required > senderLevel) {
    return reject(
      'power.event',
      `${pdu.type}: sending needs power level ${required} but the sender has ${formatLevel(senderLevel)}`,
    );
  }

  if (isState && pdu.state_key?.startsWith('@') && pdu.state_key !== pdu.sender) {
    return reject('state_key.user', 'state_key: a state_key starting with @ must be the sender');
  }

  if (pdu.type === 'm.room.power_levels' && pdu.state_key === '') {
    return checkPowerLevelsEvent(event, powerLevelsEvent, create, senderLevel, version);
  }

  if (version.redactionAuthRule && pdu.type === 'm.room.redaction') {
    if (senderLevel >= levels.redact) return ALLOWED;
    const redacts = pdu.redacts;
    if (
      typeof redacts === 'string' &&
      domainOf(redacts) !== undefined &&
      domainOf(redacts) === domainOf(event.eventId)
    ) {
      return ALLOWED;
    }
    return reject(
      'redaction.power',
      `m.room.redaction: redacting another server's event needs power level ${levels.redact} but the sender has ${formatLevel(senderLevel)}`,
    );
  }

  return ALLOWED;
}
