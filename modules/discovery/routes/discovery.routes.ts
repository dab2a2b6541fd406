import type { Cradle } from '../../../core/container.js';
import { MatrixError } from '../../../core/errors.js';
import type { ModuleRouter } from '../../../core/http/router-registry.js';

export function discoveryRoutes(router: ModuleRouter, cradle: Cradle): void {
  router.get('/_matrix/client/versions', async (ctx) => {
    ctx.body = cradle.discoveryService.versions();
  });

  router.get('/_matrix/client/v3/capabilities', { auth: 'required', allowGuests: true }, async (ctx) => {
    ctx.body = cradle.discoveryService.capabilities();
  });

  router.get('/.well-known/matrix/client', async (ctx) => {
    const body = cradle.discoveryService.clientWellKnown();
    if (!body) throw new MatrixError(404, 'M_NOT_FOUND', 'No .well-known/matrix/client is configured');
    ctx.body = body;
  });

  router.get('/.well-known/matrix/server', async (ctx) => {
    const body = cradle.discoveryService.serverWellKnown();
    if (!body) throw new MatrixError(404, 'M_NOT_FOUND', 'No .well-known/matrix/server is configured');
    ctx.body = body;
  });
}
