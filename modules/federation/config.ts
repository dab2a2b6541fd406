/**
 * The federation module's homeserver.yaml keys, with Synapse's names, meanings and defaults, so an
 * operator's Synapse config carries over: trusted_key_servers (and Synapse's boot check on them),
 * federation_domain_whitelist, ip_range_blacklist / ip_range_whitelist, federation_verify_certificates,
 * federation_custom_ca_list, key_refresh_interval, old_signing_keys, federation.client_timeout and the
 * outbound retry keys federation.destination_{min,max}_retry_interval / destination_retry_multiplier.
 */
import { Type, type Static } from '@sinclair/typebox';
import { BootError } from '../../core/errors.js';
import { decodeBase64 } from '../../core/protocol/base64.js';
import { isValidServerName } from '../../core/protocol/identifiers.js';
import { DEFAULT_IP_RANGE_BLACKLIST, IpRangeFilter } from '../../core/http/ip-range-filter.js';

const Duration = Type.Union([Type.Integer({ minimum: 0 }), Type.String({ pattern: '^\\d+(ms|[smhdwy])?$' })]);

export const FederationConfigSchema = Type.Object({
  trusted_key_servers: Type.Array(
    Type.Object({
      server_name: Type.String({ minLength: 1 }),
      verify_keys: Type.Optional(Type.Record(Type.String(), Type.String())),
      accept_keys_insecurely: Type.Optional(Type.Boolean()),
    }),
    { default: [{ server_name: 'matrix.org' }] },
  ),
  suppress_key_server_warning: Type.Boolean({ default: false }),
  key_refresh_interval: Type.Union([Duration], { default: '1d' }),
  old_signing_keys: Type.Optional(
    Type.Record(Type.String(), Type.Object({ key: Type.String(), expired_ts: Type.Integer({ minimum: 0 }) })),
  ),
  federation_domain_whitelist: Type.Optional(Type.Union([Type.Array(Type.String()), Type.Null()])),
  federation_verify_certificates: Type.Boolean({ default: true }),
  federation_certificate_verification_whitelist: Type.Array(Type.String({ minLength: 1 }), { default: [] }),
  federation_custom_ca_list: Type.Optional(
    Type.Union([Type.Array(Type.String({ minLength: 1 })), Type.Null()]),
  ),
  ip_range_blacklist: Type.Optional(Type.Union([Type.Array(Type.String()), Type.Null()])),
  ip_range_whitelist: Type.Array(Type.String(), { default: [] }),
  federation: Type.Object(
    {
      client_timeout: Type.Union([Duration], { default: '60s' }),
      destination_min_retry_interval: Type.Union([Duration], { default: '10m' }),
      destination_retry_multiplier: Type.Number({ minimum: 1, default: 2 }),
      destination_max_retry_interval: Type.Union([Duration], { default: '1w' }),
      destination_catch_up_limit: Type.Integer({ minimum: 1, default: 500 }),
    },
    { default: {} },
  ),
});

export type FederationConfig = Static<typeof FederationConfigSchema>;

/** A trusted key server, checked: its pinned keys decoded (undefined: the notary's signature is not checked). */
export interface TrustedKeyServer {
  readonly serverName: string;
  readonly verifyKeys: ReadonlyMap<string, Uint8Array> | undefined;
}

/**
 * Synapse's checks at boot, every problem at once: a trusted key server other than matrix.org without
 * `verify_keys` is refused unless `accept_keys_insecurely` (a compromised notary could otherwise forge every
 * server's keys); keys, server names and IP ranges must parse.
 */
export function checkFederationConfig(config: FederationConfig): TrustedKeyServer[] {
  const problems: string[] = [];
  const servers: TrustedKeyServer[] = [];
  for (const [i, entry] of config.trusted_key_servers.entries()) {
    if (!isValidServerName(entry.server_name)) {
      problems.push(`trusted_key_servers[${i}].server_name "${entry.server_name}" is not a server name`);
    }
    let verifyKeys: Map<string, Uint8Array> | undefined;
    if (entry.verify_keys) {
      verifyKeys = new Map();
      for (const [keyId, text] of Object.entries(entry.verify_keys)) {
        const key = decodeBase64(text);
        if (!keyId.startsWith('ed25519:') || !key || key.length !== 32) {
          problems.push(`trusted_key_servers[${i}].verify_keys["${keyId}"] is not an ed25519 key in base64`);
        } else verifyKeys.set(keyId, key);
      }
    } else if (entry.server_name !== 'matrix.org' && entry.accept_keys_insecurely !== true) {
      problems.push(
        `trusted_key_servers[${i}] (${entry.server_name}) has no verify_keys: a compromised key server could ` +
          'then impersonate every server. Give its verify_keys, or set accept_keys_insecurely: true',
      );
    }
    servers.push({ serverName: entry.server_name, verifyKeys });
  }
  for (const [keyId, old] of Object.entries(config.old_signing_keys ?? {})) {
    const key = decodeBase64(old.key);
    if (!/^ed25519:[A-Za-z0-9_]+$/.test(keyId) || !key || key.length !== 32) {
      problems.push(`old_signing_keys["${keyId}"] is not an ed25519 key id with a base64 public key`);
    }
  }
  for (const [i, name] of (config.federation_domain_whitelist ?? []).entries()) {
    if (!isValidServerName(name))
      problems.push(`federation_domain_whitelist[${i}] "${name}" is not a server name`);
  }
  try {
    ipRangeFilter(config);
  } catch (err) {
    problems.push(`ip_range_blacklist / ip_range_whitelist: ${(err as Error).message}`);
  }
  if (problems.length > 0) throw new BootError('AXON_ERR_CONFIG_INVALID', 'federation config', problems);
  return servers;
}

/**
 * federation_certificate_verification_whitelist as Synapse matches it: whole names, case-insensitive, `*`
 * matching any run of characters (`*.onion`, `*.example.com`).
 */
export function certificateVerificationSkipper(patterns: readonly string[]): (name: string) => boolean {
  if (patterns.length === 0) return () => false;
  const regexes = patterns.map(
    (p) =>
      new RegExp(
        `^${p
          .split('*')
          .map((part) => part.replace(/[.*+?^${}()|[\]\\]/g, '\\$&'))
          .join('.*')}$`,
        'i',
      ),
  );
  return (name) => regexes.some((r) => r.test(name));
}

/** The outbound IP filter: Synapse's private-range default when `ip_range_blacklist` is absent. */
export function ipRangeFilter(config: FederationConfig): IpRangeFilter {
  return new IpRangeFilter(
    config.ip_range_blacklist ?? DEFAULT_IP_RANGE_BLACKLIST,
    config.ip_range_whitelist,
  );
}
