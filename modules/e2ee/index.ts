import { asClass, asFunction } from 'awilix';
import type { Cradle } from '../../core/container.js';
import { defineModule } from '../../core/define-module.js';
import type { AuthApi } from '../auth/api.js';
import type { RoomsApi } from '../rooms/api.js';
import type { DeviceListsFeed, KeysFeed } from '../sync/api.js';
import type { E2eeApi } from './api.js';
import { crossSigningRoutes } from './routes/cross-signing.routes.js';
import { keyBackupRoutes } from './routes/key-backup.routes.js';
import { keysRoutes } from './routes/keys.routes.js';
import { CrossSigningService } from './services/cross-signing-service.js';
import { DeviceListsService } from './services/device-lists-service.js';
import { KeyBackupService } from './services/key-backup-service.js';
import { KeyCountsCache } from './services/key-counts-cache.js';
import { KeysService } from './services/keys-service.js';
import { CrossSigningStore } from './store/cross-signing-store.js';
import { DeviceListsStore } from './store/device-lists-store.js';
import { KeyBackupStore } from './store/key-backup-store.js';
import { KeysStore } from './store/keys-store.js';
import { e2eeMigration } from './store/migrations/20261123000000_e2ee.js';

declare module '../../core/container.js' {
  interface Cradle {
    e2eeKeysStore: KeysStore;
    e2eeCrossSigningStore: CrossSigningStore;
    e2eeDeviceListsStore: DeviceListsStore;
    e2eeKeyBackupStore: KeyBackupStore;
    e2eeDeviceLists: DeviceListsService;
    e2eeKeyCounts: KeyCountsCache;
    e2eeKeys: KeysService;
    e2eeCrossSigning: CrossSigningService;
    e2eeKeyBackup: KeyBackupService;
    e2eeApi: E2eeApi;
    deviceListsFeed: DeviceListsFeed;
    keysFeed: KeysFeed;
  }
}

/** Resolved per call: auth and rooms are required modules, registered before any request arrives. */
const authOf = (cradle: Cradle) => (): AuthApi => (cradle as Cradle & { authApi: AuthApi }).authApi;
const roomsOf = (cradle: Cradle) => (): RoomsApi => (cradle as Cradle & { roomsApi: RoomsApi }).roomsApi;

/** End-to-end encryption, server side: keys, cross-signing, device-list tracking, key backup. */
export default defineModule({
  name: 'e2ee',
  description: 'E2EE: /keys upload/query/claim/changes, cross-signing, device lists, /room_keys backups',
  enabledByDefault: true,
  requires: ['auth', 'rooms'],
  migrations: [e2eeMigration],
  register({ container }) {
    container.register({
      e2eeKeysStore: asClass(KeysStore).singleton(),
      e2eeCrossSigningStore: asClass(CrossSigningStore).singleton(),
      e2eeDeviceListsStore: asClass(DeviceListsStore).singleton(),
      e2eeKeyBackupStore: asClass(KeyBackupStore).singleton(),
      e2eeDeviceLists: asFunction(
        (c: Cradle) =>
          new DeviceListsService({
            e2eeDeviceListsStore: c.e2eeDeviceListsStore,
            notifier: c.notifier,
            rooms: roomsOf(container.cradle),
          }),
      ).singleton(),
      e2eeKeyCounts: asFunction(
        (c: Cradle) =>
          new KeyCountsCache({
            load: async (userId, deviceId) => {
              const [oneTimeKeyCounts, unusedFallbackKeyTypes] = await Promise.all([
                c.e2eeKeysStore.oneTimeKeyCounts(userId, deviceId),
                c.e2eeKeysStore.unusedFallbackKeyTypes(userId, deviceId),
              ]);
              return { oneTimeKeyCounts, unusedFallbackKeyTypes };
            },
          }),
      ).singleton(),
      e2eeKeys: asFunction(
        (c: Cradle) =>
          new KeysService({
            e2eeKeysStore: c.e2eeKeysStore,
            e2eeCrossSigningStore: c.e2eeCrossSigningStore,
            e2eeDeviceLists: c.e2eeDeviceLists,
            e2eeKeyCounts: c.e2eeKeyCounts,
            devices: authOf(container.cradle),
            serverName: c.serverName,
          }),
      ).singleton(),
      e2eeCrossSigning: asFunction(
        (c: Cradle) =>
          new CrossSigningService({
            e2eeCrossSigningStore: c.e2eeCrossSigningStore,
            e2eeKeysStore: c.e2eeKeysStore,
            e2eeDeviceLists: c.e2eeDeviceLists,
            devices: authOf(container.cradle),
          }),
      ).singleton(),
      e2eeKeyBackup: asFunction(
        (c: Cradle) => new KeyBackupService({ e2eeKeyBackupStore: c.e2eeKeyBackupStore, db: c.db }),
      ).singleton(),
      e2eeApi: asFunction((c: Cradle): E2eeApi => ({
        markDeviceListChanged: async (userId) => {
          await c.e2eeDeviceLists.deviceChanged(userId);
        },
        isCrossSigningKey: async (userId, deviceId) =>
          [...(await c.e2eeCrossSigningStore.keysOf(userId)).values()].some((k) => k.publicKey === deviceId),
      })).singleton(),
      deviceListsFeed: asFunction((c: Cradle): DeviceListsFeed => c.e2eeDeviceLists).singleton(),
      keysFeed: asFunction((c: Cradle): KeysFeed => ({
        oneTimeKeyCounts: (userId, deviceId) => c.e2eeKeys.oneTimeKeyCounts(userId, deviceId),
        unusedFallbackKeyTypes: (userId, deviceId) => c.e2eeKeys.unusedFallbackKeyTypes(userId, deviceId),
      })).singleton(),
    });
  },
  routes(router, { cradle }) {
    keysRoutes(router, cradle);
    crossSigningRoutes(router, cradle);
    keyBackupRoutes(router, cradle);
  },
  async start(cradle) {
    const auth = authOf(cradle)();
    auth.onDeviceDeleted(async ({ userId, deviceIds }) => {
      await cradle.e2eeKeys.devicesDeleted(userId, deviceIds);
    });
    // The spec's device list changes also when a device is added or renamed; both happen in auth.
    auth.onDeviceCreated(async ({ userId }) => {
      await cradle.e2eeDeviceLists.deviceChanged(userId);
    });
    auth.onDeviceRenamed(async ({ userId }) => {
      await cradle.e2eeDeviceLists.deviceChanged(userId);
    });
    const logger = cradle.logger.child({ module: 'e2ee' });
    cradle.roomsHooks.onEventPersisted(async (event) => {
      if (event.type !== 'm.room.member' || event.stateKey === null || event.membership === null) return;
      try {
        await cradle.e2eeDeviceLists.membershipChanged(event.roomId, event.stateKey, event.membership);
      } catch (err) {
        // The membership itself is persisted; failing it now would only make the client retry a done join.
        logger.error(
          { err, roomId: event.roomId, userId: event.stateKey },
          'device-list membership update failed',
        );
      }
    });
  },
});
