/** Query-string helpers shared by the rooms routes. */
import { MatrixError } from '../../../core/errors.js';
import { isValidServerName } from '../../../core/protocol/identifiers.js';
import type { AxonContext } from '../../../core/http/context.js';
import { requesterOf } from '../../../core/http/context.js';
import type { Actor } from '../services/membership-service.js';
import { parseClientJson } from '../../../core/http/json-input.js';
import { parseRequest } from '../../../core/validation.js';
import { Type } from '@sinclair/typebox';

export function queryString(ctx: AxonContext, name: string): string | undefined {
  const v = ctx.query[name];
  if (Array.isArray(v)) return v[0];
  return v;
}

/**
 * The servers a client names for a join: `via` (v1.12) and the older `server_name`, each repeatable; only
 * valid server names are kept.
 */
export function queryServers(ctx: AxonContext): string[] {
  const values = [ctx.query['via'], ctx.query['server_name']].flatMap((v) =>
    v === undefined ? [] : Array.isArray(v) ? v : [v],
  );
  return [...new Set(values.filter((v) => isValidServerName(v)))];
}

export function queryInt(ctx: AxonContext, name: string, fallback: number): number {
  const v = queryString(ctx, name);
  if (v === undefined || v === '') return fallback;
  if (!/^-?\d+$/.test(v)) throw new MatrixError(400, 'M_INVALID_PARAM', `${name} must be an integer`);
  return Number(v);
}

export function queryDir(ctx: AxonContext, fallback: 'f' | 'b'): 'f' | 'b' {
  const v = queryString(ctx, 'dir');
  if (v === undefined) return fallback;
  if (v !== 'f' && v !== 'b') throw new MatrixError(400, 'M_INVALID_PARAM', 'dir must be f or b');
  return v;
}

export function queryBool(ctx: AxonContext, name: string): boolean {
  const v = queryString(ctx, name);
  return v === 'true' || v === '1';
}

/** The fields of a RoomEventFilter that the timeline reads, typed (unknown fields pass through). */
const Strings = Type.Optional(Type.Array(Type.String()));
const RoomEventFilterQuery = Type.Object({
  limit: Type.Optional(Type.Integer()),
  types: Strings,
  not_types: Strings,
  senders: Strings,
  not_senders: Strings,
  contains_url: Type.Optional(Type.Boolean()),
  lazy_load_members: Type.Optional(Type.Boolean()),
  include_redundant_members: Type.Optional(Type.Boolean()),
});

/** A JSON-encoded RoomEventFilter in the query string. */
export function queryJson<T>(ctx: AxonContext, name: string): T | undefined {
  const v = queryString(ctx, name);
  if (v === undefined || v === '') return undefined;
  let parsed: unknown;
  try {
    parsed = parseClientJson(v); // depth, integer range, surrogates, NUL: as for JSON bodies
    if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed))
      throw new Error('not an object');
  } catch {
    throw new MatrixError(400, 'M_INVALID_PARAM', `${name} must be a JSON object`);
  }
  return parseRequest(RoomEventFilterQuery, parsed, 'query') as T;
}

export function actorOf(ctx: AxonContext): Actor {
  const r = requesterOf(ctx);
  return { userId: r.userId, deviceId: r.deviceId, isGuest: r.isGuest };
}

/** A path parameter (koa-router has already percent-decoded it). */
export function param(ctx: AxonContext, name: string): string {
  const v = ctx.params[name];
  if (v === undefined) throw new MatrixError(400, 'M_MISSING_PARAM', `Missing ${name}`);
  return v;
}
