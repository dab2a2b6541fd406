import { aliasTo, asClass, asFunction } from 'awilix';
import type { Cradle } from '../../core/container.js';
import { defineModule } from '../../core/define-module.js';
import type { ToDeviceFeed } from '../sync/api.js';
import type { ToDeviceApi } from './api.js';
import { toDeviceRoutes } from './routes/to-device.routes.js';
import { ToDeviceSyncFeed } from './services/to-device-feed.js';
import { ToDeviceService, type DeviceDirectory } from './services/to-device-service.js';
import { ToDeviceStore } from './store/to-device-store.js';
import { toDeviceMigration } from './store/migrations/20261123000000_to_device.js';

declare module '../../core/container.js' {
  interface Cradle {
    toDeviceStore: ToDeviceStore;
    toDeviceService: ToDeviceService;
    toDeviceApi: ToDeviceApi;
    toDeviceFeed: ToDeviceFeed;
  }
}

/** The auth module's device list when auth is enabled (it registers `authApi`); otherwise undefined. */
function deviceDirectoryOf(cradle: Cradle): () => DeviceDirectory | undefined {
  return () => {
    try {
      return (cradle as Cradle & { authApi?: DeviceDirectory }).authApi;
    } catch {
      return undefined;
    }
  };
}

/** Send-to-device messages: queued per device, delivered by /sync exactly once, deleted when acknowledged. */
export default defineModule({
  name: 'to-device',
  description: 'PUT /sendToDevice/{eventType}/{txnId}; the to_device section of /sync',
  enabledByDefault: true,
  migrations: [toDeviceMigration],
  register({ container }) {
    container.register({
      toDeviceStore: asClass(ToDeviceStore).singleton(),
      toDeviceService: asFunction(
        (cradle: Cradle) =>
          new ToDeviceService({
            toDeviceStore: cradle.toDeviceStore,
            notifier: cradle.notifier,
            serverName: cradle.serverName,
            deviceDirectory: deviceDirectoryOf(container.cradle),
          }),
      ).singleton(),
      toDeviceApi: aliasTo('toDeviceService'),
      toDeviceFeed: asClass(ToDeviceSyncFeed).singleton(),
    });
  },
  routes(router, { cradle }) {
    toDeviceRoutes(router, cradle);
  },
});
