/**
 * Bundled aggregations (spec "Aggregations of child events"): the `unsigned['m.relations']` of each event a
 * client is served — `m.replace` (the most recent valid edit, formatted in full), `m.reference` (the
 * referencing event ids) and `m.thread` (latest reply, with its own bundled edit, reply count and whether the
 * viewer took part).
 *
 * Cost: one indexed read per page of events and room (`TimelineStore.bundleRows`, batched by the page's event
 * ids; none when `BundleCache` holds every event's rows),
 * plus, only when the page has children other than edits, the viewer's `m.ignored_user_list` (one
 * primary-key read; sync passes the set it holds);
 * when the page holds thread roots, one more for the viewer's participation and one for the latest replies'
 * own edits. State events get no bundle (the spec's warning), and a redacted event no `m.replace`. A thread's
 * latest reply must be visible to the viewer (history visibility: in memory while they were joined
 * throughout); otherwise the newest visible reply stands in, or the thread is not bundled.
 */
import type { Cradle } from '../../../core/container.js';
import type { Notifier } from '../../../core/notifier/notifier.js';
import type { StoredEvent } from '../store/event-rows.js';
import type { BundleRows, RelationStore } from '../store/relation-store.js';
import { BundleCache } from './bundle-cache.js';
import type { ClientEvent } from './client-events.js';
import type { HistoryVisibility } from './history-visibility.js';
import type { RoomReader, Viewer } from './room-reader.js';

/** `unsigned['m.relations']` of one event. */
export type BundledRelations = Record<string, unknown>;

/** Spec "Validity of replacement events": may `edit` replace `original`? */
export function isValidReplacement(original: StoredEvent, edit: StoredEvent): boolean {
  if (edit.relType !== 'm.replace' || edit.relatesTo !== original.eventId) return false;
  if (edit.roomId !== original.roomId || edit.sender !== original.sender || edit.type !== original.type)
    return false;
  if (edit.stateKey !== null || original.stateKey !== null) return false;
  // An edit of an edit is ignored.
  if (original.relType === 'm.replace') return false;
  if (edit.redactedBy !== null || edit.rejectedReason !== null) return false;
  // Encrypted edits carry m.new_content in the ciphertext.
  if (edit.type === 'm.room.encrypted') return true;
  const newContent = edit.pdu.content['m.new_content'];
  return typeof newContent === 'object' && newContent !== null && !Array.isArray(newContent);
}

/** The more recent of two replacements: later `origin_server_ts`, then the larger event id. */
function isNewer(a: StoredEvent, b: StoredEvent): boolean {
  return a.originServerTs !== b.originServerTs ? a.originServerTs > b.originServerTs : a.eventId > b.eventId;
}

export interface RelationsBundlerDeps extends Pick<Cradle, 'roomsRelationStore' | 'roomsReader'> {
  /** Which thread replies the viewer may see (a thread's `latest_event` must be one of them). */
  readonly roomsVisibility: Pick<HistoryVisibility, 'filter'>;
  /** The users `userId` ignores (`m.ignored_user_list`); none when the account-data module is off. */
  readonly ignoredUsers?: (userId: string) => Promise<ReadonlySet<string>>;
  /** Announces new events per room: what keeps the bundle cache fresh (without it, nothing is cached). */
  readonly notifier?: Pick<Notifier, 'subscribe'>;
}

export interface BundleOptions {
  /** The viewer's ignored users when the caller already knows them (sync); otherwise looked up. */
  readonly ignored?: ReadonlySet<string>;
  /** Bundling the latest reply of a thread: no thread of its own. */
  readonly nested?: boolean;
}

export class RelationsBundler {
  private readonly relationStore: RelationStore;
  private readonly reader: RoomReader;
  private readonly visibility: Pick<HistoryVisibility, 'filter'>;
  private readonly ignoredUsers: (userId: string) => Promise<ReadonlySet<string>>;
  private readonly cache: BundleCache;

  constructor({
    roomsRelationStore,
    roomsReader,
    roomsVisibility,
    ignoredUsers,
    notifier,
  }: RelationsBundlerDeps) {
    this.relationStore = roomsRelationStore;
    this.reader = roomsReader;
    this.visibility = roomsVisibility;
    this.ignoredUsers = ignoredUsers ?? (async () => new Set<string>());
    this.cache = new BundleCache(notifier);
  }

