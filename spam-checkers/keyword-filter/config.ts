import { Type, type Static } from '../../core/index.js';

export const keywordFilterConfigSchema = Type.Object({
  /** Words refused wherever they appear as whole words (case-insensitive). */
  blocked_words: Type.Array(Type.String({ minLength: 1 }), { default: [] }),
  /** Regular expressions (JavaScript syntax, case-insensitive) refused wherever they match. */
  blocked_patterns: Type.Array(Type.String({ minLength: 1 }), { default: [] }),
  /** Match blocked words inside longer words too ("casino" in "casinos"). */
  match_substrings: Type.Boolean({ default: false }),
  /** Also check the content of state events (room names, topics, …). */
  check_state_events: Type.Boolean({ default: true }),
  /** Also check the name and topic a room is created with. */
  check_room_creation: Type.Boolean({ default: true }),
  /** Server admins are never filtered. */
  exempt_admins: Type.Boolean({ default: false }),
  /** The Matrix error code the client receives. */
  errcode: Type.String({ pattern: '^[A-Za-z][A-Za-z0-9_.]*$', default: 'M_FORBIDDEN' }),
  /** The error message the client receives. */
  error: Type.String({ default: 'This message contains blocked content.' }),
});

export type KeywordFilterConfig = Static<typeof keywordFilterConfigSchema>;
