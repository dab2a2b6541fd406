/**
 * The read-only helpers behind `api.helpers`, backed lazily by services other modules put in the container:
 *
 * - `authApi` (the auth module): `userExists`, `isServerAdmin`, `registerUser`, and `getUser` (for the
 *   account's creation time);
 * - `roomsApi` (the rooms module): `getRoomState`, `getJoinedRooms`.
 *
 * They are looked up on each call, not at boot, so plugins load whichever modules are on; with a module
 * switched off its helpers answer false / empty / null (and `registerUser` rejects).
 */
import type { AxonContainer } from '../container.js';
import type { JsonObject } from '../protocol/pdu.js';
import type { PluginHelpers, RoomStateEntry } from './api.js';

/** What the plugin helpers need from the auth module's `authApi` registration. */
export interface PluginAuthBackend {
  userExists(userId: string): Promise<boolean>;
  isServerAdmin(userId: string): Promise<boolean>;
  registerUser(
    localpart: string,
    options?: { displayName?: string; admin?: boolean; emails?: readonly string[] },
  ): Promise<string>;
  /** The account, for its creation time (ms since the epoch); undefined when never registered. */
  getUser?(userId: string): Promise<{ readonly creationTs: number } | undefined>;
}

/**
 * What the plugin helpers need from the rooms module's `roomsApi` registration. `getRoomState` may answer
 * with state events, or with a map keyed `type + "\u0000" + state_key` to contents (the rooms module's shape).
 */
export interface PluginRoomsBackend {
  getRoomState(roomId: string): Promise<
    | ReadonlyMap<string, Readonly<JsonObject>>
    | readonly {
        readonly type: string;
        readonly state_key?: string;
        readonly content: Readonly<JsonObject>;
      }[]
  >;
  getJoinedRooms(userId: string): Promise<readonly string[]>;
}

export const AUTH_BACKEND = 'authApi';
export const ROOMS_BACKEND = 'roomsApi';

export function createPluginHelpers(container: AxonContainer, serverName: string): PluginHelpers {
  const lookup = <T>(name: string): T | undefined =>
    container.hasRegistration(name) ? container.resolve<T>(name) : undefined;
  const auth = (): PluginAuthBackend | undefined => lookup<PluginAuthBackend>(AUTH_BACKEND);
  const rooms = (): PluginRoomsBackend | undefined => lookup<PluginRoomsBackend>(ROOMS_BACKEND);
  const isLocal = (userId: string): boolean => userId.endsWith(`:${serverName}`);

  return Object.freeze({
    serverName,
    async userExists(userId: string): Promise<boolean> {
      const backend = auth();
      return backend !== undefined && isLocal(userId) && (await backend.userExists(userId));
    },
    async isServerAdmin(userId: string): Promise<boolean> {
      const backend = auth();
      return backend !== undefined && isLocal(userId) && (await backend.isServerAdmin(userId));
    },
    async getUserCreatedAt(userId: string): Promise<number | null> {
      const backend = auth();
      if (!backend?.getUser || !isLocal(userId)) return null;
      return (await backend.getUser(userId))?.creationTs ?? null;
    },
    async getRoomState(roomId: string): Promise<readonly RoomStateEntry[]> {
      const state = await rooms()?.getRoomState(roomId);
      if (state === undefined) return [];
      if (state instanceof Map) {
        return [...(state as ReadonlyMap<string, Readonly<JsonObject>>)].map(([key, content]) => {
          const split = key.indexOf('\u0000');
          return { type: key.slice(0, split), state_key: key.slice(split + 1), content };
        });
      }
      return (state as readonly { type: string; state_key?: string; content: Readonly<JsonObject> }[]).map(
        (e) => ({ type: e.type, state_key: e.state_key ?? '', content: e.content }),
      );
    },
    async getJoinedRooms(userId: string): Promise<readonly string[]> {
      return (await rooms()?.getJoinedRooms(userId)) ?? [];
    },
    async registerUser(
      localpart: string,
      options?: {
        readonly displayName?: string;
        readonly admin?: boolean;
        readonly emails?: readonly string[];
      },
    ): Promise<string> {
      const backend = auth();
      if (!backend) throw new Error('cannot register users: the auth module is switched off');
      return backend.registerUser(localpart, options);
    },
  });
}
