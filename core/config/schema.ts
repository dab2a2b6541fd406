/**
 * The kernel's own homeserver.yaml keys. Names and meanings follow Synapse wherever it has the same concept,
 * so an operator's existing config carries over. Modules add their keys with their own schemas.
 */
import { Type, type Static } from '@sinclair/typebox';

export const ListenerResourceSchema = Type.Object({
  names: Type.Array(
    Type.Union([
      Type.Literal('client'),
      Type.Literal('federation'),
      Type.Literal('media'),
      Type.Literal('keys'),
      Type.Literal('health'),
      Type.Literal('openid'),
      Type.Literal('metrics'),
      Type.Literal('replication'),
      Type.Literal('static'),
      Type.Literal('consent'),
    ]),
    { minItems: 1 },
  ),
  compress: Type.Optional(Type.Boolean()),
});

/**
 * The resources a listener serves when its config names none, and the ones `generate-config` writes. Nothing
 * serves `federation` yet (the federation module is being built): when it lands, add it here
 * (and to the listener of homeserver.yaml.example).
 */
export const DEFAULT_LISTENER_RESOURCES: readonly ('client' | 'federation')[] = ['client'];

export const ListenerSchema = Type.Object({
  port: Type.Integer({ minimum: 0, maximum: 65535 }),
  bind_addresses: Type.Array(Type.String(), { default: ['::', '0.0.0.0'], minItems: 1 }),
  type: Type.Union([Type.Literal('http'), Type.Literal('metrics'), Type.Literal('manhole')], {
    default: 'http',
  }),
  tls: Type.Boolean({ default: false }),
  x_forwarded: Type.Boolean({ default: false }),
  resources: Type.Array(ListenerResourceSchema, { default: [{ names: [...DEFAULT_LISTENER_RESOURCES] }] }),
});

export const DatabaseSchema = Type.Object(
  {
    name: Type.Union([Type.Literal('sqlite3'), Type.Literal('pg'), Type.Literal('psycopg2')], {
      default: 'sqlite3',
    }),
    args: Type.Object(
      {
        /** sqlite3: the database file; pg: the database name (Synapse's psycopg2 also accepts `dbname`). */
        database: Type.Optional(Type.String({ minLength: 1 })),
        dbname: Type.Optional(Type.String({ minLength: 1 })),
        user: Type.Optional(Type.String()),
        password: Type.Optional(Type.String()),
        host: Type.Optional(Type.String()),
        port: Type.Optional(Type.Integer({ minimum: 1, maximum: 65535 })),
        cp_min: Type.Optional(Type.Integer({ minimum: 0 })),
        cp_max: Type.Optional(Type.Integer({ minimum: 1 })),
        /** pg only: the schema Axon's tables live in (default `public`). */
        schema: Type.Optional(Type.String({ pattern: '^[A-Za-z_][A-Za-z0-9_]*$' })),
        /** sqlite3 only: milliseconds to wait for a lock before failing. */
        busy_timeout: Type.Optional(Type.Integer({ minimum: 0 })),
        /**
         * sqlite3 only: `full` (default) puts every commit on disk before Axon answers; `normal` may lose the
         * last commits on a power cut (never corrupting the file) and spares an fsync per commit.
         */
        synchronous: Type.Optional(Type.Union([Type.Literal('full'), Type.Literal('normal')])),
        /** pg only: libpq's `options`, server settings for each connection (`-c name=value ...`). */
        options: Type.Optional(Type.String()),
      },
      { default: {} },
    ),
  },
  { default: { name: 'sqlite3', args: {} } },
);

export const KernelConfigSchema = Type.Object({
  server_name: Type.String({ minLength: 1 }),
  public_baseurl: Type.Optional(Type.String({ pattern: '^https?://' })),
  serve_server_wellknown: Type.Boolean({ default: false }),
  extra_well_known_client_content: Type.Optional(Type.Record(Type.String(), Type.Unknown())),
  listeners: Type.Array(ListenerSchema, { default: [{ port: 8008 }] }),
  database: DatabaseSchema,
  signing_key_path: Type.Optional(Type.String({ minLength: 1 })),
  tls_certificate_path: Type.Optional(Type.String({ minLength: 1 })),
  tls_private_key_path: Type.Optional(Type.String({ minLength: 1 })),
  pid_file: Type.Optional(Type.String({ minLength: 1 })),
  macaroon_secret_key: Type.Optional(Type.String({ minLength: 1 })),
  form_secret: Type.Optional(Type.String({ minLength: 1 })),
  log_level: Type.Union(
    ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'].map((l) => Type.Literal(l)),
    { default: 'info' },
  ),
  log_config: Type.Optional(Type.String()),
  /** Built-in modules switched on (true) or off (false); unnamed ones keep their default. */
  modules: Type.Record(Type.String(), Type.Boolean(), { default: {} }),
  /** Plugins (spam checkers, password providers), loaded in this order. */
  plugins: Type.Array(
    Type.Object({ module: Type.String({ minLength: 1 }), config: Type.Optional(Type.Unknown()) }),
    { default: [] },
  ),
  /** Prometheus metrics (Synapse's key): served by listeners of `type: metrics`. */
  enable_metrics: Type.Boolean({ default: false }),
  /** Largest JSON request body accepted, in bytes. */
  max_request_body_size: Type.Integer({ minimum: 1024, default: 1048576 }),
});

export type KernelConfig = Static<typeof KernelConfigSchema>;
export type ListenerConfig = Static<typeof ListenerSchema>;
export type DatabaseConfig = Static<typeof DatabaseSchema>;
