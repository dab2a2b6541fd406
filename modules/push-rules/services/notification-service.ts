/**
 * Evaluates every new event against the push rules of each local member (spec "Server behaviour": local
 * users in the room, excluding the sender) and records what notified; serves unread counts (cleared by
 * read receipts and by the user's own events) and GET /notifications.
 */
import type { Cradle } from '../../../core/container.js';
import type { JsonObject } from '../../../core/protocol/pdu.js';
import { threadIdOf, type ReceiptUpdate } from '../../receipts/api.js';
import type { RoomUnreadCounts } from '../../sync/api.js';
import { evaluate, type EvaluationContext } from '../rules/evaluator.js';
import type { Ruleset } from '../rules/types.js';
import type { EventDraft, RoomStateView, TransactionWrite } from '../../rooms/api.js';
import { powerFacts, displayNameIn } from './room-facts.js';
import type { NewNotification, NotificationsStore } from '../store/notifications-store.js';
import type { PushRulesService } from './push-rules-service.js';

/** What push evaluation needs from the rooms module beyond the room view it is handed. */
export interface PushRooms {
  /** An event's content (for thread lookups), or undefined. */
  eventContent(eventId: string): Promise<JsonObject | undefined>;
  /**
   * The events in the client format without `room_id`, with their bundled aggregations as `userId` sees them
   * (for GET /notifications, one batch per page); unknown ids are left out.
   */
  clientEvents(userId: string, eventIds: readonly string[]): Promise<Map<string, JsonObject>>;
}

type Deps = Pick<Cradle, 'serverName' | 'logger'> & {
  notificationsStore: NotificationsStore;
  pushRulesService: PushRulesService;
  pushRooms: PushRooms;
};

export class NotificationService {
  constructor(private readonly deps: Deps) {}

  /**
   * Evaluates a new event for every local member (rooms' EventWriter: under the room lock, before the event's
   * transaction) and returns the rows to write inside it, so its counts commit with it and arrive with it.
   */
  async prepareEvent(event: EventDraft, room: RoomStateView): Promise<TransactionWrite | undefined> {
    const { pushRooms, pushRulesService, notificationsStore } = this.deps;
    const threadId = await threadIdOf({ eventId: event.eventId, content: event.content }, async (id) => {
      const content = await pushRooms.eventContent(id);
      return content ? { eventId: id, content } : undefined;
    });
    // Sending an event moves the sender's read-up-to mark to it (spec: Marking notifications as read).
    const senderReads = this.isLocal(event.sender);
    const members = room.joinedMembers();
    const targets = new Set(members.filter((u) => this.isLocal(u)));
    // An invitee is not joined yet but is who `.m.rule.invite_for_me` is for.
    if (
      event.type === 'm.room.member' &&
      event.content['membership'] === 'invite' &&
      event.stateKey !== null &&
      this.isLocal(event.stateKey)
    ) {
      targets.add(event.stateKey);
    }
    targets.delete(event.sender);

    const rows: Omit<NewNotification, 'streamOrdering'>[] = [];
    if (targets.size > 0) {
      const facts = powerFacts(room, event.sender);
      const evaluated: Record<string, unknown> = {
        type: event.type,
        content: event.content,
        sender: event.sender,
        room_id: event.roomId,
        event_id: event.eventId,
      };
      if (event.stateKey !== null) evaluated['state_key'] = event.stateKey;
      const now = Date.now();
      for (const userId of targets) {
        const ruleset = await pushRulesService.ruleset(userId);
        const ctx: EvaluationContext = {
          userId,
          roomMemberCount: members.length,
          senderPowerLevel: facts.senderPowerLevel,
          notificationPowerLevels: facts.notificationLevels,
          displayName: usesDisplayName(ruleset) ? displayNameIn(room, userId) : undefined,
        };
        const match = evaluate(ruleset, evaluated, ctx);
        if (!match || (!match.notify && !match.highlight)) continue;
        rows.push({
          userId,
          roomId: event.roomId,
          eventId: event.eventId,
          threadId,
          actions: match.actions,
          notify: match.notify,
          highlight: match.highlight,
          ts: now,
        });
      }
    }
    if (!senderReads && rows.length === 0) return undefined;
    return (streamOrdering) => [
      ...(senderReads
        ? [notificationsStore.markReadStatement(event.sender, event.roomId, streamOrdering, threadId)]
        : []),
      ...notificationsStore.insertStatements(rows.map((r) => ({ ...r, streamOrdering }))),
    ];
  }

  /** A read receipt clears the notifications up to its event (in its thread when threaded). */
  async receiptMoved(update: ReceiptUpdate): Promise<void> {
    await this.deps.notificationsStore.markRead(
      update.userId,
      update.roomId,
      update.eventStreamOrdering,
      update.threadId,
    );
  }

  async countsFor(userId: string, roomIds: readonly string[]): Promise<Record<string, RoomUnreadCounts>> {
    const out: Record<
      string,
      {
        main: { notification_count: number; highlight_count: number };
        threads: Record<string, { notification_count: number; highlight_count: number }>;
      }
    > = {};
    for (const roomId of roomIds)
      out[roomId] = { main: { notification_count: 0, highlight_count: 0 }, threads: {} };
    for (const row of await this.deps.notificationsStore.unreadCounts(userId, roomIds)) {
      const room = out[row.roomId];
      if (!room) continue;
      const counts = { notification_count: row.notifications, highlight_count: row.highlights };
      if (row.threadId === 'main') room.main = counts;
      else if (row.notifications > 0 || row.highlights > 0) room.threads[row.threadId] = counts;
    }
    return out;
  }

  /** GET /notifications. */
  async list(
    userId: string,
    options: { from?: string | undefined; limit?: number | undefined; only?: string | undefined },
  ): Promise<{ notifications: JsonObject[]; next_token?: string }> {
    const limit = Math.min(Math.max(options.limit ?? 50, 1), 1000);
    const before =
      options.from !== undefined && /^[0-9]+$/.test(options.from) ? Number(options.from) : undefined;
    const rows = await this.deps.notificationsStore.list(userId, {
      before,
      limit: limit + 1,
      onlyHighlight: options.only === 'highlight',
    });
    const page = rows.slice(0, limit);
    const notifications: JsonObject[] = [];
    const events = await this.deps.pushRooms.clientEvents(
      userId,
      page.map((row) => row.eventId),
    );
    for (const row of page) {
      const event = events.get(row.eventId);
      if (!event) continue;
      notifications.push({
        actions: row.actions as JsonObject[keyof JsonObject],
        event,
        read: row.read,
        room_id: row.roomId,
        ts: row.ts,
      });
    }
    const last = page[page.length - 1];
    return rows.length > limit && last ? { notifications, next_token: String(last.id) } : { notifications };
  }

  private isLocal(userId: string): boolean {
    return userId.endsWith(`:${this.deps.serverName}`);
  }
}

/** Only the deprecated `contains_display_name` needs the member's display name: skip the read otherwise. */
function usesDisplayName(ruleset: Ruleset): boolean {
  return [...ruleset.override, ...ruleset.underride].some(
    (r) => r.enabled && r.conditions?.some((c) => c.kind === 'contains_display_name'),
  );
}
