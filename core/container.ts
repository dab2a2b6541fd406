/**
 * The awilix container and its typed cradle. The kernel registers what every module may use; each module
 * augments `Cradle` with what it registers, in its own index.ts:
 *
 *   declare module '../../core/container.js' { interface Cradle { roomsService: RoomsService } }
 *
 * Constructors take `Pick<Cradle, ...>` of what they need, so a unit test passes a plain object.
 */
import { createContainer, InjectionMode, type AwilixContainer } from 'awilix';
import type { Knex } from 'knex';
import type { Logger } from 'pino';
import type { KernelConfig } from './config/schema.js';
import type { Notifier } from './notifier/notifier.js';
import type { SigningKey } from './protocol/signing-key.js';
import type { SpamCheckerRegistry } from './plugins/registry/spam-checker.js';
import type { PasswordProviderRegistry } from './plugins/registry/password-provider.js';

// eslint-disable-next-line @typescript-eslint/no-empty-object-type
export interface Cradle extends KernelCradle {}

export interface KernelCradle {
  /** The validated kernel keys of homeserver.yaml. */
  config: KernelConfig;
  /** The whole validated homeserver.yaml (kernel and module keys, defaults applied). */
  rawConfig: Readonly<Record<string, unknown>>;
  /** Directory relative paths in the config are resolved against. */
  configDir: string;
  serverName: string;
  logger: Logger;
  db: Knex;
  notifier: Notifier;
  signingKey: SigningKey;
  /** Aborted when the server begins a graceful stop: long-polls return early. */
  shutdownSignal: AbortSignal;
  /** The spam-checker chain every call site consults (empty: everything passes). */
  spamCheckers: SpamCheckerRegistry;
  /** The password-provider chain login consults before the built-in database check. */
  passwordProviders: PasswordProviderRegistry;
  /** Names of the enabled modules, in boot order. */
  enabledModules: readonly string[];
}

export type AxonContainer = AwilixContainer<Cradle>;

export function createAxonContainer(): AxonContainer {
  // strict: a singleton may not depend on something scoped, and a missing registration is an error.
  return createContainer<Cradle>({ injectionMode: InjectionMode.PROXY, strict: true });
}
