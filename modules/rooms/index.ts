import { asFunction } from 'awilix';
import { Type } from '@sinclair/typebox';
import type { Cradle } from '../../core/container.js';
import { defineModule } from '../../core/define-module.js';
import { DEFAULT_ROOM_VERSION } from '../../core/protocol/room-versions.js';
import { RoomsApiImpl, type RoomsApi } from './api.js';
import { roomsRoutes } from './routes/rooms.routes.js';
import { createRoomsServices, type RoomsServices } from './services/rooms-services.js';
import { roomsDagMigration } from './store/migrations/20261123130000_rooms_dag.js';
import { membershipEventsIndexMigration } from './store/migrations/20261123160000_membership_events_index.js';

declare module '../../core/container.js' {
  interface Cradle {
    roomsServices: RoomsServices;
    roomsApi: RoomsApi;
  }
}

export const roomsConfigSchema = Type.Object({
  /** The room version of new rooms (Synapse's `default_room_version`). */
  default_room_version: Type.String({ default: DEFAULT_ROOM_VERSION }),
});

/** Rooms: the event DAG, creating rooms, membership, sending and reading events, redactions, upgrades. */
export default defineModule({
  name: 'rooms',
  description: 'Rooms: createRoom, membership, send/state/messages/context/relations/redact/upgrade',
  enabledByDefault: true,
  requires: ['auth'],
  config: roomsConfigSchema,
  migrations: [roomsDagMigration, membershipEventsIndexMigration],
  register({ container, config }) {
    container.register({
      roomsServices: asFunction((cradle: Cradle) =>
        createRoomsServices(cradle, { defaultRoomVersion: config.default_room_version }),
      ).singleton(),
      roomsApi: asFunction(
        ({ roomsServices }: { roomsServices: RoomsServices }) =>
          new RoomsApiImpl(roomsServices, config.default_room_version),
      ).singleton(),
    });
  },
  routes(router, { cradle }) {
    roomsRoutes(router, cradle);
  },
  async start(cradle) {
    const { authApi, roomsServices } = cradle;
    roomsServices.hooks.profileLookup = async (userId) => {
      const profile = await authApi.getProfile(userId);
      if (!profile) return undefined;
      const displayname = profile['displayname'];
      const avatarUrl = profile['avatar_url'];
      return {
        displayname: typeof displayname === 'string' ? displayname : null,
        avatar_url: typeof avatarUrl === 'string' ? avatarUrl : null,
      };
    };
    authApi.onProfileChanged(async (change) => {
      if (change.field !== 'displayname' && change.field !== 'avatar_url') return;
      await roomsServices.membership.updateProfileInRooms(change.userId);
    });
    authApi.onUserDeactivated(async ({ userId }) => {
      await cradle.roomsApi.leaveAllRooms(userId);
    });
  },
});
