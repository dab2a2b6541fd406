import { asClass, asFunction } from 'awilix';
import type { Cradle } from '../../core/container.js';
import { defineModule } from '../../core/define-module.js';
import type { ReceiptsFeed } from '../sync/api.js';
import type { ReceiptsApi } from './api.js';
import { receiptsRoutes } from './routes/receipts.routes.js';
import { ReceiptsSyncFeed } from './services/receipts-feed.js';
import { ReceiptsFederation } from './services/receipts-federation.js';
import { ReceiptsService, type FullyReadMarkers, type ReceiptRooms } from './services/receipts-service.js';
import { receiptsMigration } from './store/migrations/20261123100000_receipts.js';
import { ReceiptsStore } from './store/receipts-store.js';
import { ReceiptRoomsAdapter } from './services/rooms-port.js';

declare module '../../core/container.js' {
  interface Cradle {
    receiptsStore: ReceiptsStore;
    receiptsService: ReceiptsService;
    receiptRooms: ReceiptRooms;
    receiptRoomsAdapter: ReceiptRoomsAdapter;
    fullyReadMarkers: FullyReadMarkers;
    receiptsApi: ReceiptsApi;
    receiptsFeed: ReceiptsFeed;
    receiptsFederation: ReceiptsFederation;
  }
}

/** Read receipts (m.read, m.read.private, threaded) and read markers (m.fully_read). */
export default defineModule({
  name: 'receipts',
  description: 'read receipts and read markers (m.receipt, m.fully_read)',
  enabledByDefault: true,
  requires: ['rooms', 'account-data'],
  migrations: [receiptsMigration],
  register({ container }) {
    container.register({
      receiptsStore: asClass(ReceiptsStore).singleton(),
      receiptRoomsAdapter: asFunction(
        ({ roomsApi }: Cradle) => new ReceiptRoomsAdapter(roomsApi),
      ).singleton(),
      receiptRooms: asFunction(
        ({ receiptRoomsAdapter }: Cradle): ReceiptRooms => receiptRoomsAdapter,
      ).singleton(),
      // m.fully_read is room account data (spec: Read markers); the account-data module stores and syncs it.
      fullyReadMarkers: asFunction(({ accountDataApi }: Cradle): FullyReadMarkers => ({
        setFullyRead: async (userId, roomId, eventId) => {
          await accountDataApi.setForRoom(userId, roomId, 'm.fully_read', { event_id: eventId });
        },
      })).singleton(),
      receiptsService: asClass(ReceiptsService).singleton(),
      receiptsApi: asFunction(({ receiptsService }: { receiptsService: ReceiptsService }): ReceiptsApi => ({
        onReceipt: (listener) => receiptsService.onReceipt(listener),
      })).singleton(),
      receiptsFeed: asClass(ReceiptsSyncFeed).singleton(),
      receiptsFederation: asClass(ReceiptsFederation).singleton(),
    });
  },
  routes(router, { cradle }) {
    receiptsRoutes(router, cradle);
  },
  async start(cradle) {
    const adapter = cradle.receiptRoomsAdapter;
    cradle.roomsHooks.onEventPersisted((event) => adapter.remember(event));
    // m.receipt EDUs both ways; without federation, receipts stay on this server.
    if (cradle.enabledModules.includes('federation')) cradle.receiptsFederation.start();
  },
});
