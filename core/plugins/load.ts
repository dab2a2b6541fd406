/**
 * Loads the plugins homeserver.yaml declares under `plugins:`, at boot, in declaration order:
 *
 * 1. import every entry's module and check its default export is a plugin of this API version;
 * 2. validate every entry's `config:` against the plugin's schema (defaults applied), all problems at once;
 *    (1 and 2 are `preparePlugins`, which the kernel runs before the database is opened)
 * 3. call each plugin's `register(api, config)`; its callbacks join the ordered registries
 *    (`registerPlugins`, once the modules have started).
 *
 * Any failure stops boot with a BootError naming the entry (`plugins[i]`), its module and, once known, the
 * plugin: a spam checker must never be silently absent.
 */
import type { Logger } from 'pino';
import type { ConfigPath } from '../config/load.js';
import type { KernelConfig } from '../config/schema.js';
import { unknownKeys } from '../config/compose.js';
import type { AxonContainer } from '../container.js';
import { BootError } from '../errors.js';
import { compileSchema, configAjv, describeError, errorPath, formatPath } from '../validation.js';
import { PLUGIN_API_VERSION, type PluginApi, type PluginDefinition } from './api.js';
import { createPluginHelpers } from './helpers.js';
import { createPluginHttpClient } from './http-client.js';
import {
  importLocated,
  installLoaderHooks,
  loaderNeeds,
  locatePluginModule,
  PROJECT_ROOT,
} from './resolve-module.js';

/** Where the `plugins:` list came from, to give errors a file and a line (the kernel's LoadedConfig). */
export interface PluginConfigSource {
  readonly file: string;
  lineOf(path: ConfigPath): number | undefined;
}

export interface LoadedPlugin {
  readonly index: number;
  readonly module: string;
  readonly name: string;
  /** The file imported, or the package name. */
  readonly location: string;
}

/** Longest a plugin's register() may take. */
export const REGISTER_TIMEOUT_MS = 30_000;

/** A plugin imported and its config validated, ready to register once the modules have started. */
export interface PreparedPlugin {
  readonly index: number;
  readonly module: string;
  readonly location: string;
  readonly definition: PluginDefinition;
  /** The entry's `config:`, validated against the plugin's schema, defaults applied. */
  readonly config: unknown;
}

export interface PreparePluginsOptions {
  /** Directory of homeserver.yaml: relative module paths are tried there first. */
  readonly configDir: string;
  readonly logger: Logger;
  readonly source?: PluginConfigSource | undefined;
  /** Where relative module paths are tried after the config directory (default: the repository root). */
  readonly projectRoot?: string | undefined;
}

/**
 * Steps 1 and 2: imports every entry's module and validates every entry's config. It needs neither the
 * container nor the database, so the kernel runs it before any migration: a broken plugin or a bad plugin
 * config stops boot before the database is touched.
 */
export async function preparePlugins(
  entries: KernelConfig['plugins'],
  options: PreparePluginsOptions,
): Promise<PreparedPlugin[]> {
  if (entries.length === 0) return [];
  const { configDir, logger, source } = options;
  const where = whereIn(source);
  const label = (i: number, module: string): string =>
    `plugins[${i}] (module "${module}")${where(['plugins', i, 'module'])}`;

  // 1. Locate all, install the module hooks they need, import all: every missing or broken module is
  //    reported at once.
  const projectRoot = options.projectRoot ?? PROJECT_ROOT;
  const located = await Promise.all(
    entries.map((entry) => locatePluginModule(entry.module, configDir, projectRoot)),
  );
  await installLoaderHooks(loaderNeeds(located.flatMap((l) => (l.ok ? [l.url] : []))));
  const loaded: { index: number; module: string; location: string; definition: PluginDefinition }[] = [];
  const loadProblems: string[] = [];
  for (const [index, entry] of entries.entries()) {
    const spot = located[index];
    const outcome = spot?.ok ? await importLocated(spot.url, spot.location) : spot;
    if (!outcome?.ok) {
      loadProblems.push(`${label(index, entry.module)}: ${outcome?.reason ?? 'not located'}`);
      continue;
    }
    const problem = definitionProblem(outcome.exports['default']);
    if (problem) loadProblems.push(`${label(index, entry.module)}: ${problem}`);
    else
      loaded.push({
        index,
        module: entry.module,
        location: outcome.location,
        definition: outcome.exports['default'] as PluginDefinition,
      });
  }
  if (loadProblems.length > 0) {
    throw new BootError(
      'AXON_ERR_PLUGIN_LOAD',
      loadProblems.length === 1 ? (loadProblems[0] ?? '') : 'cannot load plugins',
      loadProblems,
    );
  }

  // 2. Validate every config before any plugin registers.
  const prepared: PreparedPlugin[] = [];
  const configProblems: string[] = [];
  for (const { index, module, location, definition } of loaded) {
    const raw = entries[index]?.config;
    const configPath = ['plugins', index, 'config'];
    if (!definition.config) {
      if (raw !== undefined && raw !== null && !(isPlainObject(raw) && Object.keys(raw).length === 0)) {
        logger.warn(
          `${formatPath(configPath)}${where(configPath)}: plugin "${definition.name}" takes no config; ignored`,
        );
      }
      prepared.push({ index, module, location, definition, config: raw ?? {} });
      continue;
    }
    const value: unknown = structuredClone(raw ?? {});
    let validate;
    try {
      validate = compileSchema(definition.config, configAjv);
    } catch (err) {
      configProblems.push(
        `${formatPath(configPath)}: plugin "${definition.name}" has an invalid config schema: ${(err as Error).message}`,
      );
      continue;
    }
    if (!validate(value)) {
      for (const error of validate.errors ?? []) {
        const path = [...configPath, ...errorPath(error)];
        configProblems.push(
          `${formatPath(path)} ${describeError(error)} (plugin "${definition.name}")${where(path)}`,
        );
      }
      continue;
    }
    for (const path of unknownKeys(raw ?? {}, [definition.config])) {
      const full = [...configPath, ...path];
      logger.warn(
        `unknown config key "${formatPath(full)}"${where(full)} is ignored (plugin "${definition.name}")`,
      );
    }
    prepared.push({ index, module, location, definition, config: value });
  }
  if (configProblems.length > 0) {
    throw new BootError('AXON_ERR_CONFIG_INVALID', 'invalid plugin configuration', configProblems);
  }
  return prepared;
}

