import { asClass, asFunction, asValue } from 'awilix';
import type { Cradle } from '../../core/container.js';
import { defineModule } from '../../core/define-module.js';
import type { PresenceFeed } from '../sync/api.js';
import type { PresenceApi } from './api.js';
import { presenceConfigSchema } from './config.js';
import { presenceRoutes } from './routes/presence.routes.js';
import { PresenceSyncFeed } from './services/presence-feed.js';
import {
  DEFAULT_PRESENCE_SETTINGS,
  PresenceService,
  type PresenceRooms,
  type PresenceSettings,
} from './services/presence-service.js';
import { presenceMigration } from './store/migrations/20261123110000_presence.js';
import { PresenceStore } from './store/presence-store.js';

declare module '../../core/container.js' {
  interface Cradle {
    presenceStore: PresenceStore;
    presenceService: PresenceService;
    presenceRooms: PresenceRooms;
    presenceSettings: PresenceSettings;
    presenceApi: PresenceApi;
    presenceFeed: PresenceFeed;
  }
}

/** Presence (off by default, as in Synapse deployments that turn it off for load): GET/PUT /presence. */
export default defineModule({
  name: 'presence',
  description: 'presence: online/unavailable/offline, status messages, last active (m.presence)',
  enabledByDefault: false,
  requires: ['rooms'],
  config: presenceConfigSchema,
  migrations: [presenceMigration],
  register({ container, config }) {
    container.register({
      presenceSettings: asValue({ ...DEFAULT_PRESENCE_SETTINGS, enabled: config.presence.enabled }),
      presenceStore: asClass(PresenceStore).singleton(),
      presenceRooms: asFunction(({ roomsApi }: Cradle): PresenceRooms => ({
        joinedRooms: (userId) => roomsApi.joinedRooms(userId),
        usersSharingRoomWith: async (userId) => new Set(await roomsApi.usersSharingRoomWith(userId)),
      })).singleton(),
      presenceService: asClass(PresenceService).singleton(),
      presenceApi: asFunction(({ presenceService }: { presenceService: PresenceService }): PresenceApi => ({
        markActive: (userId) => presenceService.markActive(userId),
      })).singleton(),
      presenceFeed: asClass(PresenceSyncFeed).singleton(),
    });
  },
  routes(router, { cradle }) {
    presenceRoutes(router, cradle);
  },
  async start(cradle) {
    const presence = cradle.presenceService;
    if (!presence.enabled) return;
    presence.startSweeper();
    // Sending an event is a pro-active action (spec: Last active ago).
    const local = `:${cradle.serverName}`;
    cradle.roomsHooks.onEventPersisted(async (event) => {
      if (event.sender.endsWith(local)) await presence.markActive(event.sender);
    });
  },
  async stop(cradle) {
    cradle.presenceService.stopSweeper();
  },
});
