/** The rooms module's keys of homeserver.yaml, with Synapse's names and meanings. */
import { Type, type Static } from '@sinclair/typebox';
import { DEFAULT_ROOM_VERSION } from '../../core/protocol/room-versions.js';

const Preset = Type.Union([
  Type.Literal('public_chat'),
  Type.Literal('private_chat'),
  Type.Literal('trusted_private_chat'),
]);

// The keys after default_room_version are Optional in the static type (their defaults still apply at
// boot), so tests that hand the module a config object need not spell every key.
export const roomsConfigSchema = Type.Object({
  /** The room version of new rooms (Synapse's `default_room_version`). */
  default_room_version: Type.String({ default: DEFAULT_ROOM_VERSION }),
  /** `all` new rooms, `invite` (private_chat and trusted_private_chat) or `off`: start with m.room.encryption. */
  encryption_enabled_by_default_for_room_type: Type.Optional(
    Type.Union([Type.Literal('all'), Type.Literal('invite'), Type.Literal('off')], { default: 'off' }),
  ),
  /** Only server admins may invite (403 "Invites have been disabled on this server" for others). */
  block_non_admin_invites: Type.Optional(Type.Boolean({ default: false })),
  /** Rooms are forgotten for a local user as soon as they leave them (leave, kick or ban). */
  forget_rooms_on_leave: Type.Optional(Type.Boolean({ default: false })),
  /** Aliases (`#room:server`) every newly registered user joins. */
  auto_join_rooms: Type.Optional(Type.Array(Type.String({ pattern: '^#' }), { default: [] })),
  /** Create an auto-join room (with its alias) when it does not exist yet, if the alias is this server's. */
  autocreate_auto_join_rooms: Type.Optional(Type.Boolean({ default: true })),
  /** Who creates auto-join rooms: this local user (created if absent), else the first user to register. */
  auto_join_mxid_localpart: Type.Optional(Type.String({ minLength: 1 })),
  /** The preset of auto-created rooms (invite-only presets need auto_join_mxid_localpart to invite users). */
  autocreate_auto_join_room_preset: Type.Optional(Type.Union([Preset], { default: 'public_chat' })),
  /** Whether auto-created rooms may federate (`m.federate` in their creation content). */
  autocreate_auto_join_rooms_federated: Type.Optional(Type.Boolean({ default: true })),
});
export type RoomsConfig = Static<typeof roomsConfigSchema>;
