import { directoryConfigSchema } from './config.js';
import { DirectoryRules } from './services/directory-rules.js';
import { asClass, asValue } from 'awilix';
import type { Cradle } from '../../core/container.js';
import { defineModule } from '../../core/define-module.js';
import { directoryRoutes } from './routes/directory.routes.js';
import { AliasService } from './services/alias-service.js';
import { PublicRoomsService } from './services/public-rooms-service.js';
import { RemotePublicRoomsService } from './services/remote-public-rooms.js';
import { RoomFacts } from './services/room-facts.js';
import { SpacesService } from './services/spaces-service.js';
import { AliasStore } from './store/alias-store.js';
import { directoryMigrations } from './store/migrations/20261123140000_directory_aliases.js';

declare module '../../core/container.js' {
  interface Cradle {
    directoryAliasStore: AliasStore;
    directoryRoomFacts: RoomFacts;
    directoryAliasService: AliasService;
    directoryPublicRooms: PublicRoomsService;
    directoryRemotePublicRooms: RemotePublicRoomsService;
    directorySpaces: SpacesService;
    directoryRules: DirectoryRules;
  }
}

/** Room aliases, the public room directory, space hierarchies, room summaries and mutual rooms. */
export default defineModule({
  name: 'directory',
  description: 'Aliases, /publicRooms, /directory/list, /hierarchy, /room_summary, /mutual_rooms',
  enabledByDefault: true,
  requires: ['rooms'],
  migrations: directoryMigrations,
  config: directoryConfigSchema,
  register({ container, config }) {
    container.register({
      directoryRules: asValue(new DirectoryRules(config)),
      directoryAliasStore: asClass(AliasStore).singleton(),
      directoryRoomFacts: asClass(RoomFacts).singleton(),
      directoryAliasService: asClass(AliasService).singleton(),
      directoryPublicRooms: asClass(PublicRoomsService).singleton(),
      directoryRemotePublicRooms: asClass(RemotePublicRoomsService).singleton(),
      directorySpaces: asClass(SpacesService).singleton(),
    });
  },
  routes(router, { cradle }) {
    directoryRoutes(router, cradle);
  },
  start(cradle: Cradle) {
    const { roomsHooks, directoryAliasService: aliases } = cradle;
    roomsHooks.addAliasResolver((alias) => aliases.lookup(alias));
    roomsHooks.addCreateRoomValidator(({ creator, request }) => aliases.validateCreate(creator, request));
    roomsHooks.addStateEventValidator(async ({ roomId, type, stateKey, content }) => {
      if (type === 'm.room.canonical_alias' && stateKey === '')
        await aliases.validateCanonicalAlias(roomId, content);
    });
    roomsHooks.onRoomCreated(({ roomId, creator, request }) =>
      aliases.onRoomCreated(roomId, creator, request),
    );
    roomsHooks.onRoomUpgraded(({ oldRoomId, newRoomId, userId }) =>
      aliases.onRoomUpgraded(oldRoomId, newRoomId, userId),
    );
    if (cradle.enabledModules.includes('federation')) {
      // GET /_matrix/federation/v1/query/directory: our aliases, for servers joining through them.
      cradle.federationApi.registerQueryHandler('directory', ({ params }) =>
        aliases.resolveForFederation(params['room_alias']),
      );
    }
    return Promise.resolve();
  },
});
