import { Type, type Static } from '../../core/index.js';

export const registrationGuardConfigSchema = Type.Object({
  /** Usernames (localparts) matching one of these regular expressions are refused (DENY). */
  blocked_username_patterns: Type.Array(Type.String({ minLength: 1 }), { default: [] }),
  /**
   * Usernames matching one of these are shadow-banned (SHADOW_BAN): the registration looks successful,
   * but nothing the account sends reaches anyone.
   */
  shadow_ban_username_patterns: Type.Array(Type.String({ minLength: 1 }), { default: [] }),
  /** E-mail domains (`*` wildcards allowed) whose addresses may not register (DENY). */
  blocked_email_domains: Type.Array(Type.String({ minLength: 1 }), { default: [] }),
});

export type RegistrationGuardConfig = Static<typeof registrationGuardConfigSchema>;
