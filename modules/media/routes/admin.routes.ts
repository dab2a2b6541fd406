/**
 * Synapse's media admin API, for server admins only: quarantine, unquarantine and delete one item.
 * https://element-hq.github.io/synapse/latest/admin_api/media_admin_api.html
 */
import type { Cradle } from '../../../core/container.js';
import { MatrixError } from '../../../core/errors.js';
import { requesterOf, type AxonContext } from '../../../core/http/context.js';
import type { ModuleRouter } from '../../../core/http/router-registry.js';
import { assertMediaAddress } from '../ids.js';

/** Resolved per request: with the auth module disabled there is no admin (and no token) at all. */
function adminCheckOf(cradle: Cradle): Pick<Cradle['authApi'], 'isServerAdmin'> | undefined {
  try {
    return cradle.authApi;
  } catch {
    return undefined;
  }
}

async function assertAdmin(ctx: AxonContext, cradle: Cradle): Promise<string> {
  const { userId } = requesterOf(ctx);
  const check = adminCheckOf(cradle);
  if (!check || !(await check.isServerAdmin(userId))) {
    throw new MatrixError(403, 'M_FORBIDDEN', 'You are not a server admin');
  }
  return userId;
}

function address(ctx: AxonContext): { serverName: string; mediaId: string } {
  const { serverName = '', mediaId = '' } = ctx.params;
  assertMediaAddress(serverName, mediaId);
  return { serverName, mediaId };
}

export function adminRoutes(router: ModuleRouter, cradle: Cradle): void {
  router.post(
    '/_synapse/admin/v1/media/quarantine/:serverName/:mediaId',
    { auth: 'required' },
    async (ctx) => {
      const admin = await assertAdmin(ctx, cradle);
      const { serverName, mediaId } = address(ctx);
      await cradle.mediaService.setQuarantine(serverName, mediaId, admin);
      ctx.body = {};
    },
  );

  router.post(
    '/_synapse/admin/v1/media/unquarantine/:serverName/:mediaId',
    { auth: 'required' },
    async (ctx) => {
      await assertAdmin(ctx, cradle);
      const { serverName, mediaId } = address(ctx);
      await cradle.mediaService.setQuarantine(serverName, mediaId, null);
      ctx.body = {};
    },
  );

  router.delete('/_synapse/admin/v1/media/:serverName/:mediaId', { auth: 'required' }, async (ctx) => {
    await assertAdmin(ctx, cradle);
    const { serverName, mediaId } = address(ctx);
    await cradle.mediaService.delete(serverName, mediaId);
    ctx.body = { deleted_media: [mediaId], total: 1 };
  });
}
