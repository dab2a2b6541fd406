/**
 * The children a bundled aggregation is built from (`TimelineStore.bundleRows`), kept per parent event so
 * that serving the same events again (scrolling back and forth, several devices, /context after /messages)
 * costs no read. Synapse caches the same facts (`get_applicable_edit`, thread summaries) and drops them
 * when a relation or a redaction is persisted.
 *
 * Why: reading and parsing 100 edits is most of what bundling costs a page (scripts/bench/relations-bench.ts:
 * a /messages page of 100 edited events at p50 ×1.26–1.40 of a plain page when the edits are read, ×1.14–1.19
 * when they come from here, on SQLite and PostgreSQL).
 *
 * Invalidation is by room: every `events` change the notifier announces for a room (a new event there,
 * including a redaction, from this process or — once the notifier crosses processes — another) bumps the
 * room's generation, and an entry read under an older generation is a miss. The generation is taken before
 * the read, so a change committed during the read leaves an entry that is already stale, never a stale
 * entry under the new generation. Children are read from their parent's room only (relations do not cross
 * rooms), so a change in another room cannot make an entry wrong. Only reads without ignored users are
 * cached (an ignore list changes what the read returns).
 *
 * Another process writing to the same database is not heard while the notifier is in-process, so an entry
 * also expires after MAX_AGE_MS: an edit made through another process shows within that time.
 */
import type { Notifier } from '../../../core/notifier/notifier.js';
import { growingLru } from '../../../core/lru.js';
import type { StoredEvent } from '../store/event-rows.js';
import type { BundleRows } from '../store/relation-store.js';

/** One parent's share of `BundleRows`. */
interface ParentRows {
  readonly roomId: string;
  readonly generation: number;
  readonly storedAt: number;
  readonly edits: StoredEvent[];
  readonly references: BundleRows['references'];
  readonly thread: BundleRows['threads'][number] | undefined;
}

/** How long an entry is trusted without news from the notifier (other processes' writes; see above). */
const MAX_AGE_MS = 10_000;

/** Parents remembered; an entry with no children is a few dozen bytes, one with an edit about 2 KiB. */
const ENTRIES = 20_000;

export class BundleCache {
  private readonly entries = growingLru<string, ParentRows>(ENTRIES);
  private readonly generations = new Map<string, number>();

  /** Without a notifier nothing would make an entry stale: then nothing is kept. */
  private readonly enabled: boolean;

  constructor(
    notifier: Pick<Notifier, 'subscribe'> | undefined,
    private readonly clock: () => number = Date.now,
  ) {
    this.enabled = notifier !== undefined;
    notifier?.subscribe({ all: true }, (change) => {
      if (change.stream !== 'events') return;
      for (const roomId of change.roomIds ?? []) this.generations.set(roomId, this.generation(roomId) + 1);
    });
  }

  /** The room's generation now: take it before reading, and store what was read under it. */
  generation(roomId: string): number {
    return this.generations.get(roomId) ?? 0;
  }

  /** The rows of every one of `parents`, or undefined when any is missing or stale (then read them all). */
  get(parents: readonly StoredEvent[]): BundleRows | undefined {
    if (!this.enabled) return undefined;
    const now = this.clock();
    const out: BundleRows = { edits: [], references: [], threads: [] };
    for (const parent of parents) {
      const entry = this.entries.get(parent.eventId);
      if (
        !entry ||
        entry.roomId !== parent.roomId ||
        entry.generation !== this.generation(parent.roomId) ||
        now - entry.storedAt > MAX_AGE_MS
      )
        return undefined;
      out.edits.push(...entry.edits);
      out.references.push(...entry.references);
      if (entry.thread) out.threads.push(entry.thread);
    }
    return out;
  }

  /** Remembers `rows`, read for `parents` (all of one room) when the room was at `generation`. */
  set(parents: readonly StoredEvent[], rows: BundleRows, generation: number): void {
    if (!this.enabled) return;
    const byParent = new Map<string, { edits: StoredEvent[]; references: BundleRows['references'] }>();
    const share = (id: string) => {
      let s = byParent.get(id);
      if (!s) byParent.set(id, (s = { edits: [], references: [] }));
      return s;
    };
    for (const e of rows.edits) if (e.relatesTo !== null) share(e.relatesTo).edits.push(e);
    for (const r of rows.references) share(r.relatesTo).references.push(r);
    const threads = new Map(rows.threads.map((t) => [t.latest.relatesTo, t]));
    const storedAt = this.clock();
    for (const parent of parents) {
      const s = byParent.get(parent.eventId);
      this.entries.set(parent.eventId, {
        roomId: parent.roomId,
        generation,
        storedAt,
        edits: s?.edits ?? [],
        references: s?.references ?? [],
        thread: threads.get(parent.eventId),
      });
    }
  }
}
