/**
 * The identity-proxy keys of homeserver.yaml, with Synapse's names, meanings and defaults: the `email`
 * section (how Axon sends validation mail itself), `account_threepid_delegates`, `registrations_require_3pid`,
 * `allowed_local_3pids`, `enable_3pid_changes` and `request_token_inhibit_3pid_errors`.
 */
import { parseDuration } from '../../core/config/units.js';
import { Type, type Static } from '@sinclair/typebox';
import { BootError } from '../../core/errors.js';
import { rateLimitSchema } from '../../core/http/rate-limit.js';

const Duration = Type.Union([Type.Integer({ minimum: 1 }), Type.String({ pattern: '^\\d+(ms|[smhdwy])?$' })]);
const Medium = Type.Union([Type.Literal('email'), Type.Literal('msisdn')]);

export const EmailConfigSchema = Type.Object({
  smtp_host: Type.String({ minLength: 1, default: 'localhost' }),
  smtp_port: Type.Integer({ minimum: 1, maximum: 65535, default: 25 }),
  smtp_user: Type.Optional(Type.Union([Type.String(), Type.Null()])),
  smtp_pass: Type.Optional(Type.Union([Type.String(), Type.Null()])),
  /** TLS from the first byte (SMTPS, usually port 465) instead of STARTTLS. */
  force_tls: Type.Boolean({ default: false }),
  /** Refuse to send unless STARTTLS succeeds. */
  require_transport_security: Type.Boolean({ default: false }),
  /** Use STARTTLS when the server offers it. */
  enable_tls: Type.Boolean({ default: true }),
  /** The name checked against the SMTP server's certificate (default: smtp_host). */
  tlsname: Type.Optional(Type.Union([Type.String({ minLength: 1 }), Type.Null()])),
  /** The From: header; `%(app)s` is replaced by app_name. Required for email to be enabled. */
  notif_from: Type.Optional(Type.Union([Type.String({ minLength: 3 }), Type.Null()])),
  app_name: Type.String({ minLength: 1, default: 'Matrix' }),
  /** The web client the mails link to (`{{ client_base_url }}` in templates). */
  client_base_url: Type.Optional(Type.Union([Type.String({ pattern: '^https?://' }), Type.Null()])),
  validation_token_lifetime: Type.Union(Duration.anyOf, { default: '1h' }),
  /** A directory of templates overriding the built-in ones file by file. */
  template_dir: Type.Optional(Type.Union([Type.String({ minLength: 1 }), Type.Null()])),
  subjects: Type.Object(
    {
      email_validation: Type.String({ default: '[%(server_name)s] Validate your email' }),
      password_reset: Type.String({ default: '[%(server_name)s] Password reset' }),
      email_already_in_use: Type.String({ default: '[%(server_name)s] Email already in use' }),
    },
    { default: {} },
  ),
});

export const IdentityProxyConfigSchema = Type.Object({
  email: Type.Optional(EmailConfigSchema),
  account_threepid_delegates: Type.Object(
    {
      /** An identity server that validates phone numbers for Axon (Synapse's only delegate). */
      msisdn: Type.Optional(Type.Union([Type.String({ pattern: '^https?://' }), Type.Null()])),
    },
    { default: {} },
  ),
  registrations_require_3pid: Type.Array(Medium, { default: [] }),
  allowed_local_3pids: Type.Array(Type.Object({ medium: Medium, pattern: Type.String({ minLength: 1 }) }), {
    default: [],
  }),
  enable_3pid_changes: Type.Boolean({ default: true }),
  request_token_inhibit_3pid_errors: Type.Boolean({ default: false }),
  /** Synapse's outbound IP filter, shared with federation: identity servers are never reached at these. */
  ip_range_blacklist: Type.Optional(Type.Union([Type.Array(Type.String()), Type.Null()])),
  ip_range_whitelist: Type.Array(Type.String(), { default: [] }),
  /** How long a call to an identity server may take. */
  identity_server_timeout: Type.Union(Duration.anyOf, { default: '10s' }),
  /** PEM files of CAs trusted for identity servers besides the system's. */
  identity_server_custom_ca_list: Type.Array(Type.String({ minLength: 1 }), { default: [] }),
  /** requestToken calls that send mail, per client IP and per address (Synapse's rc_3pid_validation). */
  rc_3pid_validation: rateLimitSchema({ per_second: 0.003, burst_count: 5 }),
});

export type IdentityProxyConfig = Static<typeof IdentityProxyConfigSchema>;
export type EmailConfig = Static<typeof EmailConfigSchema>;

/** The checked, ready-to-use settings. */
export interface IdentityProxySettings {
  /** Null when the `email` section (with notif_from) is absent: no local email validation. */
  readonly email: EmailSettings | null;
  readonly msisdnDelegate: string | null;
  readonly requireEmail: boolean;
  readonly requireMsisdn: boolean;
  readonly allowed: readonly { medium: string; pattern: RegExp }[];
  readonly changesEnabled: boolean;
  readonly inhibitErrors: boolean;
}

export interface EmailSettings {
  readonly config: EmailConfig;
  readonly from: string;
  readonly tokenLifetimeMs: number;
}

export function identityProxySettings(config: IdentityProxyConfig): IdentityProxySettings {
  const email = config.email?.notif_from
    ? {
        config: config.email,
        from: config.email.notif_from.replaceAll('%(app)s', config.email.app_name),
        tokenLifetimeMs: parseDuration(config.email.validation_token_lifetime),
      }
    : null;
  if (config.email && !config.email.notif_from) {
    throw new BootError(
      'AXON_ERR_CONFIG_INVALID',
      'email.notif_from is required when the email section is set',
    );
  }
  const requireEmail = config.registrations_require_3pid.includes('email');
  if (requireEmail && !email) {
    throw new BootError(
      'AXON_ERR_CONFIG_INVALID',
      'registrations_require_3pid names email, but email is not configured (set email.notif_from and smtp_*)',
    );
  }
  const requireMsisdn = config.registrations_require_3pid.includes('msisdn');
  if (requireMsisdn && !config.account_threepid_delegates.msisdn) {
    throw new BootError(
      'AXON_ERR_CONFIG_INVALID',
      'registrations_require_3pid names msisdn, but account_threepid_delegates.msisdn is not set',
    );
  }
  const allowed = config.allowed_local_3pids.map((rule, i) => {
    try {
      return { medium: rule.medium, pattern: new RegExp(rule.pattern) };
    } catch (err) {
      throw new BootError(
        'AXON_ERR_CONFIG_INVALID',
        `allowed_local_3pids[${i}].pattern: ${(err as Error).message}`,
      );
    }
  });
  return {
    email,
    msisdnDelegate: config.account_threepid_delegates.msisdn?.replace(/\/+$/, '') ?? null,
    requireEmail,
    requireMsisdn,
    allowed,
    changesEnabled: config.enable_3pid_changes,
    inhibitErrors: config.request_token_inhibit_3pid_errors,
  };
}