  /** `events` formatted for `viewer`, each with its bundled aggregations. */
  async format(
    events: readonly StoredEvent[],
    viewer: Viewer,
    options?: BundleOptions,
  ): Promise<ClientEvent[]> {
    const [formatted, bundles] = await Promise.all([
      this.reader.format(events, viewer),
      this.aggregations(events, viewer, options),
    ]);
    return attachBundles(events, formatted, bundles);
  }

  /** The bundled aggregations of `events` (only those that have any), by event id. */
  async aggregations(
    events: readonly StoredEvent[],
    viewer: Viewer,
    options: BundleOptions = {},
  ): Promise<Map<string, BundledRelations>> {
    const out = new Map<string, BundledRelations>();
    const parents = new Map<string, StoredEvent>();
    for (const e of events) if (e.stateKey === null && e.rejectedReason === null) parents.set(e.eventId, e);
    if (parents.size === 0) return out;
    // Spec "Aggregations of child events": events from ignored users do not appear in the aggregation. An
    // edit has the original's sender, so the ignore list is read only when another kind of child turns up,
    // and the children re-read only when it names anyone.
    let ignored = options.ignored;
    let rows = await this.read([...parents.values()], ignored);
    if (ignored === undefined && (rows.references.length > 0 || rows.threads.length > 0)) {
      ignored = await this.ignoredUsers(viewer.userId);
      if (ignored.size > 0) rows = await this.read([...parents.values()], ignored);
    }

    const edits = new Map<string, StoredEvent>();
    for (const edit of rows.edits) {
      const parent = edit.relatesTo === null ? undefined : parents.get(edit.relatesTo);
      if (!parent || parent.redactedBy !== null || !isValidReplacement(parent, edit)) continue;
      const current = edits.get(parent.eventId);
      if (!current || isNewer(edit, current)) edits.set(parent.eventId, edit);
    }
    const references = new Map<string, { eventId: string; streamOrdering: number }[]>();
    for (const ref of rows.references) {
      const list = references.get(ref.relatesTo) ?? [];
      list.push(ref);
      references.set(ref.relatesTo, list);
    }
    const threads = new Map<string, { latest: StoredEvent; count: number }>();
    if (!options.nested) {
      // A copy: visibleLatest replaces `latest`, and the rows may be the cache's.
      for (const { latest, count } of rows.threads)
        if (latest.relatesTo !== null) threads.set(latest.relatesTo, { latest, count });
    }
    if (edits.size === 0 && references.size === 0 && threads.size === 0) return out;

    if (threads.size > 0) await this.visibleLatest(threads, viewer.userId, ignored ?? new Set());
    const latest = [...threads.values()].map((t) => t.latest);
    const [participated, latestBundles, formattedChildren] = await Promise.all([
      threads.size > 0
        ? this.relationStore.threadParticipants([...threads.keys()], viewer.userId)
        : new Set<string>(),
      latest.length > 0
        ? this.aggregations(latest, viewer, { ignored, nested: true })
        : new Map<string, BundledRelations>(),
      // Without the viewer: a bundled child needs no transaction_id, and that saves the txn lookup.
      this.reader.format([...edits.values(), ...latest]),
    ]);
    const formattedById = new Map(formattedChildren.map((f) => [f.event_id, f]));
    for (const f of formattedChildren) {
      const bundle = latestBundles.get(f.event_id);
      if (bundle) f.unsigned['m.relations'] = bundle;
    }

    for (const parent of parents.values()) {
      const bundle: BundledRelations = {};
      const edit = edits.get(parent.eventId);
      if (edit) bundle['m.replace'] = formattedById.get(edit.eventId);
      const refs = references.get(parent.eventId);
      if (refs) {
        refs.sort((a, b) => a.streamOrdering - b.streamOrdering);
        bundle['m.reference'] = { chunk: refs.map((r) => ({ event_id: r.eventId })) };
      }
      const thread = threads.get(parent.eventId);
      if (thread) {
        bundle['m.thread'] = {
          latest_event: formattedById.get(thread.latest.eventId),
          count: thread.count,
          current_user_participated: parent.sender === viewer.userId || participated.has(parent.eventId),
        };
      }
      if (Object.keys(bundle).length > 0) out.set(parent.eventId, bundle);
    }
    return out;
  }

