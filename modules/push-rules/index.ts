import { asClass, asFunction } from 'awilix';
import type { Cradle } from '../../core/container.js';
import { defineModule } from '../../core/define-module.js';
import type { PushRulesFeed, UnreadCountsFeed } from '../sync/api.js';
import type { PushRulesApi } from './api.js';
import { pushRulesRoutes } from './routes/push-rules.routes.js';
import { NotificationService, type PushRooms } from './services/notification-service.js';
import { PushRulesSyncFeed, UnreadCountsSyncFeed } from './services/push-feeds.js';
import { PushRulesService } from './services/push-rules-service.js';
import { pushRoomsFrom } from './services/rooms-port.js';
import { pushRulesMigration } from './store/migrations/20261123120000_push_rules.js';
import { NotificationsStore } from './store/notifications-store.js';
import { PushRulesStore } from './store/push-rules-store.js';

declare module '../../core/container.js' {
  interface Cradle {
    pushRulesStore: PushRulesStore;
    notificationsStore: NotificationsStore;
    pushRulesService: PushRulesService;
    notificationService: NotificationService;
    pushRooms: PushRooms;
    pushRulesApi: PushRulesApi;
    pushRulesFeed: PushRulesFeed;
    unreadCountsFeed: UnreadCountsFeed;
  }
}

/**
 * Push rules (GET/PUT/DELETE /pushrules) and their evaluation on every event: unread notification and
 * highlight counts in sync, GET /notifications. Delivery to push gateways (pushers) is not part of it yet.
 */
export default defineModule({
  name: 'push-rules',
  description: 'push rules, unread counts and GET /notifications',
  enabledByDefault: true,
  requires: ['rooms'],
  migrations: [pushRulesMigration],
  register({ container }) {
    container.register({
      pushRulesStore: asClass(PushRulesStore).singleton(),
      notificationsStore: asClass(NotificationsStore).singleton(),
      pushRulesService: asClass(PushRulesService).singleton(),
      notificationService: asClass(NotificationService).singleton(),
      pushRooms: asFunction(({ roomsApi }: Cradle) => pushRoomsFrom(roomsApi)).singleton(),
      pushRulesApi: asFunction(({ pushRulesService }: Cradle): PushRulesApi => ({
        ruleset: (u) => pushRulesService.ruleset(u),
      })).singleton(),
      pushRulesFeed: asClass(PushRulesSyncFeed).singleton(),
      unreadCountsFeed: asClass(UnreadCountsSyncFeed).singleton(),
    });
  },
  routes(router, { cradle }) {
    pushRulesRoutes(router, cradle);
  },
  async start(cradle) {
    const notifications = cradle.notificationService;
    cradle.roomsHooks.addEventWriter((event, room) => notifications.prepareEvent(event, room));
    // Receipts are optional: without the module, only a user's own events move their read-up-to mark.
    if (cradle.enabledModules.includes('receipts')) {
      cradle.receiptsApi.onReceipt((update) => notifications.receiptMoved(update));
    }
  },
});
