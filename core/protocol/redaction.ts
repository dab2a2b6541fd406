/**
 * The redaction algorithm (spec rooms/fragments/v1-, v6-, v9-, v11-redactions.md and rooms/v8.md): the
 * keys an event keeps when redacted. It also defines what signatures and reference hashes cover.
 */
import type { JsonObject, JsonValue, PduJson } from './pdu.js';
import type { RedactionRules, RoomVersion } from './room-versions.js';

const TOP_LEVEL_V1 = new Set([
  'event_id',
  'type',
  'room_id',
  'sender',
  'state_key',
  'content',
  'hashes',
  'signatures',
  'depth',
  'prev_events',
  'prev_state',
  'auth_events',
  'origin',
  'origin_server_ts',
  'membership',
]);
/** v11 stops protecting `origin`, `membership` and `prev_state`. */
const TOP_LEVEL_V11 = new Set(
  [...TOP_LEVEL_V1].filter((k) => !['origin', 'membership', 'prev_state'].includes(k)),
);

type ContentRules = Readonly<Record<string, readonly string[]>>;

const POWER_LEVELS = [
  'ban',
  'events',
  'events_default',
  'kick',
  'redact',
  'state_default',
  'users',
  'users_default',
];

const CONTENT_V1: ContentRules = {
  'm.room.member': ['membership'],
  'm.room.create': ['creator'],
  'm.room.join_rules': ['join_rule'],
  'm.room.power_levels': POWER_LEVELS,
  'm.room.aliases': ['aliases'],
  'm.room.history_visibility': ['history_visibility'],
};
/** v6 drops `m.room.aliases`. */
const CONTENT_V6: ContentRules = Object.fromEntries(
  Object.entries(CONTENT_V1).filter(([t]) => t !== 'm.room.aliases'),
);
/** v8 keeps `allow` on join rules. */
const CONTENT_V8: ContentRules = { ...CONTENT_V6, 'm.room.join_rules': ['join_rule', 'allow'] };
/** v9 keeps `join_authorised_via_users_server` on members. */
const CONTENT_V9: ContentRules = {
  ...CONTENT_V8,
  'm.room.member': ['membership', 'join_authorised_via_users_server'],
};
/** v11: create keeps everything (handled in code), power levels keep `invite`, redactions keep `redacts`. */
const CONTENT_V11: ContentRules = {
  ...CONTENT_V9,
  'm.room.create': [],
  'm.room.power_levels': [...POWER_LEVELS, 'invite'],
  'm.room.redaction': ['redacts'],
};

const RULES: Record<RedactionRules, { topLevel: ReadonlySet<string>; content: ContentRules }> = {
  v1: { topLevel: TOP_LEVEL_V1, content: CONTENT_V1 },
  v6: { topLevel: TOP_LEVEL_V1, content: CONTENT_V6 },
  v8: { topLevel: TOP_LEVEL_V1, content: CONTENT_V8 },
  v9: { topLevel: TOP_LEVEL_V1, content: CONTENT_V9 },
  v11: { topLevel: TOP_LEVEL_V11, content: CONTENT_V11 },
};

function isObject(v: unknown): v is JsonObject {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

/**
 * Returns the redacted copy of `pdu` under `roomVersion`'s rules: unprotected top-level keys (including
 * `unsigned`) are dropped and `content` keeps only its type's protected keys. Nested values are shared
 * with the input, not copied: treat both as immutable. A non-object `content` becomes `{}`.
 */
export function redactEvent(pdu: Readonly<PduJson>, roomVersion: RoomVersion): PduJson {
  const rules = RULES[roomVersion.redactionRules];
  const out: Record<string, unknown> = {};
  for (const key of Object.keys(pdu)) {
    if (rules.topLevel.has(key)) out[key] = pdu[key];
  }
  out['content'] = redactContent(pdu.type, pdu.content, roomVersion.redactionRules, rules.content);
  return out as PduJson;
}

function redactContent(
  type: string,
  content: unknown,
  version: RedactionRules,
  rules: ContentRules,
): JsonObject {
  if (!isObject(content)) return {};
  if (version === 'v11' && type === 'm.room.create') return content;
  const kept: JsonObject = {};
  const keys = Object.hasOwn(rules, type) ? rules[type] : undefined;
  if (keys) {
    for (const key of keys) {
      if (Object.hasOwn(content, key)) kept[key] = content[key] as JsonValue;
    }
  }
  if (version === 'v11' && type === 'm.room.member') {
    // v11 keeps the `signed` key of a third-party invite, so the invite's signature can still be checked.
    // The `third_party_invite` object itself stays even without `signed` (as Synapse and the spec's
    // rule read: the key is allowed, its content pruned to `signed`); a non-object value is dropped.
    const invite = content['third_party_invite'];
    if (isObject(invite)) {
      kept['third_party_invite'] = Object.hasOwn(invite, 'signed')
        ? { signed: invite['signed'] as JsonValue }
        : {};
    }
  }
  return kept;
}
