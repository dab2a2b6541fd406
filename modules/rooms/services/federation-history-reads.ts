/**
 * The resident side of the federation history reads (server-server-api "Backfilling and retrieving missing
 * events", "Retrieving events", "Timestamp to event"): walking the room DAG backwards from given events, the
 * auth chain of one event, the event closest to a timestamp; every answer passes the history visibility the
 * requesting server is entitled to (server-visibility.ts).
 */
import type { Cradle } from '../../../core/container.js';
import { referenceIds } from '../../../core/protocol/event-references.js';
import type { PduJson } from '../../../core/protocol/pdu.js';
import type { StoredEvent } from '../store/event-rows.js';
import type { EventStore } from '../store/event-store.js';
import type { TimelineStore } from '../store/timeline-store.js';
import type { RoomHeads } from './room-heads.js';
import { ServerVisibility } from './server-visibility.js';

export interface MissingEventsQuery {
  readonly earliest: readonly string[];
  readonly latest: readonly string[];
  readonly limit: number;
  readonly minDepth: number;
}

type Deps = Pick<Cradle, 'roomsHeads' | 'roomsEventStore' | 'roomsStateStore' | 'roomsTimelineStore'>;

export class FederationHistoryReads {
  private readonly heads: RoomHeads;
  private readonly eventStore: EventStore;
  private readonly timelineStore: TimelineStore;
  readonly visibility: ServerVisibility;

  constructor({ roomsHeads, roomsEventStore, roomsStateStore, roomsTimelineStore }: Deps) {
    this.heads = roomsHeads;
    this.eventStore = roomsEventStore;
    this.timelineStore = roomsTimelineStore;
    this.visibility = new ServerVisibility(roomsEventStore, roomsStateStore);
  }

  /** An accepted event as `server` may see it (redacted when hidden); undefined when unknown or rejected. */
  async eventForServer(
    server: string,
    eventId: string,
  ): Promise<{ roomId: string; pdu: PduJson } | undefined> {
    const e = await this.eventStore.getEvent(eventId);
    if (!e || e.rejectedReason !== null) return undefined;
    const head = await this.heads.get(e.roomId);
    if (!head) return undefined;
    const [pdu] = await this.visibility.forServer(server, [e], head.version);
    return { roomId: e.roomId, pdu: pdu! };
  }

  /** Whether `server` may see the event (its state and auth chain are only served then). */
  async serverMaySeeEvent(server: string, e: StoredEvent): Promise<boolean> {
    return (await this.visibility.visibleIds(server, [e])).has(e.eventId);
  }

  /**
   * /backfill: up to `limit` events of the room from `from` (included) backwards through prev_events,
   * highest depth first (as Synapse walks them), rejected events skipped but walked through.
   */
  async backfill(server: string, roomId: string, from: readonly string[], limit: number): Promise<PduJson[]> {
    const head = await this.heads.get(roomId);
    if (!head) return [];
    const start = await this.eventStore.getEvents([...new Set(from)]);
    const queue = [...start.values()].filter((e) => e.roomId === roomId);
    const seen = new Set(queue.map((e) => e.eventId));
    const expanded = new Set<string>();
    const out: StoredEvent[] = [];
    while (queue.length > 0 && out.length < limit) {
      queue.sort((x, y) => y.depth - x.depth || y.streamOrdering - x.streamOrdering);
      const next = queue.shift()!;
      if (next.rejectedReason === null) out.push(next);
      if (!expanded.has(next.eventId)) {
        // Expand every queued event at once: one read per wave instead of one per event.
        const batch = [next, ...queue].filter((e) => !expanded.has(e.eventId));
        for (const e of batch) expanded.add(e.eventId);
        const prevIds = batch.flatMap((e) => referenceIds(e.pdu.prev_events)).filter((id) => !seen.has(id));
        const prevs = await this.eventStore.getEvents([...new Set(prevIds)]);
        for (const p of prevs.values()) {
          if (p.roomId !== roomId || seen.has(p.eventId)) continue;
          seen.add(p.eventId);
          queue.push(p);
        }
      }
    }
    return this.visibility.forServer(server, out, head.version);
  }

  /**
   * get_missing_events: the events before `latest` back to `earliest` (excluded), breadth first, at most
   * `limit`, none below `minDepth`; oldest first.
   */
  async missingEvents(server: string, roomId: string, query: MissingEventsQuery): Promise<PduJson[]> {
    const head = await this.heads.get(roomId);
    if (!head) return [];
    const seen = new Set(query.earliest);
    const latest = await this.eventStore.getEvents(query.latest.filter((id) => !seen.has(id)));
    let front = [...latest.values()].filter((e) => e.roomId === roomId);
    for (const e of front) seen.add(e.eventId);
    const found: StoredEvent[] = [];
    while (front.length > 0 && found.length < query.limit) {
      const prevIds = [...new Set(front.flatMap((e) => referenceIds(e.pdu.prev_events)))].filter(
        (id) => !seen.has(id),
      );
      const prevs = await this.eventStore.getEvents(prevIds);
      const next: StoredEvent[] = [];
      for (const id of prevIds) {
        const p = prevs.get(id);
        seen.add(id);
        if (!p || p.roomId !== roomId || p.depth < query.minDepth) continue;
        next.push(p);
        if (p.rejectedReason === null && found.length < query.limit) found.push(p);
      }
      front = next;
    }
    found.sort((x, y) => x.depth - y.depth || x.streamOrdering - y.streamOrdering);
    return this.visibility.forServer(server, found, head.version);
  }

  /** The events of the room closest to `ts` in direction `dir` (f: at or after, b: at or before). */
  async eventNearTimestamp(
    roomId: string,
    ts: number,
    dir: 'f' | 'b',
  ): Promise<{ eventId: string; originServerTs: number } | undefined> {
    const e = await this.timelineStore.eventNearTimestamp(roomId, ts, dir);
    return e && { eventId: e.eventId, originServerTs: e.originServerTs };
  }
}
