import { asClass, asFunction } from 'awilix';
import { defineModule } from '../../core/define-module.js';
import type { ReceiptsFeed } from '../sync/api.js';
import type { ReceiptsApi } from './api.js';
import { receiptsRoutes } from './routes/receipts.routes.js';
import { ReceiptsSyncFeed } from './services/receipts-feed.js';
import { ReceiptsService, type FullyReadMarkers, type ReceiptRooms } from './services/receipts-service.js';
import { receiptsMigration } from './store/migrations/20261123100000_receipts.js';
import { ReceiptsStore } from './store/receipts-store.js';

declare module '../../core/container.js' {
  interface Cradle {
    receiptsStore: ReceiptsStore;
    receiptsService: ReceiptsService;
    receiptRooms: ReceiptRooms;
    fullyReadMarkers: FullyReadMarkers;
    receiptsApi: ReceiptsApi;
    receiptsFeed: ReceiptsFeed;
  }
}

/** Read receipts (m.read, m.read.private, threaded) and read markers (m.fully_read). */
export default defineModule({
  name: 'receipts',
  description: 'read receipts and read markers (m.receipt, m.fully_read)',
  enabledByDefault: true,
  requires: ['rooms'],
  migrations: [receiptsMigration],
  register({ container }) {
    container.register({
      receiptsStore: asClass(ReceiptsStore).singleton(),
      receiptsService: asClass(ReceiptsService).singleton(),
      receiptsApi: asFunction(({ receiptsService }: { receiptsService: ReceiptsService }): ReceiptsApi => ({
        onReceipt: (listener) => receiptsService.onReceipt(listener),
      })).singleton(),
      receiptsFeed: asClass(ReceiptsSyncFeed).singleton(),
    });
  },
  routes(router, { cradle }) {
    receiptsRoutes(router, cradle);
  },
});
