/**
 * Reading a room's timeline: /messages, /context, /event, /relations, /threads, /timestamp_to_event.
 * Every read is filtered by history visibility; paginating walks the topological order.
 */
import type { Cradle } from '../../../core/container.js';
import { MatrixError } from '../../../core/errors.js';
import { stateKey } from '../../../core/protocol/pdu.js';
import type { StoredEvent, TopoPosition } from '../store/event-rows.js';
import type { EventStore } from '../store/event-store.js';
import type { RelationStore } from '../store/relation-store.js';
import type { TimelineStore } from '../store/timeline-store.js';
import type { Backfiller } from './backfill.js';
import type { ClientEvent } from './client-events.js';
import type { HistoryVisibility } from './history-visibility.js';
import type { RelationsBundler } from './relations-bundler.js';
import type { Actor } from './membership-service.js';
import type { RoomReader } from './room-reader.js';
import { formatTopoToken, parseRoomToken } from './tokens.js';

/** The RoomEventFilter fields honoured here (spec "Filtering"). */
export interface RoomEventFilter {
  limit?: number;
  types?: string[];
  not_types?: string[];
  senders?: string[];
  not_senders?: string[];
  contains_url?: boolean;
  /** Keep only events that some live relation from one of these senders points to (MSC3440). */
  related_by_senders?: string[];
  /** Keep only events that some live relation of one of these rel_types points to (MSC3440). */
  related_by_rel_types?: string[];
  lazy_load_members?: boolean;
  include_redundant_members?: boolean;
}

export interface MessagesQuery {
  readonly from?: string;
  readonly to?: string;
  readonly dir: 'f' | 'b';
  readonly limit: number;
  readonly filter?: RoomEventFilter;
}

export interface MessagesPage {
  chunk: ClientEvent[];
  start: string;
  end?: string;
  state?: ClientEvent[];
}

const END_OF_TIME: TopoPosition = { depth: Number.MAX_SAFE_INTEGER, stream: Number.MAX_SAFE_INTEGER };
const START_OF_TIME: TopoPosition = { depth: -1, stream: 0 };
/** The most events a recursive /relations reads per level. */
const RECURSE_MAX = 1000;

function globMatch(pattern: string, value: string): boolean {
  if (!pattern.includes('*')) return pattern === value;
  const re = new RegExp(
    '^' +
      pattern
        .split('*')
        .map((p) => p.replace(/[.+?^${}()|[\]\\]/g, '\\$&'))
        .join('.*') +
      '$',
  );
  return re.test(value);
}

export function matchesFilter(e: StoredEvent, f: RoomEventFilter | undefined): boolean {
  if (!f) return true;
  if (f.not_types?.some((p) => globMatch(p, e.type))) return false;
  if (f.types && !f.types.some((p) => globMatch(p, e.type))) return false;
  if (f.not_senders?.includes(e.sender)) return false;
  if (f.senders && !f.senders.includes(e.sender)) return false;
  if (f.contains_url !== undefined) {
    const hasUrl = typeof e.pdu.content['url'] === 'string';
    if (hasUrl !== f.contains_url) return false;
  }
  return true;
}

/** A `related_by_*` list: absent or empty means no restriction (as Synapse); anything but strings is a 400. */
function relationList(f: RoomEventFilter, name: 'related_by_senders' | 'related_by_rel_types') {
  const v: unknown = f[name];
  if (v === undefined || v === null) return undefined;
  if (!Array.isArray(v) || !v.every((x) => typeof x === 'string'))
    throw new MatrixError(400, 'M_INVALID_PARAM', `filter.${name} must be a list of strings`);
  return v.length > 0 ? v : undefined;
}

/**
 * The filter's `related_by_senders` / `related_by_rel_types` (MSC3440, as Synapse serves them): keeps the events
 * that at least one live child relation points to whose sender and rel_type are both in the lists given. One
 * read per batch; without either list, `events` come back as they are.
 */
export async function filterByRelations(
  relationStore: Pick<RelationStore, 'relatedBy'>,
  events: StoredEvent[],
  f: RoomEventFilter | undefined,
): Promise<StoredEvent[]> {
  if (!f || events.length === 0) return events;
  const senders = relationList(f, 'related_by_senders');
  const relTypes = relationList(f, 'related_by_rel_types');
  if (!senders && !relTypes) return events;
  const related = await relationStore.relatedBy(
    events.map((e) => e.eventId),
    { ...(senders ? { senders } : {}), ...(relTypes ? { relTypes } : {}) },
  );
  return events.filter((e) => related.has(e.eventId));
}