/**
 * Step 3: calls each prepared plugin's `register(api, config)`, in declaration order; its callbacks join
 * `spamCheckers` and `passwordProviders`. Call after the modules started (helpers resolve their services
 * lazily) and before listeners open.
 */
export async function registerPlugins(
  container: AxonContainer,
  prepared: readonly PreparedPlugin[],
  options: { readonly source?: PluginConfigSource | undefined; readonly registerTimeoutMs?: number } = {},
): Promise<LoadedPlugin[]> {
  if (prepared.length === 0) return [];
  const { configDir, logger, serverName, spamCheckers, passwordProviders, shutdownSignal } = container.cradle;
  const where = whereIn(options.source);
  const helpers = createPluginHelpers(container, serverName);
  const http = createPluginHttpClient();
  const registerTimeoutMs = options.registerTimeoutMs ?? REGISTER_TIMEOUT_MS;
  const result: LoadedPlugin[] = [];
  for (const { index, module, location, definition, config } of prepared) {
    const name = definition.name;
    const what = `plugins[${index}] (module "${module}")${where(['plugins', index, 'module'])}, plugin "${name}"`;
    let open = true;
    const whileOpen = (method: string): void => {
      if (!open) throw new Error(`plugin "${name}" called ${method} after register() returned`);
    };
    const api: PluginApi = {
      apiVersion: PLUGIN_API_VERSION,
      logger: logger.child({ plugin: name }),
      helpers,
      http,
      configDir,
      shutdownSignal,
      registerSpamChecker(callbacks) {
        whileOpen('registerSpamChecker');
        spamCheckers.add(name, callbacks);
      },
      registerPasswordProvider(provider) {
        whileOpen('registerPasswordProvider');
        passwordProviders.add(name, provider);
      },
    };
    Object.freeze(api);
    try {
      await withTimeout(
        Promise.resolve().then(() => definition.register(api, config)),
        registerTimeoutMs,
        `register() did not finish within ${registerTimeoutMs} ms`,
      );
    } catch (err) {
      if (err instanceof BootError) throw new BootError(err.code, `${what}: ${err.message}`);
      throw new BootError(
        'AXON_ERR_PLUGIN_LOAD',
        `${what}: register() failed: ${err instanceof Error ? err.message : String(err)}`,
      );
    } finally {
      open = false;
    }
    result.push({ index, module, name, location });
  }
  logger.info({ plugins: result.map((p) => p.name) }, 'plugins loaded');
  return result;
}

/** ` (file:line)` for a config path, to point errors at homeserver.yaml. */
function whereIn(source: PluginConfigSource | undefined): (path: ConfigPath) => string {
  return (path) => {
    if (!source) return '';
    const line = source.lineOf(path);
    return line === undefined ? ` (${source.file})` : ` (${source.file}:${line})`;
  };
}

/** Why a module's default export is not a usable plugin, or undefined when it is. */
function definitionProblem(value: unknown): string | undefined {
  const shape =
    'its default export must be a plugin: export default definePlugin({ name, apiVersion, register })';
  if (!isPlainObject(value)) return shape;
  const { name, apiVersion, register, config } = value;
  if (typeof name !== 'string' || name.trim() === '') return `${shape} (name is missing)`;
  if (typeof register !== 'function') return `${shape} (register is not a function)`;
  if (typeof apiVersion !== 'number') return `plugin "${name}" does not declare its apiVersion`;
  if (apiVersion !== PLUGIN_API_VERSION) {
    return (
      `plugin "${name}" was written for plugin API version ${apiVersion}; ` +
      `this Axon provides version ${PLUGIN_API_VERSION}`
    );
  }
  if (config !== undefined && !isPlainObject(config))
    return `plugin "${name}" has a config that is not a schema (use TypeBox: Type.Object({...}))`;
  return undefined;
}

function isPlainObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

async function withTimeout<T>(promise: Promise<T>, ms: number, message: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  try {
    return await Promise.race([
      promise,
      new Promise<never>((_, reject) => {
        timer = setTimeout(() => reject(new Error(message)), ms);
      }),
    ]);
  } finally {
    clearTimeout(timer);
  }
}
