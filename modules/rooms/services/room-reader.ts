/**
 * Reads shared by the room services: who may read a room and up to where, state at an event, and
 * formatting events for a requester (redacted_because, their own transaction ids, visibility).
 */
import type { Cradle } from '../../../core/container.js';
import { MatrixError } from '../../../core/errors.js';
import { stateKey, type StateKey } from '../../../core/protocol/pdu.js';
import type { StoredEvent } from '../store/event-rows.js';
import type { EventStore } from '../store/event-store.js';
import type { StateStore } from '../store/state-store.js';
import type { TimelineStore } from '../store/timeline-store.js';
import type { TxnStore } from '../store/txn-store.js';
import { toClientEvent, toFederationEvent, type ClientEvent, type EventWithPdu } from './client-events.js';
import type { HistoryVisibility } from './history-visibility.js';
import type { RoomHead, RoomHeads } from './room-heads.js';

export interface Viewer {
  readonly userId: string;
  readonly deviceId?: string | null;
}

/** What a user may read of a room's state: the current state, or the state when they left. */
export type ReadScope =
  | { readonly kind: 'current'; readonly head: RoomHead }
  | { readonly kind: 'until'; readonly head: RoomHead; readonly lastEvent: StoredEvent };

export class RoomReader {
  private readonly eventStore: EventStore;
  private readonly timelineStore: TimelineStore;
  private readonly stateStore: StateStore;
  private readonly txnStore: TxnStore;
  private readonly heads: RoomHeads;
  private readonly visibility: HistoryVisibility;

  constructor({
    roomsEventStore,
    roomsTimelineStore,
    roomsStateStore,
    roomsTxnStore,
    roomsHeads,
    roomsVisibility,
  }: Pick<
    Cradle,
    | 'roomsEventStore'
    | 'roomsTimelineStore'
    | 'roomsStateStore'
    | 'roomsTxnStore'
    | 'roomsHeads'
    | 'roomsVisibility'
  >) {
    this.eventStore = roomsEventStore;
    this.timelineStore = roomsTimelineStore;
    this.stateStore = roomsStateStore;
    this.txnStore = roomsTxnStore;
    this.heads = roomsHeads;
    this.visibility = roomsVisibility;
  }

  /** The room's head, or 404 M_NOT_FOUND. */
  async head(roomId: string): Promise<RoomHead> {
    const head = await this.heads.get(roomId);
    if (!head) throw new MatrixError(404, 'M_NOT_FOUND', `Unknown room ${roomId}`);
    return head;
  }

  membershipIn(head: RoomHead, userId: string): string | undefined {
    const m = head.state.get(stateKey('m.room.member', userId))?.pdu.content['membership'];
    return typeof m === 'string' ? m : undefined;
  }

  /**
   * Members read the current state; former members the state as of their leaving; anyone reads a
   * world_readable room. Everyone else gets 403.
   */
  async readScope(userId: string, roomId: string): Promise<ReadScope> {
    const head = await this.head(roomId);
    const membership = this.membershipIn(head, userId);
    if (membership === 'join') return { kind: 'current', head };
    const hv = head.state.get(stateKey('m.room.history_visibility', ''))?.pdu.content['history_visibility'];
    if (hv === 'world_readable') return { kind: 'current', head };
    if (membership === 'leave' || membership === 'ban') {
      const history = await this.timelineStore.stateHistory(roomId, 'm.room.member', userId);
      const joinedBefore = history.some((e) => e.membership === 'join');
      const last = history[history.length - 1];
      if (joinedBefore && last) return { kind: 'until', head, lastEvent: last };
    }
    throw new MatrixError(403, 'M_FORBIDDEN', `User ${userId} is not in room ${roomId}`);
  }

  /** As readScope, but only current members (sending, inviting, typing…). */
  async requireJoined(userId: string, roomId: string): Promise<RoomHead> {
    const head = await this.head(roomId);
    if (this.membershipIn(head, userId) !== 'join') {
      throw new MatrixError(403, 'M_FORBIDDEN', `User ${userId} is not in room ${roomId}`);
    }
    return head;
  }

