/**
 * Access token → requester. The token comes from `Authorization: Bearer` or, as the spec still allows
 * (deprecated since v1.11), the `access_token` query parameter.
 */
import type { Next } from 'koa';
import { MatrixError } from '../errors.js';
import type { Cradle } from '../container.js';
import type { AccessTokenResolver, AxonContext } from './context.js';
import type { RouteDefinition } from './router-registry.js';

export function accessTokenOf(ctx: AxonContext): string | undefined {
  const header = ctx.get('authorization');
  if (header) {
    const match = /^Bearer\s+(\S+)\s*$/i.exec(header);
    if (!match?.[1]) throw new MatrixError(401, 'M_MISSING_TOKEN', 'Invalid Authorization header.');
    return match[1];
  }
  const query = ctx.query['access_token'];
  return typeof query === 'string' && query !== '' ? query : undefined;
}

export function authenticate(route: RouteDefinition, cradle: Cradle) {
  const mode = route.options.auth;
  return async (ctx: AxonContext, next: Next): Promise<void> => {
    if (mode !== 'none') {
      const token = accessTokenOf(ctx);
      if (token === undefined) {
        if (mode === 'required') throw new MatrixError(401, 'M_MISSING_TOKEN', 'Missing access token.');
      } else {
        const resolver = resolverOf(cradle);
        if (!resolver) throw new MatrixError(401, 'M_UNKNOWN_TOKEN', 'Unrecognised access token.');
        const requester = await resolver.resolve(token, {
          ip: ctx.ip,
          userAgent: ctx.get('user-agent') || undefined,
        });
        if (requester.isGuest && mode === 'required' && !route.options.allowGuests) {
          throw new MatrixError(403, 'M_GUEST_ACCESS_FORBIDDEN', 'Guest access not allowed.');
        }
        ctx.state.requester = requester;
      }
    }
    await next();
  };
}

function resolverOf(cradle: Cradle): AccessTokenResolver | undefined {
  const c = cradle as Cradle & { accessTokenResolver?: AccessTokenResolver };
  try {
    return c.accessTokenResolver;
  } catch {
    return undefined; // no auth module enabled: no token can be valid
  }
}
