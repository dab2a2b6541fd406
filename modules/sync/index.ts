import { asClass, asFunction } from 'awilix';
import type { AxonContainer, Cradle } from '../../core/container.js';
import { defineModule } from '../../core/define-module.js';
import type { RoomsApi } from '../rooms/api.js';
import { SYNC_FEED_NAMES, type SyncFeeds } from './api.js';
import { filterRoutes } from './routes/filter.routes.js';
import { syncRoutes } from './routes/sync.routes.js';
import { FiltersService } from './services/filters-service.js';
import { noRooms, RoomsApiSyncSource, type RoomsApiForSync } from './services/rooms-adapter.js';
import type { SyncRoomsSource } from './services/rooms-source.js';
import { SyncService } from './services/sync-service.js';
import { FiltersStore } from './store/filters-store.js';
import { syncFiltersMigration } from './store/migrations/20261123000000_sync_filters.js';

declare module '../../core/container.js' {
  interface Cradle {
    syncFiltersStore: FiltersStore;
    syncFiltersService: FiltersService;
    syncRoomsSource: SyncRoomsSource;
    syncService: SyncService;
  }
}

/** Looks a registration up without failing when its module is disabled. */
function optional<T>(container: AxonContainer, name: string): T | undefined {
  return container.hasRegistration(name) ? container.resolve<T>(name) : undefined;
}

/** The feeds of whichever feeder modules are enabled, resolved per request. */
function feedsOf(container: AxonContainer): () => Partial<SyncFeeds> {
  return () => {
    const out: Partial<Record<keyof SyncFeeds, unknown>> = {};
    for (const name of Object.values(SYNC_FEED_NAMES)) {
      const feed = optional(container, name);
      if (feed !== undefined) out[name] = feed;
    }
    return out as Partial<SyncFeeds>;
  };
}

function noRoomsApi(): never {
  throw new Error('the rooms module is not enabled');
}

/** GET /sync, filters, and the next_batch token over every stream. */
export default defineModule({
  name: 'sync',
  description: 'GET /sync (long-poll), POST/GET /user/{userId}/filter',
  enabledByDefault: true,
  migrations: [syncFiltersMigration],
  register({ container }) {
    // RoomsApi is used only through the slice sync needs (checked here at compile time).
    const roomsApi = (): RoomsApiForSync | undefined => optional<RoomsApi>(container, 'roomsApi');
    const adapter = new RoomsApiSyncSource(() => roomsApi() ?? noRoomsApi());
    container.register({
      syncFiltersStore: asClass(FiltersStore).singleton(),
      syncFiltersService: asFunction(
        (c: Cradle) => new FiltersService({ filtersStore: c.syncFiltersStore }),
      ).singleton(),
      syncRoomsSource: asFunction(() => (roomsApi() ? adapter : noRooms)).singleton(),
      syncService: asFunction(
        (c: Cradle) =>
          new SyncService({
            rooms: () => c.syncRoomsSource,
            feeds: feedsOf(container),
            notifier: c.notifier,
            shutdownSignal: c.shutdownSignal,
            logger: c.logger.child({ module: 'sync' }),
            ignoredUsers: async (userId) =>
              (await optional<{ ignoredUsers(u: string): Promise<ReadonlySet<string>> }>(
                container,
                'accountDataApi',
              )?.ignoredUsers(userId)) ?? new Set<string>(),
          }),
      ).singleton(),
    });
  },
  routes(router, { cradle }) {
    syncRoutes(router, cradle);
    filterRoutes(router, cradle);
  },
});
