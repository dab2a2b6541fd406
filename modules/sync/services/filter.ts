/**
 * Filters (spec "Filtering", definitions/sync_filter.yaml): the request schema, defaults, and matching.
 * `types`/`not_types`/`senders`/`not_senders` accept `*` as a wildcard for any sequence of characters;
 * a `not_` list always wins over its positive list.
 */
import { Type, type Static } from '@sinclair/typebox';

const StringList = Type.Array(Type.String());

const EventFilterProps = {
  limit: Type.Optional(Type.Integer({ minimum: 0 })),
  types: Type.Optional(StringList),
  not_types: Type.Optional(StringList),
  senders: Type.Optional(StringList),
  not_senders: Type.Optional(StringList),
};

export const EventFilterSchema = Type.Object(EventFilterProps);

export const RoomEventFilterSchema = Type.Object({
  ...EventFilterProps,
  rooms: Type.Optional(StringList),
  not_rooms: Type.Optional(StringList),
  contains_url: Type.Optional(Type.Boolean()),
  related_by_senders: Type.Optional(StringList),
  related_by_rel_types: Type.Optional(StringList),
  lazy_load_members: Type.Optional(Type.Boolean()),
  include_redundant_members: Type.Optional(Type.Boolean()),
  unread_thread_notifications: Type.Optional(Type.Boolean()),
});

export const SyncFilterSchema = Type.Object({
  event_fields: Type.Optional(StringList),
  event_format: Type.Optional(Type.Union([Type.Literal('client'), Type.Literal('federation')])),
  presence: Type.Optional(EventFilterSchema),
  account_data: Type.Optional(EventFilterSchema),
  room: Type.Optional(
    Type.Object({
      rooms: Type.Optional(StringList),
      not_rooms: Type.Optional(StringList),
      include_leave: Type.Optional(Type.Boolean()),
      ephemeral: Type.Optional(RoomEventFilterSchema),
      state: Type.Optional(RoomEventFilterSchema),
      timeline: Type.Optional(RoomEventFilterSchema),
      account_data: Type.Optional(RoomEventFilterSchema),
    }),
  ),
});

export type EventFilter = Static<typeof EventFilterSchema>;
export type RoomEventFilter = Static<typeof RoomEventFilterSchema>;
export type SyncFilter = Static<typeof SyncFilterSchema>;

/** What a filter matches against: the fields every event (room, ephemeral, account data) has. */
export interface Filterable {
  readonly type: string;
  readonly sender?: string;
  readonly room_id?: string;
  readonly content?: unknown;
}

const patternCache = new Map<string, RegExp>();

/** `*` matches any sequence of characters; everything else is literal. */
export function globMatches(pattern: string, value: string): boolean {
  if (!pattern.includes('*')) return pattern === value;
  let re = patternCache.get(pattern);
  if (!re) {
    const body = pattern
      .split('*')
      .map((p) => p.replace(/[.*+?^${}()|[\]\\]/g, '\\$&'))
      .join('.*');
    re = new RegExp(`^${body}$`, 's');
    if (patternCache.size > 1000) patternCache.clear();
    patternCache.set(pattern, re);
  }
  return re.test(value);
}

function anyMatch(patterns: readonly string[], value: string): boolean {
  return patterns.some((p) => globMatches(p, value));
}

/** Whether `event` passes an EventFilter's type and sender lists. */
export function matchesEventFilter(filter: EventFilter | undefined, event: Filterable): boolean {
  if (!filter) return true;
  if (filter.not_types && anyMatch(filter.not_types, event.type)) return false;
  if (filter.types && !anyMatch(filter.types, event.type)) return false;
  const sender = event.sender;
  if (sender !== undefined) {
    if (filter.not_senders?.includes(sender)) return false;
    if (filter.senders && !filter.senders.includes(sender)) return false;
  }
  return true;
}

/** Whether a room passes `rooms`/`not_rooms` (the `not_` list wins). */
export function matchesRoom(
  filter: { rooms?: string[]; not_rooms?: string[] } | undefined,
  roomId: string,
): boolean {
  if (!filter) return true;
  if (filter.not_rooms?.includes(roomId)) return false;
  if (filter.rooms && !filter.rooms.includes(roomId)) return false;
  return true;
}

/** Whether a room event passes a RoomEventFilter (types, senders, rooms, contains_url). */
export function matchesRoomEventFilter(filter: RoomEventFilter | undefined, event: Filterable): boolean {
  if (!filter) return true;
  if (!matchesEventFilter(filter, event)) return false;
  if (event.room_id !== undefined && !matchesRoom(filter, event.room_id)) return false;
  if (filter.contains_url !== undefined) {
    const content = event.content;
    const hasUrl =
      typeof content === 'object' &&
      content !== null &&
      typeof (content as { url?: unknown }).url === 'string';
    if (hasUrl !== filter.contains_url) return false;
  }
  return true;
}

/**
 * Keeps only the dot-separated paths of `event_fields` (appendix "Dot-separated property paths": `\.` is a
 * literal dot, `\\` a literal backslash). A missing path is simply absent from the result.
 */
export function applyEventFields<T extends object>(
  event: T,
  fields: readonly string[] | undefined,
): Partial<T> {
  if (!fields) return event;
  const out: Record<string, unknown> = {};
  for (const field of fields) {
    const path = splitPath(field);
    copyPath(event as Record<string, unknown>, out, path);
  }
  return out as Partial<T>;
}

export function splitPath(field: string): string[] {
  const parts: string[] = [];
  let current = '';
  for (let i = 0; i < field.length; i++) {
    const c = field[i];
    if (c === '\\' && (field[i + 1] === '.' || field[i + 1] === '\\')) {
      current += field[i + 1];
      i++;
    } else if (c === '.') {
      parts.push(current);
      current = '';
    } else current += c;
  }
  parts.push(current);
  return parts;
}

function copyPath(src: Record<string, unknown>, dst: Record<string, unknown>, path: readonly string[]): void {
  const [head, ...rest] = path;
  if (head === undefined || !Object.prototype.hasOwnProperty.call(src, head)) return;
  const value = src[head];
  if (rest.length === 0) {
    dst[head] = value;
    return;
  }
  if (typeof value !== 'object' || value === null || Array.isArray(value)) return;
  const existing = dst[head];
  const child =
    typeof existing === 'object' && existing !== null ? (existing as Record<string, unknown>) : {};
  dst[head] = child;
  copyPath(value as Record<string, unknown>, child, rest);
  if (Object.keys(child).length === 0 && existing === undefined) delete dst[head];
}

/** The timeline limit a sync uses when the filter does not set one (Synapse's default too). */
export const DEFAULT_TIMELINE_LIMIT = 10;

/** An EventFilter's types/senders, then its `limit` (the newest events win). */
export function limitEvents<T extends Filterable>(
  filter: EventFilter | undefined,
  events: readonly T[],
): T[] {
  const kept = events.filter((e) => matchesEventFilter(filter, e));
  return filter?.limit !== undefined ? kept.slice(Math.max(0, kept.length - filter.limit)) : kept;
}
