/**
 * Boot: config -> container -> modules (register, migrate, start) -> listeners; and the graceful stop that
 * mirrors it (listeners, modules in reverse, container, database).
 */
import { readFile, rm, writeFile } from 'node:fs/promises';
import { dirname, isAbsolute, resolve } from 'node:path';
import { asValue } from 'awilix';
import type { Knex } from 'knex';
import type { Logger } from 'pino';
import { validateConfig, type ValidatedConfig } from './config/compose.js';
import { inlineConfig, loadConfigFile, type LoadedConfig } from './config/load.js';
import { createAxonContainer, type AxonContainer } from './container.js';
import type { AnyModuleDefinition } from './define-module.js';
import { BootError } from './errors.js';
import { buildApp } from './http/app.js';
import { AxonMetrics, MeteredNotifier } from './http/metrics.js';
import { setMaxJsonBodySize } from './http/body.js';
import {
  checkListenersCanBind,
  closeServer,
  formatHost,
  listen,
  listenError,
  type OpenListener,
  type PlannedListener,
} from './http/listeners.js';
import { RouterRegistry } from './http/router-registry.js';
import { createLogger } from './logger.js';
import { loadLogConfig } from './logging/log-config.js';
import { createConfiguredLogger, type ConfiguredLogger } from './logging/log-router.js';
import { orderModules } from './modules.js';
import { InProcessNotifier } from './notifier/in-process.js';
import { loadOrCreateSigningKey } from './signing-key-file.js';
import { openDatabase } from './storage/database.js';
import type { DatabaseConfig } from './config/schema.js';
import { preparePlugins, registerPlugins } from './plugins/load.js';
import { PasswordProviderRegistry } from './plugins/registry/password-provider.js';
import { SpamCheckerRegistry } from './plugins/registry/spam-checker.js';
import { migrateToLatest } from './storage/migrate.js';

export interface BootOptions {
  /** Path of homeserver.yaml. */
  readonly configPath?: string;
  /** A config given as data (tests); relative paths resolve against `configDir`. */
  readonly config?: Record<string, unknown>;
  readonly configDir?: string;
  /**
   * The modules to choose from (`modules:` in the config switches them on and off). The kernel knows none by
   * itself: the entry point (modules/main.ts) passes the built-in list.
   */
  readonly modules: readonly AnyModuleDefinition[];
  readonly logger?: Logger;
  /** false: boot everything but open no listener (CLI commands such as `migrate`). */
  readonly listen?: boolean;
}

export class Kernel {
  private stopping: Promise<void> | undefined;

  private constructor(
    readonly container: AxonContainer,
    readonly config: ValidatedConfig,
    readonly modules: readonly AnyModuleDefinition[],
    readonly listeners: readonly OpenListener[],
    private readonly shutdown: AbortController,
    private readonly pidFile: string | undefined,
    private readonly logging: ConfiguredLogger,
  ) {}

  static async boot(options: BootOptions): Promise<Kernel> {
    const loaded: LoadedConfig = options.configPath
      ? await loadConfigFile(options.configPath)
      : inlineConfig(options.config ?? {});
    const configDir = options.configPath
      ? dirname(resolve(options.configPath))
      : resolve(options.configDir ?? '.');
    const config = validateConfig(loaded, options.modules);
    const logging = options.logger
      ? { logger: options.logger, close: () => undefined }
      : await createKernelLogger(config, configDir);
    try {
      return await Kernel.bootWith(options, loaded, configDir, config, logging);
    } catch (err) {
      logging.close(); // a boot failure is printed by the CLI; the log files are flushed and closed
      throw err;
    }
  }

