/**
 * The `m.room.power_levels` auth rules: content validation (stringy values in v1–9, integers only
 * in v10+, no creators in `users` in v12+) and the limits on what a sender may alter.
 */
import { parsePowerLevelValue, POWER_LEVEL_INTEGER_KEYS, roomCreators } from '../power-levels.js';
import type { JsonObject } from '../pdu.js';
import type { RoomVersion } from '../room-versions.js';
import { isValidUserId } from './identifiers.js';
import { formatLevel } from './member-rules.js';
import { ALLOWED, reject, type AuthEvent, type AuthResult } from './types.js';

function isRecord(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

/** A value the room version accepts as a power level: integers (v10+) or the looser v1–9 forms. */
function isValidLevel(v: unknown, version: RoomVersion): boolean {
  return version.integerPowerLevels
    ? typeof v === 'number' && Number.isInteger(v)
    : parsePowerLevelValue(v, version) !== undefined;
}

function validateContent(
  content: Readonly<JsonObject>,
  version: RoomVersion,
  create: AuthEvent | undefined,
): AuthResult {
  if (version.integerPowerLevels) {
    for (const key of POWER_LEVEL_INTEGER_KEYS) {
      const v = content[key];
      if (v !== undefined && !(typeof v === 'number' && Number.isInteger(v))) {
        return reject('power_levels.integer', `m.room.power_levels: ${key} must be an integer`);
      }
    }
    for (const key of ['events', 'notifications'] as const) {
      const v = content[key];
      if (
        v !== undefined &&
        !(isRecord(v) && Object.values(v).every((x) => typeof x === 'number' && Number.isInteger(x)))
      ) {
        return reject('power_levels.integer', `m.room.power_levels: ${key} must be an object of integers`);
      }
    }
  }
  const users = content['users'];
  if (users !== undefined) {
    if (!isRecord(users)) return reject('power_levels.users', 'm.room.power_levels: users must be an object');
    for (const [userId, level] of Object.entries(users)) {
      if (!isValidUserId(userId)) {
        return reject(
          'power_levels.users',
          `m.room.power_levels: users key ${userId} is not a valid user id`,
        );
      }
      if (!isValidLevel(level, version)) {
        return reject('power_levels.users', `m.room.power_levels: the level of ${userId} is not an integer`);
      }
    }
    if (version.privilegedCreators) {
      for (const creator of roomCreators(create?.pdu, version)) {
        if (Object.hasOwn(users, creator)) {
          return reject(
            'power_levels.creator_in_users',
            `m.room.power_levels: room creator ${creator} must not appear in users`,
          );
        }
      }
    }
  }
  return ALLOWED;
}

type Lookup = (key: string) => unknown;

/**
 * Applies the "added, changed or removed" checks to one group of entries.
 * `removalLimit` is how a current value is compared: `gt` rejects when it exceeds the sender's level,
 * `gte` (the users map) also when it equals it. Unparseable current values cannot have granted
 * anything, so they are ignored; unparseable new values are rejected.
 */
function checkAlterations(
  label: string,
  keys: Iterable<string>,
  oldOf: Lookup,
  newOf: Lookup,
  senderLevel: number,
  version: RoomVersion,
  removalLimit: 'gt' | 'gte',
  exempt?: string,
): AuthResult {
  for (const key of keys) {
    const before = oldOf(key);
    const after = newOf(key);
    if (before === after) continue; // unchanged, or absent on both sides
    if (before !== undefined && key !== exempt) {
      const old = parsePowerLevelValue(before, version);
      if (old !== undefined && (removalLimit === 'gte' ? old >= senderLevel : old > senderLevel)) {
        return reject(
          'power_levels.change_current',
          `m.room.power_levels: changing ${label}${key} (currently ${old}) needs power level ${removalLimit === 'gte' ? `above ${old}` : old}, the sender has ${formatLevel(senderLevel)}`,
        );
      }
    }
    if (after !== undefined) {
      const next = parsePowerLevelValue(after, version);
      if (next === undefined) {
        return reject(
          'power_levels.invalid_value',
          `m.room.power_levels: ${label}${key} is not a valid power level`,
        );
      }
      if (next > senderLevel) {
        return reject(
          'power_levels.change_new',
          `m.room.power_levels: setting ${label}${key} to ${next} needs power level ${next}, the sender has ${formatLevel(senderLevel)}`,
        );
      }
    }
  }
  return ALLOWED;
}

function own(obj: Record<string, unknown>, key: string): unknown {
  return Object.hasOwn(obj, key) ? obj[key] : undefined;
}

function objectAt(content: Readonly<JsonObject>, key: string): Record<string, unknown> {
  const v = content[key];
  return isRecord(v) ? v : {};
}

/**
 * Auth rules for an `m.room.power_levels` event, given the current power levels event (if any), the
 * create event and the sender's current level.
 */
export function checkPowerLevelsEvent(
  event: AuthEvent,
  current: AuthEvent | undefined,
  create: AuthEvent | undefined,
  senderLevel: number,
  version: RoomVersion,
): AuthResult {
  const next = event.pdu.content;
  const valid = validateContent(next, version, create);
  if (!valid.allowed) return valid;
  if (!current) return ALLOWED;
  const prev = current.pdu.content;

  const top = checkAlterations(
    '',
    POWER_LEVEL_INTEGER_KEYS,
    (k) => prev[k],
    (k) => next[k],
    senderLevel,
    version,
    'gt',
  );
  if (!top.allowed) return top;

  const groups = version.limitNotificationsPowerLevels ? ['events', 'notifications'] : ['events'];
  for (const group of groups) {
    const before = objectAt(prev, group);
    const after = objectAt(next, group);
    const keys = new Set([...Object.keys(before), ...Object.keys(after)]);
    const r = checkAlterations(
      `${group}.`,
      keys,
      (k) => own(before, k),
      (k) => own(after, k),
      senderLevel,
      version,
      'gt',
    );
    if (!r.allowed) return r;
  }

  const before = objectAt(prev, 'users');
  const after = objectAt(next, 'users');
  const keys = new Set([...Object.keys(before), ...Object.keys(after)]);
  return checkAlterations(
    'users.',
    keys,
    (k) => own(before, k),
    (k) => own(after, k),
    senderLevel,
    version,
    'gte',
    event.pdu.sender,
  );
}
