/**
 * Boots a real Axon kernel from a real homeserver.yaml written into a temporary directory (SQLite there,
 * listening on 127.0.0.1, port 0), with the plugin probe module on, and collects its log lines so tests
 * can assert what was logged. Stopped when the test ends.
 */
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Test } from 'tap';
import type { AnyModuleDefinition } from '../../../core/define-module.js';
import { Kernel } from '../../../core/kernel.js';
import { createLogger } from '../../../core/logger.js';
import { builtinModules } from '../../../modules/index.js';
import { request, type RequestOptions, type TestResponse } from '../start-server.js';
import { pluginProbeModule } from './probe-module.js';

export const SERVER_NAME = 'plugins.test';

export interface YamlServer {
  readonly kernel: Kernel;
  readonly dir: string;
  readonly logs: Record<string, unknown>[];
  request(method: string, path: string, options?: RequestOptions): Promise<TestResponse>;
}

/** A temporary directory holding homeserver.yaml (the base keys plus `yaml`) and any `files` given. */
export async function writeHomeserverYaml(
  t: Test,
  yaml: string,
  files: Record<string, string> = {},
): Promise<{ dir: string; configPath: string }> {
  const dir = await mkdtemp(join(tmpdir(), 'axon-plugins-'));
  t.teardown(() => rm(dir, { recursive: true, force: true }));
  for (const [name, text] of Object.entries(files)) await writeFile(join(dir, name), text);
  const configPath = join(dir, 'homeserver.yaml');
  await writeFile(
    configPath,
    [
      `server_name: ${SERVER_NAME}`,
      'listeners:',
      '  - port: 0',
      '    bind_addresses: ["127.0.0.1"]',
      '    resources: [{ names: [client] }]',
      'database:',
      '  name: sqlite3',
      '  args: { database: ./homeserver.db, synchronous: normal }',
      'signing_key_path: ./signing.key',
      'log_level: info',
      yaml,
      // Argon2id at its minimum cost, as start-server.ts does, unless the test configures passwords
      // itself; after `yaml`, so the line numbers tests expect in errors stay put.
      ...(/^password_config:/m.test(yaml)
        ? []
        : ['password_config: { hashing: { opslimit: 1, memlimit: 8K } }']),
      '',
    ].join('\n'),
  );
  return { dir, configPath };
}

/**
 * The fake-backends module stands in for `authApi` and `roomsApi` as the plugin helpers see them; the real
 * rooms module (and what builds on it) would call the fake, so with it only discovery and auth boot.
 */
function builtinsBeside(extra: readonly AnyModuleDefinition[]): readonly AnyModuleDefinition[] {
  if (!extra.some((m) => m.name === 'fake-backends')) return builtinModules;
  return builtinModules.filter((m) => m.name === 'discovery' || m.name === 'auth');
}

export async function bootFromYaml(
  t: Test,
  yaml: string,
  options: { files?: Record<string, string>; modules?: readonly AnyModuleDefinition[] } = {},
): Promise<YamlServer> {
  const { dir, configPath } = await writeHomeserverYaml(t, yaml, options.files);
  const logs: Record<string, unknown>[] = [];
  const kernel = await Kernel.boot({
    configPath,
    modules: [...builtinsBeside(options.modules ?? []), pluginProbeModule, ...(options.modules ?? [])],
    logger: createLogger('info', {
      write(line: string) {
        logs.push(JSON.parse(line) as Record<string, unknown>);
      },
    }),
  });
  t.teardown(() => kernel.stop(1000));
  const baseUrl = kernel.baseUrl();
  return { kernel, dir, logs, request: (method, path, opts) => request(baseUrl, method, path, opts) };
}

/** Boots as bootFromYaml does and returns the error boot fails with (the test fails if boot succeeds). */
export async function bootError(
  t: Test,
  yaml: string,
  options: { files?: Record<string, string>; modules?: readonly AnyModuleDefinition[] } = {},
): Promise<Error & { code?: string; problems?: readonly string[] }> {
  try {
    await bootFromYaml(t, yaml, options);
  } catch (err) {
    return err as Error;
  }
  throw new Error('boot succeeded but was expected to fail');
}

/** Absolute path of a fixture in this folder. */
export function fixture(name: string): string {
  return join(import.meta.dirname, name);
}
