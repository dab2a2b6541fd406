/** The typed koa context every route handler receives. */
import type { RouterContext } from '@koa/router';
import type { AwilixContainer } from 'awilix';
import type { Logger } from 'pino';
import type { Cradle } from '../container.js';

/** Who is making an authenticated request (set by the auth middleware from the access token). */
export interface Requester {
  readonly userId: string;
  readonly deviceId: string | null;
  readonly isGuest: boolean;
  /** The stored token's id, so logout can name it without the secret. */
  readonly accessTokenId: string;
}

/** Turns an access token into a requester; registered by the auth module as `accessTokenResolver`. */
export interface AccessTokenResolver {
  /** Throws `MatrixError(401, 'M_UNKNOWN_TOKEN')` for an unknown, expired or logged-out token. */
  resolve(token: string, request: { ip: string; userAgent: string | undefined }): Promise<Requester>;
}

export interface AxonState {
  requestId: string;
  logger: Logger;
  /** The per-request container scope (Medusa's req.scope): per-request facts live here. */
  scope: AwilixContainer<Cradle>;
  requester?: Requester;
  /** Cached parsed JSON body (see body.ts). */
  jsonBody?: unknown;
}

export type AxonContext = RouterContext<AxonState>;

/** The requester of a route declared with `auth: 'required'` (always set there). */
export function requesterOf(ctx: AxonContext): Requester {
  const requester = ctx.state.requester;
  if (!requester) throw new Error('requesterOf() called on a route without auth');
  return requester;
}
