/** Query-string parameters of the media endpoints, parsed strictly (400 on nonsense, never a guess). */
import { MatrixError } from '../../../core/errors.js';
import type { AxonContext } from '../../../core/http/context.js';
import { DEFAULT_TIMEOUT_MS } from '../services/media-service.js';

function single(ctx: AxonContext, name: string): string | undefined {
  const value = ctx.query[name];
  return Array.isArray(value) ? value[0] : value;
}

export function integerParam(
  ctx: AxonContext,
  name: string,
  options: { min: number; max: number },
): number | undefined {
  const raw = single(ctx, name);
  if (raw === undefined) return undefined;
  if (!/^-?\d{1,15}$/.test(raw)) throw new MatrixError(400, 'M_INVALID_PARAM', `${name} must be an integer`);
  const value = Number(raw);
  if (value < options.min || value > options.max) {
    throw new MatrixError(
      400,
      'M_INVALID_PARAM',
      `${name} must be between ${options.min} and ${options.max}`,
    );
  }
  return value;
}

export function requiredIntegerParam(
  ctx: AxonContext,
  name: string,
  options: { min: number; max: number },
): number {
  const value = integerParam(ctx, name, options);
  if (value === undefined) throw new MatrixError(400, 'M_MISSING_PARAM', `Missing parameter: ${name}`);
  return value;
}

export function booleanParam(ctx: AxonContext, name: string): boolean | undefined {
  const raw = single(ctx, name);
  if (raw === undefined) return undefined;
  if (raw === 'true') return true;
  if (raw === 'false') return false;
  throw new MatrixError(400, 'M_INVALID_PARAM', `${name} must be true or false`);
}

export function stringParam(ctx: AxonContext, name: string): string | undefined {
  return single(ctx, name);
}

export function timeoutParam(ctx: AxonContext): number {
  return integerParam(ctx, 'timeout_ms', { min: 0, max: Number.MAX_SAFE_INTEGER }) ?? DEFAULT_TIMEOUT_MS;
}
