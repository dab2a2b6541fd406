/**
 * The whole homeserver.yaml schema is the kernel's keys plus each module's. Validation applies defaults,
 * reports every error at once with key, file and line, and warns (never refuses) on unknown keys so that a
 * Synapse config with keys Axon does not use yet still boots.
 */
import type { ErrorObject } from 'ajv';
import type { TObject, TSchema } from '@sinclair/typebox';
import { BootError } from '../errors.js';
import type { AnyModuleDefinition } from '../define-module.js';
import { compileSchema, configAjv, describeError, errorPath, formatPath } from '../validation.js';
import type { ConfigPath, LoadedConfig } from './load.js';
import { KernelConfigSchema, type KernelConfig } from './schema.js';

export interface ValidatedConfig {
  readonly kernel: KernelConfig;
  /** Every key, defaults applied. */
  readonly whole: Record<string, unknown>;
  /** Each enabled module's own keys, validated. */
  readonly moduleConfigs: ReadonlyMap<string, Record<string, unknown>>;
  readonly enabledModules: readonly AnyModuleDefinition[];
  readonly warnings: readonly string[];
}

export function validateConfig(
  loaded: LoadedConfig,
  available: readonly AnyModuleDefinition[],
): ValidatedConfig {
  const data = structuredClone(loaded.data);
  const where = (path: ConfigPath): string => {
    const line = loaded.lineOf(path);
    return line === undefined ? loaded.file : `${loaded.file}:${line}`;
  };
  if (Array.isArray(data['modules'])) {
    throw new BootError(
      'AXON_ERR_CONFIG_INVALID',
      `${where(['modules'])}: "modules" is a list, as Synapse's module list is. In Axon, "modules" switches ` +
        'built-in modules on and off (a mapping such as {presence: true}); declare plugins under "plugins:" instead.',
    );
  }

  const problems: string[] = [];
  const collect = (errors: readonly ErrorObject[] | null | undefined): void => {
    // A union of literals (log_level: fatal | error | ...) fails with one `const` error per literal and an
    // `anyOf`: say it once, with the allowed values and what was given.
    const allowed = new Map<string, unknown[]>();
    for (const error of errors ?? []) {
      if (error.keyword === 'const') {
        const values = allowed.get(error.instancePath) ?? [];
        values.push((error.params as { allowedValue: unknown }).allowedValue);
        allowed.set(error.instancePath, values);
      }
    }
    const said = new Set<string>();
    for (const error of errors ?? []) {
      const path = errorPath(error);
      const values = error.keyword === 'required' ? undefined : allowed.get(error.instancePath);
      if (values) {
        if (said.has(error.instancePath)) continue;
        said.add(error.instancePath);
        problems.push(
          `${formatPath(path) || '(top level)'} must be one of ${values.map((v) => JSON.stringify(v)).join(', ')}, ` +
            `not ${JSON.stringify(valueAt(data, path))} (${where(path)})`,
        );
        continue;
      }
      problems.push(`${formatPath(path) || '(top level)'} ${describeError(error)} (${where(path)})`);
    }
  };

  const validateKernel = compileSchema(KernelConfigSchema, configAjv);
  if (!validateKernel(data)) collect(validateKernel.errors);
  // Kernel-key and module-key problems are reported together (one pass), so modules are chosen even when a
  // kernel key is wrong; a `modules:` that is not a mapping leaves the defaults.
  const kernel = data as unknown as KernelConfig;
  const switches = kernel.modules;
  const enabledModules = selectEnabledModules(
    typeof switches === 'object' && switches !== null && !Array.isArray(switches) ? switches : {},
    available,
    where,
  );
  const moduleConfigs = new Map<string, Record<string, unknown>>();
  for (const module of enabledModules) {
    if (!module.config) {
      moduleConfigs.set(module.name, {});
      continue;
    }
    const validate = compileSchema(module.config, configAjv);
    // Validate in place so module defaults land in the whole config too.
    if (!validate(data)) collect(validate.errors);
    moduleConfigs.set(module.name, pick(data, module.config));
  }
  if (problems.length > 0) throw configError(problems);

  const known = [KernelConfigSchema, ...available.flatMap((m) => (m.config ? [m.config] : []))];
  const siblings = new Map<string, readonly string[]>();
  const warnings = unknownKeys(loaded.data, known, siblings).map((path) => {
    const near = closest(String(path.at(-1)), siblings.get(formatPath(path)) ?? []);
    const hint = near === undefined ? '' : `; did you mean "${formatPath([...path.slice(0, -1), near])}"?`;
    return `unknown config key "${formatPath(path)}" (${where(path)}) is ignored${hint}`;
  });
  return { kernel, whole: data, moduleConfigs, enabledModules, warnings };
}