export class TimelineService {
  private readonly eventStore: EventStore;
  private readonly timelineStore: TimelineStore;
  private readonly relationStore: RelationStore;
  private readonly reader: RoomReader;
  private readonly visibility: HistoryVisibility;
  private readonly bundler: RelationsBundler;
  private readonly backfiller: Backfiller;

  constructor({
    roomsEventStore,
    roomsTimelineStore,
    roomsRelationStore,
    roomsReader,
    roomsVisibility,
    roomsRelations,
    roomsBackfill,
  }: Pick<
    Cradle,
    | 'roomsEventStore'
    | 'roomsTimelineStore'
    | 'roomsRelationStore'
    | 'roomsReader'
    | 'roomsVisibility'
    | 'roomsRelations'
    | 'roomsBackfill'
  >) {
    this.eventStore = roomsEventStore;
    this.timelineStore = roomsTimelineStore;
    this.relationStore = roomsRelationStore;
    this.reader = roomsReader;
    this.visibility = roomsVisibility;
    this.bundler = roomsRelations;
    this.backfiller = roomsBackfill;
  }

  private async position(
    roomId: string,
    token: string | undefined,
    name: string,
    dir: 'f' | 'b',
  ): Promise<TopoPosition> {
    if (token === undefined) return dir === 'b' ? END_OF_TIME : START_OF_TIME;
    const t = parseRoomToken(token, name);
    return t.kind === 'topo' ? t.pos : this.timelineStore.topoPositionAtStream(roomId, t.stream);
  }

  /**
   * Walks the room from `from` in `dir`, keeping the events `userId` may see and the filter accepts, until
   * `limit` are found or the room ends. Returns them and the position after the last one kept (undefined
   * when the walk reached the end).
   */
  async walk(
    userId: string,
    roomId: string,
    from: TopoPosition,
    dir: 'f' | 'b',
    limit: number,
    to: TopoPosition | undefined,
    filter?: RoomEventFilter,
  ): Promise<{ events: StoredEvent[]; next?: TopoPosition }> {
    const events: StoredEvent[] = [];
    let cursor = from;
    const batch = Math.max(limit * 2, 20);
    for (let rounds = 0; rounds < 50; rounds++) {
      const fetched = await this.timelineStore.roomEventsTopological(roomId, cursor, dir, batch, to);
      const kept = new Set(
        (
          await this.visibility.filter(
            userId,
            roomId,
            await filterByRelations(
              this.relationStore,
              fetched.filter((e) => matchesFilter(e, filter)),
              filter,
            ),
          )
        ).map((e) => e.eventId),
      );
      for (const e of fetched) {
        cursor =
          dir === 'b'
            ? { depth: e.depth, stream: e.streamOrdering - 1 }
            : { depth: e.depth, stream: e.streamOrdering };
        if (!kept.has(e.eventId)) continue;
        events.push(e);
        if (events.length >= limit) return { events, next: cursor };
      }
      if (fetched.length < batch) return { events };
    }
    return { events, next: cursor };
  }

  async messages(actor: Actor, roomId: string, q: MessagesQuery): Promise<MessagesPage> {
    await this.reader.readScope(actor.userId, roomId);
    const from = await this.position(roomId, q.from, 'from', q.dir);
    const to = q.to === undefined ? undefined : await this.position(roomId, q.to, 'to', q.dir);
    const limit = Math.min(Math.max(q.filter?.limit ?? q.limit, 1), 1000);
    let { events, next } = await this.walk(actor.userId, roomId, from, q.dir, limit, to, q.filter);
    // Backwards past the oldest event we have of a room joined over federation: fetch history, read again.
    for (let rounds = 0; !next && q.dir === 'b' && to === undefined && rounds < 10; rounds++) {
      if ((await this.backfiller.backfill(roomId)) === 0) break;
      ({ events, next } = await this.walk(actor.userId, roomId, from, q.dir, limit, to, q.filter));
    }
    const page: MessagesPage = {
      chunk: await this.bundler.format(events, actor),
      start: q.from ?? formatTopoToken(from),
    };
    if (next) page.end = formatTopoToken(next);
    if (q.filter?.lazy_load_members) page.state = await this.memberStateFor(actor, roomId, events);
    return page;
  }

