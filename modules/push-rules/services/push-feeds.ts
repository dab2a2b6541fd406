/**
 * The two feeds sync reads from push rules: `pushRulesFeed` (the `m.push_rules` global account data event,
 * on an initial sync and whenever the user's rules changed in the window) and `unreadCountsFeed`.
 */
import type {
  FeedChanges,
  PushRulesFeed,
  RoomUnreadCounts,
  SyncWindow,
  TopLevelEvents,
  UnreadCountsFeed,
} from '../../sync/api.js';
import type { JsonObject } from '../../../core/protocol/pdu.js';
import { PUSH_RULES_STREAM } from '../api.js';
import type { NotificationService } from './notification-service.js';
import type { PushRulesService } from './push-rules-service.js';

export class PushRulesSyncFeed implements PushRulesFeed {
  readonly stream = PUSH_RULES_STREAM;

  constructor(private readonly deps: { pushRulesService: PushRulesService }) {}

  currentPosition(): Promise<number> {
    return this.deps.pushRulesService.currentPosition();
  }

  async changesFor(userId: string, window: SyncWindow): Promise<FeedChanges<TopLevelEvents>> {
    const service = this.deps.pushRulesService;
    const changedAt = await service.lastChange(userId);
    if (window.from > 0 && (changedAt <= window.from || changedAt > window.to))
      return { data: { events: [] } };
    const global = (await service.presented(userId)) as unknown as JsonObject;
    return { data: { events: [{ type: 'm.push_rules', content: { global } }] } };
  }
}

export class UnreadCountsSyncFeed implements UnreadCountsFeed {
  constructor(private readonly deps: { notificationService: NotificationService }) {}

  countsFor(userId: string, roomIds: readonly string[]): Promise<Readonly<Record<string, RoomUnreadCounts>>> {
    return this.deps.notificationService.countsFor(userId, roomIds);
  }
}
