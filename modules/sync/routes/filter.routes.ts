/** POST/GET /user/{userId}/filter, spec "Filtering". */
import type { Cradle } from '../../../core/container.js';
import { MatrixError } from '../../../core/errors.js';
import { readJson } from '../../../core/http/body.js';
import { requesterOf, type AxonContext } from '../../../core/http/context.js';
import type { ModuleRouter } from '../../../core/http/router-registry.js';

function ownUser(ctx: AxonContext, verb: string): string {
  const userId = ctx.params['userId'] ?? '';
  if (requesterOf(ctx).userId !== userId)
    throw new MatrixError(403, 'M_FORBIDDEN', `Cannot ${verb} filters for other users`);
  return userId;
}

export function filterRoutes(router: ModuleRouter, cradle: Cradle): void {
  const opts = { auth: 'required', allowGuests: true } as const;

  router.post('/_matrix/client/v3/user/:userId/filter', opts, async (ctx) => {
    const userId = ownUser(ctx, 'create');
    ctx.body = { filter_id: await cradle.syncFiltersService.create(userId, await readJson(ctx)) };
  });

  router.get('/_matrix/client/v3/user/:userId/filter/:filterId', opts, async (ctx) => {
    const userId = ownUser(ctx, 'get');
    ctx.body = await cradle.syncFiltersService.get(userId, ctx.params['filterId'] ?? '');
  });
}
