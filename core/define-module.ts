/**
 * The module contract. A module is a folder whose index.ts exports `defineModule({...})`; the kernel knows
 * nothing else about it. See ARCHITECTURE.md "A module".
 */
import type { Static, TObject } from '@sinclair/typebox';
import type { Knex } from 'knex';
import type { Logger } from 'pino';
import type { AxonContainer, Cradle } from './container.js';
import type { ModuleRouter } from './http/router-registry.js';

/** A knex migration with a stable name; modules list theirs explicitly (never globbed). */
export interface Migration {
  /** `YYYYMMDDHHMMSS_<what>`, the name of its file; recorded in the module's bookkeeping table. */
  readonly name: string;
  /**
   * Names this migration was recorded under before a rename: a database migrated under one of them is
   * brought to `name` before migrating (knex refuses a recorded migration it cannot find).
   */
  readonly formerNames?: readonly string[];
  up(knex: Knex): Promise<void>;
  down(knex: Knex): Promise<void>;
}

export interface RegisterContext<C> {
  readonly container: AxonContainer;
  /** This module's keys of homeserver.yaml, validated, defaults applied. */
  readonly config: C;
  readonly logger: Logger;
}

export interface RouteContext<C> {
  /** Lazy view of the container: resolve services when a request arrives, not at registration. */
  readonly cradle: Cradle;
  readonly config: C;
}

/** A subcommand a module adds to the `axon` CLI (e.g. `register-user` from auth). */
export interface CliCommand {
  readonly summary: string;
  readonly usage: string;
  /** Runs with the argv after the command name; returns the process exit code. */
  run(argv: readonly string[]): Promise<number>;
}

export interface ModuleDefinition<S extends TObject = TObject> {
  /** kebab-case id: the key under `modules:` and the prefix of the module's tables. */
  readonly name: string;
  /** One line for `axon modules` and boot logs. */
  readonly description: string;
  /** Whether the module runs when `modules:` does not name it. */
  readonly enabledByDefault: boolean;
  /** Modules that must be enabled too; boot fails naming both if one is disabled. */
  readonly requires?: readonly string[];
  /** This module's top-level homeserver.yaml keys (Synapse names where they exist), defaults inside. */
  readonly config?: S;
  /** Migrations for this module's tables only, in order. */
  readonly migrations?: readonly Migration[];
  register(ctx: RegisterContext<Static<S>>): void;
  routes?(router: ModuleRouter, ctx: RouteContext<Static<S>>): void;
  /** After every module registered and migrated, before listeners open. */
  start?(cradle: Cradle): Promise<void>;
  /** In reverse boot order, on graceful shutdown. */
  stop?(cradle: Cradle): Promise<void>;
  readonly commands?: Readonly<Record<string, CliCommand>>;
}

export function defineModule<S extends TObject>(definition: ModuleDefinition<S>): ModuleDefinition<S> {
  if (!/^[a-z][a-z0-9-]*$/.test(definition.name)) {
    throw new Error(`module name "${definition.name}" must be kebab-case`);
  }
  return definition;
}

/** The erased form the kernel handles in lists (methods are bivariant, so every module fits). */
export type AnyModuleDefinition = ModuleDefinition<TObject>;
