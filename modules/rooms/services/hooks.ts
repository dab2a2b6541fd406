/**
 * Extension points other modules fill in through RoomsApi: profile lookups (auth), alias resolution and
 * the room-creation hook (directory). Each is optional; without one the rooms module behaves sensibly.
 */

export interface Profile {
  readonly displayname?: string | null;
  readonly avatar_url?: string | null;
}

export type ProfileLookup = (userId: string) => Promise<Profile | undefined>;

/** `#alias:server` → room id, or undefined when unknown. */
export type AliasResolver = (alias: string) => Promise<string | undefined>;

/**
 * Called by createRoom after the preset state and before name/topic/invites, with the request body, so
 * the directory can add `m.room.canonical_alias` for `room_alias_name` and publish the room.
 */
export type RoomCreatedHook = (args: {
  readonly roomId: string;
  readonly creator: string;
  readonly request: Readonly<Record<string, unknown>>;
}) => Promise<void>;

/** Validates a create request before anything is written (e.g. `room_alias_name` already taken). */
export type RoomCreateValidator = (args: {
  readonly creator: string;
  readonly request: Readonly<Record<string, unknown>>;
}) => Promise<void>;

/** Validates a state event a local user sends before it is built (e.g. m.room.canonical_alias pointing here). */
export type StateEventValidator = (args: {
  readonly userId: string;
  readonly roomId: string;
  readonly type: string;
  readonly stateKey: string;
  readonly content: Readonly<Record<string, unknown>>;
}) => Promise<void>;

export class RoomHooks {
  profileLookup: ProfileLookup = () => Promise.resolve(undefined);
  aliasResolver: AliasResolver | undefined;
  readonly roomCreated: RoomCreatedHook[] = [];
  readonly createValidators: RoomCreateValidator[] = [];
  readonly stateValidators: StateEventValidator[] = [];
}
