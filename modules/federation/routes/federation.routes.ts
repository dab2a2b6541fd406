/** `/_matrix/federation/v1/version` (unauthenticated) and `/_matrix/federation/v1/query/{queryType}`. */
import type { Cradle } from '../../../core/container.js';
import { MatrixError } from '../../../core/errors.js';
import type { ModuleRouter } from '../../../core/http/router-registry.js';
import { federationAuthenticated } from '../api.js';

export const SERVER_SOFTWARE = { name: 'Axon', version: '0.1.0' };

export function federationRoutes(router: ModuleRouter, cradle: Cradle): void {
  router.get('/_matrix/federation/v1/version', async (ctx) => {
    ctx.body = { server: SERVER_SOFTWARE };
  });

  router.get(
    '/_matrix/federation/v1/query/:queryType',
    federationAuthenticated(cradle, async (ctx) => {
      const handler = cradle.federationHandlers.queryHandler(ctx.params['queryType'] ?? '');
      if (!handler) throw new MatrixError(404, 'M_UNRECOGNIZED', 'Unrecognized query type');
      const params: Record<string, string | string[] | undefined> = { ...ctx.query };
      ctx.body = await handler({ origin: ctx.state.federationOrigin!, params });
    }),
  );
}
