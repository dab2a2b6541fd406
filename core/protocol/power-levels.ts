/**
 * Reading `m.room.power_levels` the way the auth rules do (spec: the `m.room.power_levels` schema,
 * server-server-api.md "Definitions", rooms/fragments/v1-stringy-power-levels.md and
 * v1-floaty-power-levels.md, rooms/v12.md "room creators").
 *
 * Room creators in v12+ have infinite power; that is `Infinity`, which compares correctly against
 * every finite level and never appears in JSON because it is derived, not stored.
 */
import type { AuthEvent, AuthStateLookup } from './auth-rules/types.js';
import type { JsonObject, PduJson } from './pdu.js';
import type { RoomVersion } from './room-versions.js';

/** The power of a v12+ room creator. */
export const CREATOR_POWER_LEVEL = Infinity;

/** The top-level integer properties whose alteration the power level rules police. */
export const POWER_LEVEL_INTEGER_KEYS = [
  'users_default',
  'events_default',
  'state_default',
  'ban',
  'redact',
  'kick',
  'invite',
] as const;
export type PowerLevelIntegerKey = (typeof POWER_LEVEL_INTEGER_KEYS)[number];

/** `m.room.power_levels` content with every default applied. */
export interface PowerLevels {
  readonly users: ReadonlyMap<string, number>;
  readonly usersDefault: number;
  readonly events: ReadonlyMap<string, number>;
  readonly eventsDefault: number;
  readonly stateDefault: number;
  readonly ban: number;
  readonly kick: number;
  readonly redact: number;
  readonly invite: number;
  readonly notifications: ReadonlyMap<string, number>;
}

// Stringy power levels: optional whitespace, an optional sign, base-10 digits (leading zeroes allowed).
const STRINGY_INTEGER = /^\s*[+-]?[0-9]+\s*$/;

/**
 * Parses one power level value under `version`'s rules: v10+ accept only integers; v1–9 also accept
 * strings holding an integer; v1–5 (non-strict canonical JSON) also accept floats, truncated toward
 * zero. Returns undefined for anything else, including non-finite numbers.
 */
export function parsePowerLevelValue(value: unknown, version: RoomVersion): number | undefined {
  if (typeof value === 'number') {
    if (!Number.isFinite(value)) return undefined;
    if (Number.isInteger(value)) return value;
    return version.strictCanonicalJson ? undefined : Math.trunc(value);
  }
  if (typeof value === 'string' && !version.integerPowerLevels && STRINGY_INTEGER.test(value)) {
    const n = Number.parseInt(value.trim(), 10);
    return Number.isFinite(n) ? n : undefined;
  }
  return undefined;
}

function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

function levelMap(raw: unknown, version: RoomVersion): Map<string, number> {
  const out = new Map<string, number>();
  if (!isObject(raw)) return out;
  for (const [k, v] of Object.entries(raw)) {
    const n = parsePowerLevelValue(v, version);
    if (n !== undefined) out.set(k, n);
  }
  return out;
}

const DEFAULTS: Record<PowerLevelIntegerKey, number> = {
  users_default: 0,
  events_default: 0,
  state_default: 50,
  ban: 50,
  kick: 50,
  redact: 50,
  invite: 0,
};

/**
 * The effective power levels of a room whose power levels event has `content` (undefined when the
 * room has none). Values that do not parse under the room version fall back to the default.
 */
export function powerLevelsFromContent(
  content: Readonly<JsonObject> | undefined,
  version: RoomVersion,
): PowerLevels {
  const c: Readonly<JsonObject> = content ?? {};
  const int = (key: PowerLevelIntegerKey): number => parsePowerLevelValue(c[key], version) ?? DEFAULTS[key];
  return {
    users: levelMap(c['users'], version),
    usersDefault: int('users_default'),
    events: levelMap(c['events'], version),
    eventsDefault: int('events_default'),
    stateDefault: int('state_default'),
    ban: int('ban'),
    kick: int('kick'),
    redact: int('redact'),
    invite: int('invite'),
    notifications: levelMap(c['notifications'], version),
  };
}

/**
 * The room creators. v12+: the create event's sender plus `additional_creators`. Earlier versions:
 * `content.creator` (v1–10) or the sender (v11); they matter only while no power levels event exists.
 */
export function roomCreators(
  create: Readonly<PduJson> | undefined,
  version: RoomVersion,
): ReadonlySet<string> {
  const creators = new Set<string>();
  if (!create) return creators;
  if (version.implicitRoomCreator) creators.add(create.sender);
  else if (typeof create.content['creator'] === 'string') creators.add(create.content['creator']);
  if (version.privilegedCreators) {
    const extra = create.content['additional_creators'];
    if (Array.isArray(extra)) for (const u of extra) if (typeof u === 'string') creators.add(u);
  }
  return creators;
}

/**
 * A user's power level in the state `lookup` describes: infinite for v12+ creators; otherwise their
 * `users` entry, else `users_default`; with no power levels event, 100 for the creator and 0 for others.
 */
export function userPowerLevel(lookup: AuthStateLookup, userId: string, version: RoomVersion): number {
  return userPowerLevelFrom(lookup('m.room.power_levels', ''), lookup('m.room.create', ''), userId, version);
}

/** {@link userPowerLevel} given the two events it depends on. */
export function userPowerLevelFrom(
  powerLevels: AuthEvent | undefined,
  create: AuthEvent | undefined,
  userId: string,
  version: RoomVersion,
): number {
  const creators = roomCreators(create?.pdu, version);
  if (version.privilegedCreators && creators.has(userId)) return CREATOR_POWER_LEVEL;
  if (!powerLevels) return creators.has(userId) ? 100 : 0;
  const levels = powerLevelsFromContent(powerLevels.pdu.content, version);
  return levels.users.get(userId) ?? levels.usersDefault;
}

/** The level needed to send an event of `type`: its `events` entry, else `state_default`/`events_default`. */
export function requiredPowerForEvent(levels: PowerLevels, type: string, isState: boolean): number {
  return levels.events.get(type) ?? (isState ? levels.stateDefault : levels.eventsDefault);
}

/** The level needed to trigger a notification of `key`; `room` (the only key the spec defines) defaults to 50. */
export function notificationPowerLevel(levels: PowerLevels, key: string): number {
  return levels.notifications.get(key) ?? 50;
}