  /** State (type, state_key) → event id after `event`. */
  async stateAfter(event: StoredEvent): Promise<Map<StateKey, string>> {
    if (event.stateGroup === null) return new Map();
    return this.stateStore.stateOfGroup(event.stateGroup);
  }

  /** State before `event` (for a non-state event the same as after it). */
  async stateBefore(event: StoredEvent): Promise<Map<StateKey, string>> {
    const after = await this.stateAfter(event);
    if (event.stateKey === null) return after;
    const before =
      event.stateGroup === null ? undefined : await this.stateStore.stateGroupInfo(event.stateGroup);
    return before?.prevGroup == null ? new Map() : this.stateStore.stateOfGroup(before.prevGroup);
  }

  /** The state events visible within `scope`, as stored events. */
  async stateEvents(scope: ReadScope): Promise<StoredEvent[]> {
    if (scope.kind === 'current') return this.stateStore.currentStateEvents(scope.head.roomId);
    const ids = [...(await this.stateAfter(scope.lastEvent)).values()];
    return [...(await this.eventStore.getEvents(ids)).values()];
  }

  /** Formats events for `viewer`: redacted_because, transaction_id for their own device. */
  async format(events: readonly StoredEvent[], viewer?: Viewer): Promise<ClientEvent[]> {
    if (events.length === 0) return [];
    const facts = await this.formatFacts(events, viewer);
    return events.map((e) => {
      const { now, transactionId, redaction } = facts(e);
      return toClientEvent(e, {
        now,
        transactionId,
        redactedBecause: redaction ? toClientEvent(redaction, { now }) : undefined,
      });
    });
  }

  /** As `format`, each event paired with its federation format (sync's `event_format: "federation"`). */
  async formatWithPdu(events: readonly StoredEvent[], viewer?: Viewer): Promise<EventWithPdu[]> {
    if (events.length === 0) return [];
    const facts = await this.formatFacts(events, viewer);
    return events.map((e) => {
      const { now, transactionId, redaction } = facts(e);
      return {
        event: toClientEvent(e, {
          now,
          transactionId,
          redactedBecause: redaction ? toClientEvent(redaction, { now }) : undefined,
        }),
        pdu: toFederationEvent(e, {
          now,
          transactionId,
          redactedBecause: redaction ? toFederationEvent(redaction, { now }) : undefined,
        }),
      };
    });
  }

  /** What formatting needs beyond the events: their redactions and the viewer's own transaction ids. */
  private async formatFacts(
    events: readonly StoredEvent[],
    viewer: Viewer | undefined,
  ): Promise<(e: StoredEvent) => { now: number; transactionId?: string; redaction?: StoredEvent }> {
    const redactionIds = events.map((e) => e.redactedBy).filter((id): id is string => id !== null);
    const redactions =
      redactionIds.length > 0
        ? await this.eventStore.getEvents(redactionIds)
        : new Map<string, StoredEvent>();
    const own = viewer ? events.filter((e) => e.sender === viewer.userId).map((e) => e.eventId) : [];
    const txns =
      own.length > 0
        ? await this.txnStore.txnOfEvents(own)
        : new Map<string, { deviceId: string; txnId: string }>();
    const now = Date.now();
    return (e) => {
      const txn = txns.get(e.eventId);
      return {
        now,
        transactionId: txn && viewer && txn.deviceId === (viewer.deviceId ?? '') ? txn.txnId : undefined,
        redaction: e.redactedBy ? redactions.get(e.redactedBy) : undefined,
      };
    };
  }

  /** One event the viewer may see, or 404. */
  async visibleEvent(userId: string, roomId: string, eventId: string): Promise<StoredEvent> {
    await this.readScopeOrWorldReadable(userId, roomId);
    const event = await this.eventStore.getEvent(eventId);
    if (
      !event ||
      event.roomId !== roomId ||
      event.rejectedReason !== null ||
      !(await this.visibility.canSee(userId, event))
    ) {
      throw new MatrixError(404, 'M_NOT_FOUND', 'Event not found.');
    }
    return event;
  }

  /** 404 for an unknown room, otherwise lets history visibility decide per event. */
  private async readScopeOrWorldReadable(userId: string, roomId: string): Promise<void> {
    await this.head(roomId);
    void userId;
  }
}
