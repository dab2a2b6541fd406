import { asFunction } from 'awilix';
import { Type } from '@sinclair/typebox';
import type { Cradle } from '../../core/container.js';
import { defineModule } from '../../core/define-module.js';
import { DEFAULT_ROOM_VERSION } from '../../core/protocol/room-versions.js';
import { RoomsApiImpl, type RoomsApi } from './api.js';
import { roomsRoutes } from './routes/rooms.routes.js';
import { createRoomsServices, type RoomsServices } from './services/rooms-services.js';
import { roomsMigrations } from './store/migrations/001-rooms-dag.js';

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

/** The subset of the auth module's API the rooms module listens to (resolved lazily; optional). */
interface AuthApiHooks {
  onProfileChanged?(listener: (change: { userId: string }) => Promise<void> | void): void;
  onUserDeactivated?(listener: (change: { userId: string } | string) => Promise<void> | void): void;
  getProfile?(
    userId: string,
  ): Promise<{ displayname?: string | null; avatar_url?: string | null } | undefined | null>;
}

/** Rooms: the event DAG, creating rooms, membership, sending and reading events, redactions, upgrades. */
export default defineModule({
  name: 'rooms',
  description: 'Rooms: createRoom, membership, send/state/messages/context/relations/redact/upgrade',
  enabledByDefault: true,
  requires: ['auth'],
  config: roomsConfigSchema,
  migrations: roomsMigrations,
  register({ container, config }) {
    container.register({
      roomsServices: asFunction((cradle: Cradle) =>
        createRoomsServices(cradle, { defaultRoomVersion: config.default_room_version }),
      ).singleton(),
      roomsApi: asFunction(
        ({ roomsServices }: { roomsServices: RoomsServices }) => new RoomsApiImpl(roomsServices),
      ).singleton(),
    });
  },
  routes(router, { cradle }) {
    roomsRoutes(router, cradle);
  },
  async start(cradle) {
    const auth = authApiOf(cradle as unknown as Record<string, unknown>);
    if (!auth) return;
    const { membership, hooks } = cradle.roomsServices;
    if (auth.getProfile) {
      const getProfile = auth.getProfile.bind(auth);
      hooks.profileLookup = async (userId) => (await getProfile(userId)) ?? undefined;
    }
    auth.onProfileChanged?.(async (change) => {
      await membership.updateProfileInRooms(change.userId);
    });
    auth.onUserDeactivated?.(async (change) => {
      await cradle.roomsApi.leaveAllRooms(typeof change === 'string' ? change : change.userId);
    });
  },
});

function authApiOf(cradle: Record<string, unknown>): AuthApiHooks | undefined {
  try {
    const api = cradle['authApi'];
    return typeof api === 'object' && api !== null ? api : undefined;
  } catch {
    return undefined; // the auth module registers no authApi (yet)
  }
}