  /** The current member events of the senders of `events` (lazy-loading members). */
  private async memberStateFor(
    actor: Actor,
    roomId: string,
    events: readonly StoredEvent[],
  ): Promise<ClientEvent[]> {
    const head = await this.reader.head(roomId);
    const ids = [...new Set(events.map((e) => e.sender))]
      .map((s) => head.state.get(stateKey('m.room.member', s))?.eventId)
      .filter((id): id is string => id !== undefined);
    return this.reader.format([...(await this.eventStore.getEvents(ids)).values()], actor);
  }

  async event(actor: Actor, roomId: string, eventId: string): Promise<ClientEvent> {
    const event = await this.reader.visibleEvent(actor.userId, roomId, eventId);
    const [formatted] = await this.bundler.format([event], actor);
    if (!formatted) throw new MatrixError(404, 'M_NOT_FOUND', 'Event not found.');
    return formatted;
  }

  async context(
    actor: Actor,
    roomId: string,
    eventId: string,
    limit: number,
    filter?: RoomEventFilter,
  ): Promise<Record<string, unknown>> {
    const event = await this.reader.visibleEvent(actor.userId, roomId, eventId);
    const beforeLimit = Math.floor(limit / 2);
    const afterLimit = limit - beforeLimit;
    const at: TopoPosition = { depth: event.depth, stream: event.streamOrdering };
    const before =
      beforeLimit > 0
        ? await this.walk(
            actor.userId,
            roomId,
            { depth: at.depth, stream: at.stream - 1 },
            'b',
            beforeLimit,
            undefined,
            filter,
          )
        : { events: [] as StoredEvent[], next: { depth: at.depth, stream: at.stream - 1 } };
    const after =
      afterLimit > 0
        ? await this.walk(actor.userId, roomId, at, 'f', afterLimit, undefined, filter)
        : { events: [] as StoredEvent[], next: at };
    const last = after.events[after.events.length - 1] ?? event;
    const stateIds = [...(await this.reader.stateAfter(last)).values()];
    // As Synapse, the filter applies to the state too (its event fields and related_by_*).
    let stateEvents = await filterByRelations(
      this.relationStore,
      [...(await this.eventStore.getEvents(stateIds)).values()].filter((e) => matchesFilter(e, filter)),
      filter,
    );
    if (filter?.lazy_load_members) {
      const senders = new Set([event, ...before.events, ...after.events].map((e) => e.sender));
      stateEvents = stateEvents.filter((e) => e.type !== 'm.room.member' || senders.has(e.stateKey ?? ''));
    }
    // One bundling read for the whole context: the event and both sides.
    const all = [event, ...before.events, ...after.events];
    const formattedAll = await this.bundler.format(all, actor);
    return {
      event: formattedAll[0],
      events_before: formattedAll.slice(1, 1 + before.events.length),
      events_after: formattedAll.slice(1 + before.events.length),
      start: formatTopoToken(before.next ?? START_OF_TIME),
      end: formatTopoToken(after.next ?? { depth: last.depth, stream: last.streamOrdering }),
      state: await this.reader.format(stateEvents, actor),
    };
  }