  /**
   * The children of `parents`, one read per room (a page is one room), from the cache when every parent's
   * rows are there and nobody is ignored (an ignore list changes what the read returns).
   */
  private async read(parents: readonly StoredEvent[], ignored: ReadonlySet<string> | undefined) {
    const byRoom = new Map<string, StoredEvent[]>();
    for (const p of parents) {
      const list = byRoom.get(p.roomId) ?? [];
      list.push(p);
      byRoom.set(p.roomId, list);
    }
    const cacheable = ignored === undefined || ignored.size === 0;
    const out: BundleRows = { edits: [], references: [], threads: [] };
    for (const [roomId, list] of byRoom) {
      let rows = cacheable ? this.cache.get(list) : undefined;
      if (!rows) {
        const generation = this.cache.generation(roomId);
        rows = await this.relationStore.bundleRows(
          roomId,
          list.map((p) => p.eventId),
          ignored,
        );
        if (cacheable) this.cache.set(list, rows, generation);
      }
      out.edits.push(...rows.edits);
      out.references.push(...rows.references);
      out.threads.push(...rows.threads);
    }
    return out;
  }

  /**
   * Makes each thread's `latest` a reply the viewer may see (history visibility): when the newest reply is
   * hidden from them (they left before it was sent), the newest one they can see, read newest first a page
   * at a time; a thread none of whose replies they can see is dropped from the bundle. The common case (the
   * viewer joined throughout) costs no read. `count` stays the number of live replies, as Synapse serves it.
   */
  private async visibleLatest(
    threads: Map<string, { latest: StoredEvent; count: number }>,
    userId: string,
    ignored: ReadonlySet<string>,
  ): Promise<void> {
    const byRoom = new Map<string, StoredEvent[]>();
    for (const t of threads.values()) {
      const list = byRoom.get(t.latest.roomId) ?? [];
      list.push(t.latest);
      byRoom.set(t.latest.roomId, list);
    }
    const hidden: string[] = [];
    for (const [roomId, latest] of byRoom) {
      const visible = new Set((await this.visibility.filter(userId, roomId, latest)).map((e) => e.eventId));
      for (const e of latest) if (!visible.has(e.eventId) && e.relatesTo !== null) hidden.push(e.relatesTo);
    }
    for (const rootId of hidden) {
      const thread = threads.get(rootId);
      if (!thread) continue;
      const fallback = await this.newestVisibleReply(thread.latest, userId, ignored);
      if (fallback) thread.latest = fallback;
      else threads.delete(rootId);
    }
  }

  /** The newest live `m.thread` reply to `hidden`'s root older than `hidden` that `userId` may see. */
  private async newestVisibleReply(
    hidden: StoredEvent,
    userId: string,
    ignored: ReadonlySet<string>,
  ): Promise<StoredEvent | undefined> {
    if (hidden.relatesTo === null) return undefined;
    let from = { depth: hidden.depth, stream: hidden.streamOrdering };
    for (let page = 0; page < FALLBACK_PAGES; page++) {
      const replies = await this.relationStore.relations(hidden.relatesTo, {
        relType: 'm.thread',
        dir: 'b',
        from,
        limit: FALLBACK_PAGE_SIZE,
      });
      const candidates = replies.filter((e) => !ignored.has(e.sender));
      const [visible] = await this.visibility.filter(userId, hidden.roomId, candidates);
      if (visible) return visible;
      const last = replies[replies.length - 1];
      if (!last || replies.length < FALLBACK_PAGE_SIZE) return undefined;
      from = { depth: last.depth, stream: last.streamOrdering };
    }
    return undefined;
  }
}

/** How far back a thread's hidden latest reply is replaced by a visible one: pages of replies, newest first. */
const FALLBACK_PAGES = 4;
const FALLBACK_PAGE_SIZE = 50;

/** Sets `unsigned['m.relations']` on each formatted event (parallel to `events`) that has a bundle. */
export function attachBundles<T extends { unsigned: Record<string, unknown> }>(
  events: readonly StoredEvent[],
  formatted: T[],
  bundles: ReadonlyMap<string, BundledRelations>,
): T[] {
  if (bundles.size === 0) return formatted;
  formatted.forEach((f, i) => {
    const e = events[i];
    const bundle = e ? bundles.get(e.eventId) : undefined;
    if (bundle) f.unsigned['m.relations'] = bundle;
  });
  return formatted;
}
