/** The directory module's keys of homeserver.yaml, with Synapse's names and meanings. */
import { Type, type Static } from '@sinclair/typebox';

/** One rule: globs (`*`, `?`; case-insensitive, whole value) over the user, the room id and the alias. */
const DirectoryRule = Type.Object(
  {
    user_id: Type.String({ default: '*' }),
    alias: Type.String({ default: '*' }),
    room_id: Type.String({ default: '*' }),
    action: Type.Union([Type.Literal('allow'), Type.Literal('deny')]),
  },
  { additionalProperties: false },
);

export const directoryConfigSchema = Type.Object({
  /** Who may create which alias: the first matching rule decides, none matching denies (absent: all allowed). */
  alias_creation_rules: Type.Optional(Type.Array(DirectoryRule)),
  /** Who may publish which room to the room directory, matched as alias_creation_rules (absent: all allowed). */
  room_list_publication_rules: Type.Optional(Type.Array(DirectoryRule)),
  /** false: the room directory lists nothing and no room can be published to it (Synapse's key). */
  enable_room_list_search: Type.Boolean({ default: true }),
  /**
   * true: other servers may read the room directory (`/_matrix/federation/v1/publicRooms`); false answers them
   * 403 M_FORBIDDEN (Synapse's key and default).
   */
  allow_public_rooms_over_federation: Type.Boolean({ default: false }),
  /** false: users may create aliases for rooms they are not in (Synapse's key; admins never need to be). */
  require_membership_for_aliases: Type.Boolean({ default: true }),
});
export type DirectoryConfig = Static<typeof directoryConfigSchema>;
export type DirectoryRuleConfig = Static<typeof DirectoryRule>;