  private static async bootWith(
    options: BootOptions,
    loaded: LoadedConfig,
    configDir: string,
    config: ValidatedConfig,
    logging: ConfiguredLogger,
  ): Promise<Kernel> {
    const logger = logging.logger;
    for (const warning of config.warnings) logger.warn(warning);
    const modules = orderModules(config.enabledModules, options.modules);
    setMaxJsonBodySize(config.kernel.max_request_body_size);
    // Plugins are imported and their configs validated before anything touches the disk or the database.
    const plugins = await preparePlugins(config.kernel.plugins, { configDir, logger, source: loaded });

    // Ports and the database are checked before anything is written or migrated: one line each on failure.
    if (options.listen !== false) await checkListenersCanBind(plannedListeners(config));

    const signingKey = await loadOrCreateSigningKey(
      resolvePath(configDir, config.kernel.signing_key_path ?? `${config.kernel.server_name}.signing.key`),
      logger,
    );
    const db = await openDatabase(config.kernel.database, configDir);
    await checkDatabase(db, config.kernel.database);
    logStatements(db, logger);
    const metrics = config.kernel.enable_metrics ? new AxonMetrics(db) : undefined;
    const notifier = new InProcessNotifier();
    const shutdown = new AbortController();
    const container = createAxonContainer();
    container.register({
      config: asValue(config.kernel),
      rawConfig: asValue(config.whole),
      configDir: asValue(configDir),
      serverName: asValue(config.kernel.server_name),
      logger: asValue(logger),
      db: asValue(db),
      notifier: asValue(metrics ? new MeteredNotifier(notifier, metrics) : notifier),
      signingKey: asValue(signingKey),
      shutdownSignal: asValue(shutdown.signal),
      enabledModules: asValue(modules.map((m) => m.name)),
      spamCheckers: asValue(
        new SpamCheckerRegistry({ logger: logger.child({ component: 'spam-checkers' }) }),
      ),
      passwordProviders: asValue(
        new PasswordProviderRegistry({ logger: logger.child({ component: 'password-providers' }) }),
      ),
    });

    const registry = new RouterRegistry();
    registry.add('kernel', 'GET', '/health', { resources: ['health'] }, async (ctx) => {
      ctx.type = 'text/plain';
      ctx.body = 'OK';
    });
    const started: AnyModuleDefinition[] = [];
    const openListeners: OpenListener[] = [];
    try {
      for (const module of modules) {
        const moduleConfig = config.moduleConfigs.get(module.name) ?? {};
        module.register({ container, config: moduleConfig, logger: logger.child({ module: module.name }) });
        module.routes?.(registry.forModule(module.name), { cradle: container.cradle, config: moduleConfig });
      }
      await migrateToLatest(db, modules, logger);
      for (const module of modules) {
        await module.start?.(container.cradle);
        started.push(module);
      }
      await registerPlugins(container, plugins, { source: loaded }); // after modules (their helpers), before listeners
      if (options.listen !== false) {
        openListeners.push(
          ...(await openAllListeners(container, registry, config, configDir, logger, metrics)),
        );
      }
    } catch (err) {
      for (const l of openListeners) await closeServer(l.server, 0);
      await stopModules(started, container, logger);
      await db.destroy();
      throw err;
    }
    const pidFile = config.kernel.pid_file ? resolvePath(configDir, config.kernel.pid_file) : undefined;
    if (pidFile) await writeFile(pidFile, `${process.pid}\n`);
    logger.info(
      { modules: modules.map((m) => m.name), server_name: config.kernel.server_name },
      'Axon started',
    );
    return new Kernel(container, config, modules, openListeners, shutdown, pidFile, logging);
  }

  get db(): Knex {
    return this.container.cradle.db;
  }

  /** Base URL of the first listener (tests and the CLI's start message). */
  baseUrl(): string {
    const first = this.listeners[0];
    if (!first) throw new Error('no listener is open');
    const host = first.address === '::' || first.address === '0.0.0.0' ? '127.0.0.1' : first.address;
    return `http://${formatHost(host)}:${first.port}`;
  }

  /** Graceful stop: stop accepting, finish in-flight requests, stop modules, close the database. */
  stop(graceMs = 10_000): Promise<void> {
    this.stopping ??= (async () => {
      const logger = this.container.cradle.logger;
      this.shutdown.abort();
      await Promise.all(this.listeners.map((l) => closeServer(l.server, graceMs)));
      await stopModules(this.modules, this.container, logger);
      const db = this.container.cradle.db;
      await this.container.dispose();
      await db.destroy();
      if (this.pidFile) await rm(this.pidFile, { force: true });
      logger.info('Axon stopped');
      this.logging.close();
    })();
    return this.stopping;
  }
}

async function stopModules(
  modules: readonly AnyModuleDefinition[],
  container: AxonContainer,
  logger: Logger,
): Promise<void> {
  for (const module of [...modules].reverse()) {
    try {
      await module.stop?.(container.cradle);
    } catch (err) {
      logger.error({ err, module: module.name }, 'module failed to stop cleanly');
    }
  }
}

async function openAllListeners(
  container: AxonContainer,
  registry: RouterRegistry,
  config: ValidatedConfig,
  configDir: string,
  logger: Logger,
  metrics: AxonMetrics | undefined,
): Promise<OpenListener[]> {
  const { kernel } = config;
  const tls = kernel.listeners.some((l) => l.tls) ? await loadTls(kernel, configDir) : undefined;
  const open: OpenListener[] = [];
  try {
    for (const [i, listener] of kernel.listeners.entries()) {
      if (listener.type === 'metrics' && !metrics) {
        logger.warn(`listeners[${i}]: a metrics listener needs enable_metrics: true; skipped`);
        continue;
      }
      if (listener.type !== 'http' && listener.type !== 'metrics') {
        logger.warn(`listeners[${i}]: type "${listener.type}" is not supported by Axon; skipped`);
        continue;
      }
      const resources = new Set<string>(['health', ...listener.resources.flatMap((r) => r.names)]);
      const app =
        listener.type === 'metrics' && metrics
          ? metrics.app()
          : buildApp(container, registry, {
              resources,
              xForwarded: listener.x_forwarded,
              listenerName: `${i}:${listener.port}`,
              metrics,
            });
      try {
        open.push(
          ...(await listen(
            app,
            {
              port: listener.port,
              bindAddresses: listener.bind_addresses,
              tls: listener.tls ? tls : undefined,
            },
            logger,
          )),
        );
      } catch (err) {
        // Taken between the boot check and now: the same one-line error.
        const planned = { index: i, port: listener.port, bindAddresses: listener.bind_addresses };
        throw listenError(err, planned, listener.bind_addresses.join(', '));
      }
    }
  } catch (err) {
    for (const l of open) await closeServer(l.server, 0);
    throw err;
  }
  return open;
}

