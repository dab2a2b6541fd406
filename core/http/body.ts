/** Reading request bodies: JSON with a size limit (M_NOT_JSON / M_TOO_LARGE), or raw bytes for uploads. */
import getRawBody from 'raw-body';
import type { Static, TSchema } from '@sinclair/typebox';
import { MatrixError } from '../errors.js';
import { parseRequest } from '../validation.js';
import type { AxonContext } from './context.js';

let maxJsonBodySize = 1024 * 1024;

/** Set once at boot from `max_request_body_size`. */
export function setMaxJsonBodySize(bytes: number): void {
  maxJsonBodySize = bytes;
}

/** The parsed JSON body (`{}` when the body is empty), read once and cached on the context. */
export async function readJson(ctx: AxonContext): Promise<unknown> {
  if ('jsonBody' in ctx.state) return ctx.state.jsonBody;
  const text = await getRawBody(ctx.req, { limit: maxJsonBodySize, encoding: 'utf8' });
  let value: unknown = {};
  if (text.trim() !== '') {
    try {
      value = JSON.parse(text);
    } catch {
      throw new MatrixError(400, 'M_NOT_JSON', 'Content not JSON.');
    }
  }
  ctx.state.jsonBody = value;
  return value;
}

/** The JSON body, which must be an object, validated against `schema`. */
export async function readBody<S extends TSchema>(ctx: AxonContext, schema: S): Promise<Static<S>> {
  const value = await readJson(ctx);
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    throw new MatrixError(400, 'M_BAD_JSON', 'Content must be a JSON object.');
  }
  return parseRequest(schema, value, 'body');
}

/** The raw body as bytes, up to `limit` (M_TOO_LARGE beyond it). */
export async function readRaw(ctx: AxonContext, limit: number): Promise<Buffer> {
  return getRawBody(ctx.req, { limit });
}
