/**
 * The one schema library for config and request bodies: TypeBox schemas (JSON Schema with static types)
 * checked by Ajv. Compiled validators are cached per schema object.
 */
import { Ajv, type ErrorObject, type ValidateFunction } from 'ajv';
import type { Static, TSchema } from '@sinclair/typebox';
import { MatrixError } from './errors.js';

/** Ajv for request bodies: no coercion, no defaults (a client's JSON is taken as sent). */
const requestAjv = new Ajv({ allErrors: false, strict: false });
/** Ajv for config: fills in defaults and reports every problem at once. */
export const configAjv = new Ajv({ allErrors: true, useDefaults: true, strict: false });

const compiled = new WeakMap<Ajv, WeakMap<TSchema, ValidateFunction>>();

export function compileSchema<S extends TSchema>(
  schema: S,
  ajv: Ajv = requestAjv,
): ValidateFunction<Static<S>> {
  let cache = compiled.get(ajv);
  if (!cache) compiled.set(ajv, (cache = new WeakMap()));
  let fn = cache.get(schema);
  if (!fn) cache.set(schema, (fn = ajv.compile(schema)));
  return fn as ValidateFunction<Static<S>>;
}

/** `a.b[0].c` for an Ajv instance path plus, for `required`, the missing property. */
export function errorPath(error: ErrorObject): (string | number)[] {
  const parts: (string | number)[] = error.instancePath
    .split('/')
    .slice(1)
    .map((p) => p.replace(/~1/g, '/').replace(/~0/g, '~'))
    .map((p) => (/^\d+$/.test(p) ? Number(p) : p));
  if (error.keyword === 'required')
    parts.push(String((error.params as { missingProperty: string }).missingProperty));
  return parts;
}

export function formatPath(path: readonly (string | number)[]): string {
  return path.reduce<string>((s, p) => (typeof p === 'number' ? `${s}[${p}]` : s ? `${s}.${p}` : p), '');
}

export function describeError(error: ErrorObject): string {
  if (error.keyword === 'required') return 'is required';
  if (error.keyword === 'enum') {
    return `must be one of ${(error.params as { allowedValues: unknown[] }).allowedValues.map((v) => JSON.stringify(v)).join(', ')}`;
  }
  return error.message ?? 'is invalid';
}

/**
 * Validates a request value against a schema or throws the Matrix error a client expects:
 * a missing property is `M_MISSING_PARAM`, anything else `M_BAD_JSON` (or `M_INVALID_PARAM` for query strings).
 */
export function parseRequest<S extends TSchema>(
  schema: S,
  value: unknown,
  where: 'body' | 'query' = 'body',
): Static<S> {
  const validate = compileSchema(schema);
  if (validate(value)) return value;
  const error = validate.errors?.[0];
  if (!error) throw new MatrixError(400, 'M_BAD_JSON', 'Invalid request');
  const path = formatPath(errorPath(error)) || where;
  if (error.keyword === 'required')
    throw new MatrixError(400, 'M_MISSING_PARAM', `Missing parameter: ${path}`);
  throw new MatrixError(
    400,
    where === 'query' ? 'M_INVALID_PARAM' : 'M_BAD_JSON',
    `Invalid ${where === 'query' ? 'parameter' : 'value for'} ${path}: ${describeError(error)}`,
  );
}
