/** GET preview_url on the authenticated client/v1 path and the legacy media/v3 one (both need a token). */
import type { Cradle } from '../../../core/container.js';
import { MatrixError } from '../../../core/errors.js';
import { requesterOf } from '../../../core/http/context.js';
import type { ModuleRouter } from '../../../core/http/router-registry.js';

export function previewRoutes(router: ModuleRouter, cradle: Cradle): void {
  for (const path of ['/_matrix/client/v1/media/preview_url', '/_matrix/media/v3/preview_url']) {
    router.get(path, { auth: 'required' }, async (ctx) => {
      const url = ctx.query['url'];
      if (typeof url !== 'string' || url === '') {
        throw new MatrixError(400, 'M_MISSING_PARAM', 'Missing parameter: url');
      }
      const rawTs = ctx.query['ts'];
      let ts: number | undefined;
      if (rawTs !== undefined) {
        if (typeof rawTs !== 'string' || !/^\d{1,15}$/.test(rawTs)) {
          throw new MatrixError(400, 'M_INVALID_PARAM', 'ts must be an integer');
        }
        ts = Number(rawTs);
      }
      ctx.body = await cradle.previewService.preview(url, ts, requesterOf(ctx).userId);
    });
  }
}