  async relations(
    actor: Actor,
    roomId: string,
    eventId: string,
    q: {
      relType?: string;
      eventType?: string;
      from?: string;
      to?: string;
      limit: number;
      dir: 'f' | 'b';
      /** Undefined when the client did not ask (then no `recursion_depth`). */
      recurse?: boolean;
    },
  ): Promise<Record<string, unknown>> {
    await this.reader.visibleEvent(actor.userId, roomId, eventId);
    const limit = Math.min(Math.max(q.limit, 1), 1000);
    const fromPos = q.from === undefined ? undefined : await this.position(roomId, q.from, 'from', q.dir);
    const toPos = q.to === undefined ? undefined : await this.position(roomId, q.to, 'to', q.dir);
    let candidates: StoredEvent[];
    let depthReached = 1;
    if (!q.recurse) {
      candidates = await this.relationStore.relations(eventId, {
        relType: q.relType,
        eventType: q.eventType,
        dir: q.dir,
        from: fromPos,
        limit: limit + 1,
      });
    } else {
      // Recursion (spec v1.10, MSC3981): children of children, up to three levels — one read per level,
      // at most RECURSE_MAX events in all — then paginated in memory.
      const all: StoredEvent[] = [];
      const seen = new Set([eventId]);
      let frontier = [eventId];
      for (let level = 1; level <= 3 && frontier.length > 0; level++) {
        const next: string[] = [];
        const children = await this.relationStore.childrenOf(frontier, RECURSE_MAX);
        for (const c of children) {
          if (seen.has(c.eventId)) continue;
          seen.add(c.eventId);
          next.push(c.eventId);
          if ((!q.relType || c.relType === q.relType) && (!q.eventType || c.type === q.eventType))
            all.push(c);
        }
        if (next.length > 0) depthReached = level;
        frontier = next;
      }
      const cmp = (a: StoredEvent, b: StoredEvent): number =>
        a.depth - b.depth || a.streamOrdering - b.streamOrdering;
      all.sort((a, b) => (q.dir === 'b' ? cmp(b, a) : cmp(a, b)));
      candidates = all.filter((e) => {
        if (!fromPos) return true;
        return q.dir === 'b'
          ? e.depth < fromPos.depth || (e.depth === fromPos.depth && e.streamOrdering < fromPos.stream)
          : e.depth > fromPos.depth || (e.depth === fromPos.depth && e.streamOrdering > fromPos.stream);
      });
    }
    if (toPos) {
      candidates = candidates.filter((e) =>
        q.dir === 'b'
          ? e.depth > toPos.depth || (e.depth === toPos.depth && e.streamOrdering >= toPos.stream)
          : e.depth < toPos.depth || (e.depth === toPos.depth && e.streamOrdering <= toPos.stream),
      );
    }
    const page = candidates.slice(0, limit);
    const visible = await this.visibility.filter(actor.userId, roomId, page);
    const out: Record<string, unknown> = { chunk: await this.bundler.format(visible, actor) };
    const last = page[page.length - 1];
    if (candidates.length > limit && last)
      out['next_batch'] = formatTopoToken({ depth: last.depth, stream: last.streamOrdering });
    if (q.from !== undefined) out['prev_batch'] = q.from;
    if (q.recurse !== undefined) out['recursion_depth'] = q.recurse ? depthReached : 1;
    return out;
  }

  async threads(
    actor: Actor,
    roomId: string,
    q: { include: 'all' | 'participated'; from?: string; limit: number },
  ): Promise<Record<string, unknown>> {
    await this.reader.readScope(actor.userId, roomId);
    const limit = Math.min(Math.max(q.limit, 1), 100);
    let before: number | undefined;
    if (q.from !== undefined) {
      const t = parseRoomToken(q.from);
      before = t.kind === 'stream' ? t.stream : t.pos.stream;
    }
    const chunk: StoredEvent[] = [];
    let next: number | undefined;
    for (let rounds = 0; rounds < 20 && chunk.length < limit; rounds++) {
      const roots = await this.relationStore.threadRoots(roomId, { beforeStream: before, limit: limit + 1 });
      if (roots.length === 0) break;
      const events = await this.eventStore.getEvents(roots.map((r) => r.rootId));
      const participated =
        q.include === 'participated'
          ? await this.relationStore.threadParticipants(
              roots.map((r) => r.rootId),
              actor.userId,
            )
          : undefined;
      const ordered = roots
        .map((r) => events.get(r.rootId))
        .filter((e): e is StoredEvent => e !== undefined && e.roomId === roomId);
      const visible = new Set(
        (await this.visibility.filter(actor.userId, roomId, ordered)).map((e) => e.eventId),
      );
      for (const r of roots) {
        before = r.latestStream;
        const e = events.get(r.rootId);
        if (!e || !visible.has(e.eventId)) continue;
        if (participated && e.sender !== actor.userId && !participated.has(e.eventId)) continue;
        if (chunk.length >= limit) {
          next = r.latestStream + 1;
          break;
        }
        chunk.push(e);
      }
      if (next !== undefined || roots.length <= limit) break;
    }
    const out: Record<string, unknown> = {
      chunk: await this.bundler.format(chunk, actor),
    };
    if (next !== undefined) out['next_batch'] = `s${next}`;
    return out;
  }

  async timestampToEvent(
    actor: Actor,
    roomId: string,
    ts: number,
    dir: 'f' | 'b',
  ): Promise<{ event_id: string; origin_server_ts: number }> {
    await this.reader.readScope(actor.userId, roomId);
    let probe = ts;
    for (let i = 0; i < 20; i++) {
      const event = await this.timelineStore.eventNearTimestamp(roomId, probe, dir);
      if (!event) break;
      if (await this.visibility.canSee(actor.userId, event))
        return { event_id: event.eventId, origin_server_ts: event.originServerTs };
      probe = dir === 'f' ? event.originServerTs + 1 : event.originServerTs - 1;
    }
    throw new MatrixError(404, 'M_NOT_FOUND', `Unable to find event from ${ts} in direction ${dir}`);
  }
}
