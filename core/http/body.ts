/**
 * Reading request bodies: JSON with a size limit and the input rules of json-input.ts (M_NOT_JSON /
 * M_BAD_JSON / M_TOO_LARGE), or raw bytes for uploads.
 */
import getRawBody from 'raw-body';
import type { Static, TSchema } from '@sinclair/typebox';
import { MatrixError } from '../errors.js';
import { parseRequest } from '../validation.js';
import type { AxonContext } from './context.js';
import { decodeUtf8, parseClientJson, parseServerJson } from './json-input.js';

let maxJsonBodySize = 1024 * 1024;

/** Set once at boot from `max_request_body_size`. */
export function setMaxJsonBodySize(bytes: number): void {
  maxJsonBodySize = bytes;
}

/**
 * A JSON body must arrive as sent: Axon decodes no `Content-Encoding`, and JSON is UTF-8, so another declared
 * charset is refused (415). The media type itself is not checked, as in Synapse: `curl -d` sends
 * `application/x-www-form-urlencoded` and clients rely on that working.
 */
function assertJsonEncoding(ctx: AxonContext): void {
  const encoding = ctx.get('content-encoding').trim().toLowerCase();
  if (encoding !== '' && encoding !== 'identity') {
    throw new MatrixError(415, 'M_NOT_JSON', `Unsupported Content-Encoding: ${encoding}`);
  }
  const charset = /;\s*charset\s*=\s*"?([^";\s]+)/i.exec(ctx.get('content-type'))?.[1]?.toLowerCase();
  if (charset !== undefined && charset !== 'utf-8' && charset !== 'utf8') {
    throw new MatrixError(415, 'M_NOT_JSON', `Unsupported charset: ${charset}; JSON is UTF-8`);
  }
}

/** How a body is read: its size limit (default `max_request_body_size`), and a server's JSON rules. */
export interface ReadJsonOptions {
  readonly limit?: number;
  /** Another server's body: integers beyond canonical JSON's range kept as bigint (`parseServerJson`). */
  readonly fromServer?: boolean;
}

/**
 * The parsed JSON body (`{}` when the body is empty), read once and cached on the context (the first
 * reader's options apply).
 */
export async function readJson(ctx: AxonContext, options: ReadJsonOptions = {}): Promise<unknown> {
  if ('jsonBody' in ctx.state) return ctx.state.jsonBody;
  assertJsonEncoding(ctx);
  const text = decodeUtf8(await getRawBody(ctx.req, { limit: options.limit ?? maxJsonBodySize }));
  const parse = options.fromServer === true ? parseServerJson : parseClientJson;
  const value: unknown = text.trim() === '' ? {} : parse(text);
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