function configError(problems: string[]): BootError {
  return new BootError('AXON_ERR_CONFIG_INVALID', 'invalid configuration', problems);
}

function selectEnabledModules(
  switches: Record<string, boolean>,
  available: readonly AnyModuleDefinition[],
  where: (path: ConfigPath) => string,
): AnyModuleDefinition[] {
  const byName = new Map(available.map((m) => [m.name, m]));
  const unknown = Object.keys(switches).filter((name) => !byName.has(name));
  if (unknown.length > 0) {
    throw new BootError(
      'AXON_ERR_MODULE_UNKNOWN',
      'unknown module',
      unknown.map(
        (name) =>
          `modules.${name} (${where(['modules', name])}): no built-in module is called "${name}" ` +
          `(known: ${[...byName.keys()].join(', ')})`,
      ),
    );
  }
  return available.filter((m) => switches[m.name] ?? m.enabledByDefault);
}

function pick(data: Record<string, unknown>, schema: TObject): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const key of Object.keys(schema.properties)) if (key in data) out[key] = data[key];
  return out;
}

function valueAt(data: unknown, path: readonly (string | number)[]): unknown {
  let value = data;
  for (const part of path) value = (value as Record<string | number, unknown> | undefined)?.[part];
  return value;
}

/** The known key nearest to a misspelt one (edit distance at most 2, or 3 for long keys), if any. */
export function closest(key: string, known: readonly string[]): string | undefined {
  const limit = key.length > 12 ? 3 : key.length > 4 ? 2 : 1;
  let best: { key: string; distance: number } | undefined;
  for (const candidate of known) {
    const distance = editDistance(key.toLowerCase(), candidate.toLowerCase());
    if (distance <= limit && (!best || distance < best.distance)) best = { key: candidate, distance };
  }
  return best?.key;
}

function editDistance(a: string, b: string): number {
  let previous = Array.from({ length: b.length + 1 }, (_, j) => j);
  for (let i = 1; i <= a.length; i++) {
    const current = [i];
    for (let j = 1; j <= b.length; j++) {
      const swap =
        i > 1 && j > 1 && a[i - 1] === b[j - 2] && a[i - 2] === b[j - 1] ? (previous[j - 2] ?? 0) : Infinity;
      current[j] = Math.min(
        (previous[j] ?? 0) + 1,
        (current[j - 1] ?? 0) + 1,
        (previous[j - 1] ?? 0) + (a[i - 1] === b[j - 1] ? 0 : 1),
        swap,
      );
    }
    previous = current;
  }
  return previous[b.length] ?? 0;
}

/**
 * Paths present in `data` that no schema describes. Objects with free-form values are not descended. When
 * `siblings` is given, it receives, for each unknown path (formatted), the keys known at its level.
 */
export function unknownKeys(
  data: unknown,
  schemas: readonly TSchema[],
  siblings?: Map<string, readonly string[]>,
): ConfigPath[] {
  const found: ConfigPath[] = [];
  const walk = (value: unknown, candidates: readonly TSchema[], path: (string | number)[]): void => {
    const objects = candidates.filter((s) => s['type'] === 'object' || s['anyOf'] !== undefined);
    if (Array.isArray(value)) {
      const items = candidates.flatMap((s) =>
        s['type'] === 'array' && s['items'] ? [s['items'] as TSchema] : [],
      );
      if (items.length > 0) value.forEach((v, i) => walk(v, items, [...path, i]));
      return;
    }
    if (typeof value !== 'object' || value === null || objects.length === 0) return;
    const propertySchemas = new Map<string, TSchema[]>();
    for (const schema of objects) {
      for (const variant of schema['anyOf'] ? (schema['anyOf'] as TSchema[]) : [schema]) {
        const properties = variant['properties'] as Record<string, TSchema> | undefined;
        if (!properties || variant['patternProperties'] || variant['additionalProperties'] !== undefined)
          return;
        for (const [k, s] of Object.entries(properties))
          propertySchemas.set(k, [...(propertySchemas.get(k) ?? []), s]);
      }
    }
    for (const [key, child] of Object.entries(value)) {
      const schemasForKey = propertySchemas.get(key);
      if (!schemasForKey) {
        found.push([...path, key]);
        siblings?.set(formatPath([...path, key]), [...propertySchemas.keys()]);
      } else walk(child, schemasForKey, [...path, key]);
    }
  };
  const root = {
    type: 'object',
    properties: Object.assign({}, ...schemas.map((s) => s['properties'] as object)) as Record<
      string,
      TSchema
    >,
  };
  walk(data, [root as unknown as TSchema], []);
  return found;
}
