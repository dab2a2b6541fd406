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
});
export type DirectoryConfig = Static<typeof directoryConfigSchema>;
export type DirectoryRuleConfig = Static<typeof DirectoryRule>;
