/**
 * Starts a real Axon kernel in-process on a random port (127.0.0.1, port 0) with a fresh database, for
 * integration tests that speak HTTP to it as a client would. Stopped when the test ends.
 */
import type { Logger } from 'pino';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Test } from 'tap';
import type { DatabaseConfig } from '../../core/config/schema.js';
import type { AnyModuleDefinition } from '../../core/define-module.js';
import { Kernel } from '../../core/kernel.js';
import { createLogger } from '../../core/logger.js';
import { builtinModules } from '../../modules/index.js';
import { copySqliteTemplate, modulesToMigrate } from './template-database.js';
import { freshDatabase, isFreshSqliteDatabase, type EngineName } from './with-all-databases.js';

/**
 * Synapse's per-action limits (rc_message, rc_joins, …) raised out of reach, so that suites sending many
 * messages test behaviour rather than rate limits; tests/integration/modules/rate-limits restores a key to
 * prove its default behaviour.
 */
const unlimited = { per_second: 10_000, burst_count: 10_000 };
export const TEST_RATE_LIMITS = {
  rc_message: unlimited,
  rc_joins: { local: unlimited, remote: unlimited },
  rc_joins_per_room: unlimited,
  rc_invites: { per_room: unlimited, per_user: unlimited, per_issuer: unlimited },
  rc_admin_redaction: unlimited,
  rc_key_requests: unlimited,
  rc_media_create: unlimited,
  rc_presence: { per_user: unlimited },
} as const;

export interface StartOptions {
  /** Extra or overriding homeserver.yaml keys. */
  readonly config?: Record<string, unknown>;
  readonly engine?: EngineName;
  readonly database?: DatabaseConfig;
  readonly modules?: readonly AnyModuleDefinition[];
  readonly serverName?: string;
  /** Keep Synapse's default rc_message, rc_joins, … instead of TEST_RATE_LIMITS. */
  readonly defaultRateLimits?: boolean;
  /** The kernel's logger (default: silent, or AXON_TEST_LOG's level). */
  readonly logger?: Logger;
}

export interface TestServer {
  readonly kernel: Kernel;
  readonly baseUrl: string;
  readonly serverName: string;
  readonly dataDir: string;
  /** fetch() against the server with JSON in and out. */
  request(method: string, path: string, options?: RequestOptions): Promise<TestResponse>;
  stop(): Promise<void>;
}

export interface RequestOptions {
  readonly body?: unknown;
  /** A raw body sent as is (bytes or text). */
  readonly rawBody?: string | Uint8Array;
  readonly token?: string;
  readonly headers?: Record<string, string>;
}

export interface TestResponse {
  readonly status: number;
  readonly headers: Headers;
  // Tests read arbitrary JSON shapes; `any` keeps assertions terse.
  // eslint-disable-next-line @typescript-eslint/no-explicit-any
  readonly body: any;
  readonly text: string;
}

export async function startServer(t: Test, options: StartOptions = {}): Promise<TestServer> {
  const dataDir = await mkdtemp(join(tmpdir(), 'axon-test-'));
  const serverName = options.serverName ?? 'test.local';
  const modules = options.modules ?? builtinModules;
  const database = options.database ?? (await freshDatabase(t, options.engine ?? 'sqlite'));
  await startFromTemplate(database, modules, options.config);
  const kernel = await Kernel.boot({
    config: {
      server_name: serverName,
      listeners: [
        { port: 0, bind_addresses: ['127.0.0.1'], resources: [{ names: ['client', 'federation', 'media'] }] },
      ],
      database,
      signing_key_path: join(dataDir, 'signing.key'),
      media_store_path: join(dataDir, 'media'),
      log_level: process.env['AXON_TEST_LOG'] ?? 'silent',
      ...(options.defaultRateLimits ? {} : TEST_RATE_LIMITS),
      ...options.config,
      password_config: withCheapHashing(options.config?.['password_config']),
    },
    configDir: dataDir,
    modules,
    logger: options.logger ?? createLogger(process.env['AXON_TEST_LOG'] ?? 'silent'),
  });
  const baseUrl = kernel.baseUrl();
  let stopped = false;
  const stop = async (): Promise<void> => {
    if (stopped) return;
    stopped = true;
    await kernel.stop(1000);
    await rm(dataDir, { recursive: true, force: true });
  };
  t.teardown(stop);
  return {
    kernel,
    baseUrl,
    serverName,
    dataDir,
    stop,
    request: (method, path, opts = {}) => request(baseUrl, method, path, opts),
  };
}

/**
 * Creates a server's SQLite database as a copy of the template that already holds its modules' migrations
 * (template-database.ts), when the database is one freshDatabase made and nothing has created its file yet,
 * the config names no other database, and every module with migrations is a built-in one (a test's own
 * module may record that its migration ran). Otherwise the kernel migrates at boot, as it always does.
 */
async function startFromTemplate(
  database: DatabaseConfig,
  modules: readonly AnyModuleDefinition[],
  config: Record<string, unknown> | undefined,
): Promise<void> {
  if (!isFreshSqliteDatabase(database) || config?.['database'] !== undefined) return;
  if (!modules.every((m) => !m.migrations?.length || BUILTIN.has(m))) return;
  const toMigrate = modulesToMigrate(modules, config?.['modules']);
  if (toMigrate) await copySqliteTemplate(toMigrate, database.args.database!);
}

const BUILTIN: ReadonlySet<AnyModuleDefinition> = new Set(builtinModules);

/**
 * Argon2id at its minimum cost (1 pass, 8 KiB) unless a test sets its own: hashing at production cost was
 * most of the suite's time. What a test asserts about passwords does not depend on the cost.
 */
export const TEST_PASSWORD_HASHING = { opslimit: 1, memlimit: '8K' } as const;

function withCheapHashing(passwordConfig: unknown): Record<string, unknown> {
  const given = (passwordConfig ?? {}) as Record<string, unknown>;
  return { ...given, hashing: given['hashing'] ?? TEST_PASSWORD_HASHING };
}

export async function request(
  baseUrl: string,
  method: string,
  path: string,
  opts: RequestOptions = {},
): Promise<TestResponse> {
  const headers: Record<string, string> = { ...opts.headers };
  let body: string | Uint8Array | undefined;
  if (opts.rawBody !== undefined) body = opts.rawBody;
  else if (opts.body !== undefined) {
    body = JSON.stringify(opts.body);
    headers['content-type'] ??= 'application/json';
  }
  if (opts.token) headers['authorization'] = `Bearer ${opts.token}`;
  const res = await fetch(baseUrl + path, { method, headers, body });
  const text = await res.text();
  let parsed: unknown;
  try {
    parsed = text === '' ? undefined : JSON.parse(text);
  } catch {
    parsed = undefined;
  }
  return { status: res.status, headers: res.headers, body: parsed, text };
}
