/**
 * The room versions Axon knows (spec: content/rooms/v1.md … v12.md), as data.
 * Every algorithm that differs between versions asks this table instead of comparing version strings,
 * so adding a room version is adding one row.
 */

/** How an event id is formed: v1/v2 `$localpart:server`; v3 reference hash in standard base64; v4+ URL-safe base64. */
export type EventIdFormat = 'v1' | 'v3' | 'v4';
/** Which key lists the redaction algorithm keeps (the lists changed in v6, v8, v9 and v11). */
export type RedactionRules = 'v1' | 'v6' | 'v8' | 'v9' | 'v11';
/** v1 for room version 1; v2 for 2–11; v2.1 is room version 12's iteration (empty starting state, conflicted subgraph). */
export type StateResAlgorithm = 'v1' | 'v2' | 'v2.1';

export interface RoomVersion {
  readonly id: string;
  readonly stable: boolean;
  readonly eventIdFormat: EventIdFormat;
  readonly redactionRules: RedactionRules;
  readonly stateRes: StateResAlgorithm;
  /** v5+: a server's signing key must be valid (valid_until_ts) at the event's origin_server_ts. */
  readonly enforceKeyValidity: boolean;
  /** v1–5: the special-cased `m.room.aliases` auth rule. */
  readonly specialCaseAliasesAuth: boolean;
  /** v6+: canonical JSON is strict (integers in range, no floats) and `notifications` power levels are checked. */
  readonly strictCanonicalJson: boolean;
  readonly limitNotificationsPowerLevels: boolean;
  /** v7+: the `knock` join rule and membership. */
  readonly knockJoinRule: boolean;
  /** v8+: the `restricted` join rule with `join_authorised_via_users_server`. */
  readonly restrictedJoinRule: boolean;
  /** v10+: `knock_restricted`. */
  readonly knockRestrictedJoinRule: boolean;
  /** v10+: power level values must be integers (not strings). */
  readonly integerPowerLevels: boolean;
  /** v11+: `m.room.create` has no `creator`; the sender is the creator. */
  readonly implicitRoomCreator: boolean;
  /** v11+: `redacts` lives in the content of `m.room.redaction`. */
  readonly redactsInContent: boolean;
  /** v12+: the room id is `!` + the create event's reference hash; the create event has no `room_id`
   *  and is never listed in `auth_events`. */
  readonly roomIdIsCreateEventHash: boolean;
  /** v12+: the creators (sender + `additional_creators`) have infinite power. */
  readonly privilegedCreators: boolean;
  /** v1–2: `prev_events`/`auth_events` are `[eventId, {sha256}]` pairs rather than plain ids. */
  readonly eventReferencesAreTuples: boolean;
  /** v1–2: the auth rules check `m.room.redaction` against the redact level and event id domains;
   *  v3+ leave that to "handling redactions" (event ids no longer carry a domain). */
  readonly redactionAuthRule: boolean;
}

const v1: RoomVersion = {
  id: '1',
  stable: true,
  eventIdFormat: 'v1',
  redactionRules: 'v1',
  stateRes: 'v1',
  enforceKeyValidity: false,
  specialCaseAliasesAuth: true,
  strictCanonicalJson: false,
  limitNotificationsPowerLevels: false,
  knockJoinRule: false,
  restrictedJoinRule: false,
  knockRestrictedJoinRule: false,
  integerPowerLevels: false,
  implicitRoomCreator: false,
  redactsInContent: false,
  roomIdIsCreateEventHash: false,
  privilegedCreators: false,
  eventReferencesAreTuples: true,
  redactionAuthRule: true,
};
const v2: RoomVersion = { ...v1, id: '2', stateRes: 'v2' };
const v3: RoomVersion = {
  ...v2,
  id: '3',
  eventIdFormat: 'v3',
  eventReferencesAreTuples: false,
  redactionAuthRule: false,
};
const v4: RoomVersion = { ...v3, id: '4', eventIdFormat: 'v4' };
const v5: RoomVersion = { ...v4, id: '5', enforceKeyValidity: true };
const v6: RoomVersion = {
  ...v5,
  id: '6',
  redactionRules: 'v6',
  specialCaseAliasesAuth: false,
  strictCanonicalJson: true,
  limitNotificationsPowerLevels: true,
};
const v7: RoomVersion = { ...v6, id: '7', knockJoinRule: true };
const v8: RoomVersion = { ...v7, id: '8', redactionRules: 'v8', restrictedJoinRule: true };
const v9: RoomVersion = { ...v8, id: '9', redactionRules: 'v9' };
const v10: RoomVersion = { ...v9, id: '10', knockRestrictedJoinRule: true, integerPowerLevels: true };
const v11: RoomVersion = {
  ...v10,
  id: '11',
  redactionRules: 'v11',
  implicitRoomCreator: true,
  redactsInContent: true,
};
const v12: RoomVersion = {
  ...v11,
  id: '12',
  stateRes: 'v2.1',
  roomIdIsCreateEventHash: true,
  privilegedCreators: true,
};

export const ROOM_VERSIONS: ReadonlyMap<string, RoomVersion> = new Map(
  [v1, v2, v3, v4, v5, v6, v7, v8, v9, v10, v11, v12].map((v) => [v.id, v]),
);

/** The version the spec recommends for new rooms at v1.19. */
export const DEFAULT_ROOM_VERSION = '12';

export function getRoomVersion(id: string): RoomVersion | undefined {
  return ROOM_VERSIONS.get(id);
}
