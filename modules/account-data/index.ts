import { aliasTo, asClass } from 'awilix';
import { defineModule } from '../../core/define-module.js';
import type { AccountDataApi } from './api.js';
import type { AccountDataFeed } from '../sync/api.js';
import { accountDataRoutes } from './routes/account-data.routes.js';
import { AccountDataService } from './services/account-data-service.js';
import { AccountDataSyncFeed } from './services/account-data-feed.js';
import { AccountDataStore } from './store/account-data-store.js';
import { accountDataMigration } from './store/migrations/20261123000000_account_data.js';

declare module '../../core/container.js' {
  interface Cradle {
    accountDataStore: AccountDataStore;
    accountDataService: AccountDataService;
    accountDataApi: AccountDataApi;
    accountDataFeed: AccountDataFeed;
  }
}

/** Per-user account data (global and per room), room tags and the ignored-users list; feeds /sync. */
export default defineModule({
  name: 'account-data',
  description: 'GET/PUT /user/{userId}/account_data and room tags; m.ignored_user_list',
  enabledByDefault: true,
  migrations: [accountDataMigration],
  register({ container }) {
    container.register({
      accountDataStore: asClass(AccountDataStore).singleton(),
      accountDataService: asClass(AccountDataService).singleton(),
      accountDataApi: aliasTo('accountDataService'),
      accountDataFeed: asClass(AccountDataSyncFeed).singleton(),
    });
  },
  routes(router, { cradle }) {
    accountDataRoutes(router, cradle);
  },
});
