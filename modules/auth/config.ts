/**
 * The auth module's homeserver.yaml keys: Synapse's names, meanings and defaults, so an operator's existing
 * config carries over. Durations are accepted as Synapse accepts them: milliseconds as an integer, or a
 * string such as "5m", "1h", "7d".
 */
import { Type, type Static } from '@sinclair/typebox';
import { DurationSchema, parseDuration, parseSize, SizeSchema } from '../../core/config/units.js';
import { BootError } from '../../core/errors.js';
import { rateLimitSchema } from '../../core/http/rate-limit.js';

const OptionalDuration = Type.Optional(Type.Union([DurationSchema, Type.Null()]));

export const AuthConfigSchema = Type.Object({
  enable_registration: Type.Boolean({ default: false }),
  enable_registration_without_verification: Type.Boolean({ default: false }),
  registration_shared_secret: Type.Optional(Type.Union([Type.String({ minLength: 1 }), Type.Null()])),
  registration_requires_token: Type.Boolean({ default: false }),
  allow_guest_access: Type.Boolean({ default: false }),
  password_config: Type.Object(
    {
      enabled: Type.Union([Type.Boolean(), Type.Literal('only_for_reauth')], { default: true }),
      localdb_enabled: Type.Boolean({ default: true }),
      // Argon2id cost of new hashes (existing hashes verify with the cost written in them). The defaults are
      // libsodium's "interactive" level; lower values only make sense for tests.
      hashing: Type.Object(
        {
          opslimit: Type.Integer({ minimum: 1, default: 2 }),
          memlimit: Type.Union(SizeSchema.anyOf, { default: '64M' }),
        },
        { default: {} },
      ),
      policy: Type.Object(
        {
          enabled: Type.Boolean({ default: false }),
          minimum_length: Type.Integer({ minimum: 0, default: 0 }),
          require_digit: Type.Boolean({ default: false }),
          require_symbol: Type.Boolean({ default: false }),
          require_lowercase: Type.Boolean({ default: false }),
          require_uppercase: Type.Boolean({ default: false }),
        },
        { default: {} },
      ),
    },
    { default: {} },
  ),
  rc_login: Type.Object(
    {
      address: rateLimitSchema({ per_second: 0.003, burst_count: 5 }),
      account: rateLimitSchema({ per_second: 0.003, burst_count: 5 }),
      failed_attempts: rateLimitSchema({ per_second: 0.17, burst_count: 3 }),
    },
    { default: {} },
  ),
  rc_registration: rateLimitSchema({ per_second: 0.17, burst_count: 3 }),
  rc_registration_token_validity: rateLimitSchema({ per_second: 0.1, burst_count: 5 }),
  refreshable_access_token_lifetime: Type.Union([DurationSchema, Type.Null()], { default: '5m' }),
  refresh_token_lifetime: OptionalDuration,
  nonrefreshable_access_token_lifetime: OptionalDuration,
  session_lifetime: OptionalDuration,
  /** GET /profile needs an access token (Synapse's key). */
  require_auth_for_profile_requests: Type.Boolean({ default: false }),
  /** GET /profile of another user needs a joined room in common with them (Synapse's key). */
  limit_profile_requests_to_users_who_share_rooms: Type.Boolean({ default: false }),
  /** false: a display name, once set, can be changed only by a server admin (Synapse's key). */
  enable_set_displayname: Type.Boolean({ default: true }),
  /** false: an avatar, once set, can be changed only by a server admin (Synapse's key). */
  enable_set_avatar_url: Type.Boolean({ default: true }),
  login_via_existing_session: Type.Object(
    {
      enabled: Type.Boolean({ default: false }),
      require_ui_auth: Type.Boolean({ default: true }),
      token_timeout: Type.Union([DurationSchema], { default: '5m' }),
    },
    { default: {} },
  ),
});

export type AuthConfig = Static<typeof AuthConfigSchema>;

export function parseOptionalDuration(value: string | number | null | undefined): number | null {
  return value === null || value === undefined ? null : parseDuration(value);
}

/** Lifetimes in milliseconds (null: never expires), computed once from the config. */
export interface TokenLifetimes {
  readonly refreshableAccessTokenMs: number | null;
  readonly refreshTokenMs: number | null;
  readonly nonrefreshableAccessTokenMs: number | null;
  readonly sessionMs: number | null;
  readonly loginTokenMs: number;
}

export function tokenLifetimes(config: AuthConfig): TokenLifetimes {
  return {
    refreshableAccessTokenMs: parseOptionalDuration(config.refreshable_access_token_lifetime),
    refreshTokenMs: parseOptionalDuration(config.refresh_token_lifetime),
    nonrefreshableAccessTokenMs: parseOptionalDuration(config.nonrefreshable_access_token_lifetime),
    sessionMs: parseOptionalDuration(config.session_lifetime),
    loginTokenMs: parseDuration(config.login_via_existing_session.token_timeout),
  };
}

/** libsodium's crypto_pwhash_MEMLIMIT_MIN. */
const MIN_ARGON2_MEMLIMIT = 8192;

/** Argon2id cost of new password hashes, from password_config.hashing. */
export function passwordHashingCost(config: AuthConfig): { opslimit: number; memlimit: number } {
  const { opslimit, memlimit } = config.password_config.hashing;
  return { opslimit, memlimit: parseSize(memlimit) };
}

/**
 * Synapse refuses to boot with open registration and no verification step unless the operator says so
 * explicitly: open registration without verification is a known spam vector. `requires3pid`: registration
 * must validate a 3PID (Synapse's registrations_require_3pid, served by the identity-proxy module).
 */
export function checkAuthConfig(config: AuthConfig, options: { requires3pid?: boolean } = {}): void {
  if (parseSize(config.password_config.hashing.memlimit) < MIN_ARGON2_MEMLIMIT) {
    throw new BootError(
      'AXON_ERR_CONFIG_INVALID',
      `password_config.hashing.memlimit must be at least ${MIN_ARGON2_MEMLIMIT} bytes (8K), Argon2's minimum`,
    );
  }
  if (
    config.enable_registration &&
    !config.enable_registration_without_verification &&
    !config.registration_requires_token &&
    !options.requires3pid
  ) {
    throw new BootError(
      'AXON_ERR_CONFIG_INVALID',
      'enable_registration is true but no verification is required: open registration without any ' +
        'verification is a known vector for spam and abuse. Require a registration token ' +
        '(registration_requires_token: true) or an email (registrations_require_3pid, identity-proxy), or set enable_registration_without_verification: true to ' +
        'allow it anyway.',
    );
  }
}