async function loadTls(
  kernel: ValidatedConfig['kernel'],
  configDir: string,
): Promise<{ cert: Buffer; key: Buffer }> {
  if (!kernel.tls_certificate_path || !kernel.tls_private_key_path) {
    throw new BootError(
      'AXON_ERR_TLS',
      'a listener has tls: true, so tls_certificate_path and tls_private_key_path must both be set',
    );
  }
  try {
    return {
      cert: await readFile(resolvePath(configDir, kernel.tls_certificate_path)),
      key: await readFile(resolvePath(configDir, kernel.tls_private_key_path)),
    };
  } catch (err) {
    throw new BootError('AXON_ERR_TLS', `cannot read the TLS certificate or key: ${(err as Error).message}`);
  }
}

function plannedListeners(config: ValidatedConfig): PlannedListener[] {
  return config.kernel.listeners.flatMap((l, index) =>
    l.type === 'http' || (l.type === 'metrics' && config.kernel.enable_metrics)
      ? [{ index, port: l.port, bindAddresses: l.bind_addresses }]
      : [],
  );
}

/**
 * One round trip to the database, so that a PostgreSQL that refuses, lacks the database or the role is one
 * line naming the key to fix, not a stack trace from the first migration. Closes the pool on failure.
 */
async function checkDatabase(db: Knex, database: DatabaseConfig): Promise<void> {
  // knex logs every failed connection attempt with its stack ("Acquire connection error"): this probe's
  // failure is reported below in one line instead.
  const knexLogger = (db.client as { logger: { warn: (message: string) => void } }).logger;
  const warn = knexLogger.warn;
  knexLogger.warn = () => undefined;
  try {
    await db.raw('select 1');
  } catch (err) {
    await db.destroy().catch(() => undefined);
    const e = err as { code?: string; message?: string };
    const args = database.args;
    if (database.name === 'sqlite3') {
      throw new BootError(
        'AXON_ERR_DATABASE',
        `database.args.database: cannot open the SQLite file ${args.database ?? 'homeserver.db'} (${e.message ?? e.code}): check the path and that this user may write its folder`,
      );
    }
    const host = `${args.host ?? '127.0.0.1'}:${args.port ?? 5432}`;
    const name = args.database ?? args.dbname ?? 'synapse';
    const user = args.user ?? 'the current user';
    const message =
      e.code === 'ECONNREFUSED'
        ? `database.args.host/port: PostgreSQL at ${host} refused the connection: start PostgreSQL, or fix database.args.host and database.args.port`
        : e.code === 'ENOTFOUND' || e.code === 'EAI_AGAIN'
          ? `database.args.host: the PostgreSQL host of ${host} is unknown: fix database.args.host`
          : e.code === '3D000'
            ? `database.args.database: PostgreSQL at ${host} has no database "${name}": create it (createdb --encoding=UTF8 --locale=C --template=template0 --owner=${user} ${name}), or fix database.args.database`
            : e.code === '28P01' || e.code === '28000'
              ? `database.args.user/password: PostgreSQL at ${host} refused user "${user}" (${e.message}): fix database.args.user and database.args.password, or pg_hba.conf`
              : `database: cannot reach PostgreSQL at ${host} (${e.code ?? ''} ${e.message ?? ''}): check database.args`;
    throw new BootError('AXON_ERR_DATABASE', message);
  } finally {
    knexLogger.warn = warn;
  }
}

export function resolvePath(configDir: string, path: string): string {
  return isAbsolute(path) ? path : resolve(configDir, path);
}

/** `log_config` (a Synapse log config file) when given, else JSON lines on stdout at `log_level`. */
async function createKernelLogger(config: ValidatedConfig, configDir: string): Promise<ConfiguredLogger> {
  const { log_config: file, log_level: level } = config.kernel;
  if (!file) return { logger: createLogger(level), close: () => undefined };
  return createConfiguredLogger(await loadLogConfig(resolvePath(configDir, file)));
}

/** Synapse's `synapse.storage.SQL` at DEBUG: every statement (without its bindings, which may hold secrets). */
function logStatements(db: Knex, logger: Logger): void {
  const sqlLogger = logger.child({ name: 'axon.storage.SQL' });
  if (!sqlLogger.isLevelEnabled('debug')) return;
  db.on('query', (query: { sql?: unknown }) => sqlLogger.debug({ sql: query.sql }, 'SQL'));
}
