import type { Cradle } from '../../../core/container.js';

/**
 * The spec versions Axon serves. A version is listed only once the endpoints it requires are built (outside
 * the optional parts the README's "Spec versions" names; tests/integration/modules/discovery/spec-versions.test.ts checks it);
 * `r0.x` stays for older clients, as Synapse keeps it.
 */
export const SUPPORTED_SPEC_VERSIONS = [
  'r0.0.1',
  'r0.1.0',
  'r0.2.0',
  'r0.3.0',
  'r0.4.0',
  'r0.5.0',
  'r0.6.0',
  'r0.6.1',
  'v1.1',
  'v1.2',
  'v1.3',
  'v1.4',
  'v1.5',
  'v1.6',
  'v1.7',
  'v1.8',
  'v1.9',
  'v1.10',
  'v1.11',
  'v1.12',
  'v1.13',
  'v1.14',
  'v1.15',
  'v1.16',
  'v1.17',
  'v1.18',
  'v1.19',
] as const;

/** What GET /capabilities gathers from other modules; each is optional (its module may be disabled). */
interface AccountCapabilities {
  capabilities(): Readonly<Record<string, unknown>>;
}
interface RoomVersionCapabilities {
  roomVersionsCapability(): { default: string; available: Record<string, string> };
}

export class DiscoveryService {
  private readonly config: Cradle['config'];
  /** Resolves a service by name, or undefined when no enabled module registered it. */
  private readonly optional: <T>(name: string) => T | undefined;
  private readonly defaultIdentityServer: string | undefined;

  constructor({
    config,
    optionalService,
    defaultIdentityServer,
  }: Pick<Cradle, 'config'> & {
    optionalService: <T>(name: string) => T | undefined;
    defaultIdentityServer?: string | undefined;
  }) {
    this.config = config;
    this.optional = optionalService;
    this.defaultIdentityServer = defaultIdentityServer;
  }

  /** GET /capabilities: the account capabilities of the auth module and the room versions of the rooms module. */
  capabilities(): { capabilities: Record<string, unknown> } {
    const account = this.optional<AccountCapabilities>('authApi');
    const rooms = this.optional<RoomVersionCapabilities>('roomsApi');
    return {
      capabilities: {
        ...(account?.capabilities() ?? {}),
        ...(rooms ? { 'm.room_versions': rooms.roomVersionsCapability() } : {}),
      },
    };
  }

  versions(): { versions: readonly string[]; unstable_features: Record<string, boolean> } {
    return { versions: SUPPORTED_SPEC_VERSIONS, unstable_features: {} };
  }

  /** `public_baseurl`, defaulting as Synapse does to https://<server_name>/. */
  publicBaseUrl(): string {
    const base = this.config.public_baseurl ?? `https://${this.config.server_name}/`;
    return base.endsWith('/') ? base : `${base}/`;
  }

  /** /.well-known/matrix/client, or undefined (404) when there is no public_baseurl to advertise. */
  clientWellKnown(): Record<string, unknown> | undefined {
    if (!this.config.public_baseurl) return undefined;
    return {
      ...(this.config.extra_well_known_client_content ?? {}),
      'm.homeserver': { base_url: this.publicBaseUrl() },
      // Synapse's default_identity_server (like it, only advertised when public_baseurl is set)
      ...(this.defaultIdentityServer && { 'm.identity_server': { base_url: this.defaultIdentityServer } }),
    };
  }

  /** /.well-known/matrix/server when `serve_server_wellknown` is on: federation on port 443 of public_baseurl. */
  serverWellKnown(): Record<string, unknown> | undefined {
    if (!this.config.serve_server_wellknown) return undefined;
    const url = new URL(this.publicBaseUrl());
    return { 'm.server': `${url.hostname}:${url.port || 443}` };
  }
}
