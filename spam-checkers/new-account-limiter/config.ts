import { Type, type Static } from '../../core/index.js';

export const newAccountLimiterConfigSchema = Type.Object({
  /** How long an account counts as new, in minutes after it was created. */
  minutes: Type.Integer({ minimum: 1, default: 60 }),
  /** New accounts may not create rooms. */
  block_room_creation: Type.Boolean({ default: true }),
  /** New accounts may not join rooms they were not invited to (public rooms). */
  block_public_room_joins: Type.Boolean({ default: true }),
  /** New accounts may not send messages containing links. */
  block_links: Type.Boolean({ default: true }),
  /** New accounts may not invite anyone. */
  block_invites: Type.Boolean({ default: false }),
  /** What counts as a link (JavaScript regular expression, case-insensitive). */
  link_pattern: Type.String({
    minLength: 1,
    default: String.raw`\b[a-z][a-z0-9+.-]*://|\bwww\.|\bhref\s*=|\b[a-z0-9-]+\.(?:com|net|org|io|xyz|ru|cn|info|biz|top|link|click|ly|gg|me)\b`,
  }),
  /** Server admins are never limited. */
  exempt_admins: Type.Boolean({ default: true }),
  /** The Matrix error code the client receives. */
  errcode: Type.String({ pattern: '^[A-Za-z][A-Za-z0-9_.]*$', default: 'M_FORBIDDEN' }),
});

export type NewAccountLimiterConfig = Static<typeof newAccountLimiterConfigSchema>;
