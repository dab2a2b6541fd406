/**
 * `axon generate-config`: a complete working homeserver.yaml with fresh secrets and a signing key, in the
 * layout of homeserver.yaml.example (which documents every key).
 */
import { randomBytes } from 'node:crypto';
import { stringify } from 'yaml';
import { DEFAULT_LISTENER_RESOURCES } from './schema.js';

export interface GenerateOptions {
  readonly serverName: string;
  readonly dataDir: string;
  readonly port: number;
  /** postgres://user:password@host:port/database?schema=... ; SQLite under dataDir when absent. */
  readonly databaseUrl?: string;
  /** Development configs allow open registration so a fresh install can be tried at once. */
  readonly openRegistration?: boolean;
  readonly bindAddresses?: readonly string[];
}

const secret = (): string => randomBytes(32).toString('base64url');

export function databaseFromUrl(url: string): Record<string, unknown> {
  const u = new URL(url);
  if (u.protocol !== 'postgres:' && u.protocol !== 'postgresql:') {
    throw new Error(`--database-url must be postgres://…, not ${u.protocol}`);
  }
  const args: Record<string, unknown> = { database: decodeURIComponent(u.pathname.slice(1)) || 'synapse' };
  if (u.username) args['user'] = decodeURIComponent(u.username);
  if (u.password) args['password'] = decodeURIComponent(u.password);
  args['host'] = u.hostname || '127.0.0.1';
  if (u.port) args['port'] = Number(u.port);
  const schema = u.searchParams.get('schema');
  if (schema) args['schema'] = schema;
  return { name: 'pg', args };
}

export function generateConfigText(options: GenerateOptions): string {
  const d = options.dataDir.replace(/\/$/, '');
  const database = options.databaseUrl
    ? databaseFromUrl(options.databaseUrl)
    : { name: 'sqlite3', args: { database: `${d}/homeserver.db` } };
  const sections: [string, Record<string, unknown>][] = [
    [
      '# Axon homeserver configuration. Every key is documented in homeserver.yaml.example.\n# Relative paths are resolved against the directory of this file.',
      { server_name: options.serverName, pid_file: `${d}/homeserver.pid` },
    ],
    [
      '# HTTP listeners: the client API on one port; put a TLS reverse proxy in front.',
      {
        listeners: [
          {
            port: options.port,
            bind_addresses: options.bindAddresses ?? ['127.0.0.1'],
            tls: false,
            type: 'http',
            x_forwarded: true,
            resources: [{ names: [...DEFAULT_LISTENER_RESOURCES], compress: false }],
          },
        ],
      },
    ],
    ['# Storage: sqlite3 (embedded) or pg (PostgreSQL, for production).', { database }],
    [
      '# Keys and secrets, generated for this server: keep them private.',
      {
        signing_key_path: `${d}/${options.serverName}.signing.key`,
        registration_shared_secret: secret(),
        macaroon_secret_key: secret(),
        form_secret: secret(),
      },
    ],
    ['# Media', { media_store_path: `${d}/media_store` }],
    [
      '# Registration',
      {
        enable_registration: options.openRegistration ?? false,
        enable_registration_without_verification: options.openRegistration ?? false,
      },
    ],
    ['# Logging: fatal, error, warn, info, debug or trace.', { log_level: 'info' }],
  ];
  return sections.map(([comment, body]) => `${comment}\n${stringify(body)}`).join('\n');
}
