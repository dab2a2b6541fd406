/**
 * Runs a plugin's register() against a fake PluginApi, as the loader would (config validated with the
 * config Ajv, defaults applied), and hands back registries holding only what it registered — so a shipped
 * plugin is unit-tested directly, through the same fail-closed chain the server uses.
 */
import type { TSchema } from '@sinclair/typebox';
import type { PluginApi, PluginDefinition, PluginHelpers } from '../../../core/plugins/api.js';
import { PLUGIN_API_VERSION } from '../../../core/plugins/api.js';
import { asValue } from 'awilix';
import { createAxonContainer } from '../../../core/container.js';
import { createLogger } from '../../../core/logger.js';
import { createPluginHelpers } from '../../../core/plugins/helpers.js';
import { createPluginHttpClient } from '../../../core/plugins/http-client.js';
import { PasswordProviderRegistry } from '../../../core/plugins/registry/password-provider.js';
import { SpamCheckerRegistry } from '../../../core/plugins/registry/spam-checker.js';
import { compileSchema, configAjv, describeError, errorPath, formatPath } from '../../../core/validation.js';
import { fakeBackends } from './probe-module.js';

export const FAKE_SERVER = 'example.org';

export interface FakePlugin {
  readonly spamCheckers: SpamCheckerRegistry;
  readonly passwordProviders: PasswordProviderRegistry;
  readonly backends: ReturnType<typeof fakeBackends>;
  readonly helpers: PluginHelpers;
  readonly logs: Record<string, unknown>[];
  /** The config as register() received it (defaults applied). */
  readonly config: unknown;
}

export async function registerWithFakeApi<S extends TSchema>(
  definition: PluginDefinition<S>,
  rawConfig: unknown = {},
  options: { configDir?: string; timeoutMs?: number } = {},
): Promise<FakePlugin> {
  const config = structuredClone(rawConfig);
  if (definition.config) {
    const validate = compileSchema(definition.config, configAjv);
    if (!validate(config)) {
      const problems = (validate.errors ?? []).map((e) => `${formatPath(errorPath(e))} ${describeError(e)}`);
      throw new Error(`invalid config: ${problems.join('; ')}`);
    }
  }
  const logs: Record<string, unknown>[] = [];
  const logger = createLogger('debug', { write: (line: string) => void logs.push(JSON.parse(line)) });
  const backends = fakeBackends(FAKE_SERVER);
  // The real helpers, over a container holding in-memory auth and rooms backends.
  const container = createAxonContainer();
  container.register('authApi', asValue(backends.auth));
  container.register('roomsApi', asValue(backends.rooms));
  const helpers: PluginHelpers = createPluginHelpers(container, FAKE_SERVER);
  const timeoutMs = options.timeoutMs ?? 5_000;
  const spamCheckers = new SpamCheckerRegistry({ logger, timeoutMs });
  const passwordProviders = new PasswordProviderRegistry({ logger, timeoutMs });
  const api: PluginApi = {
    apiVersion: PLUGIN_API_VERSION,
    logger: logger.child({ plugin: definition.name }),
    helpers,
    http: createPluginHttpClient(),
    configDir: options.configDir ?? process.cwd(),
    shutdownSignal: new AbortController().signal,
    registerSpamChecker: (callbacks) => spamCheckers.add(definition.name, callbacks),
    registerPasswordProvider: (provider) => passwordProviders.add(definition.name, provider),
  };
  // The config was validated above against the same schema, as the loader does.
  await definition.register(api, config);
  return { spamCheckers, passwordProviders, backends, helpers, logs, config };
}
