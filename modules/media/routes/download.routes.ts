/**
 * Download and thumbnail, on the authenticated client/v1 paths and the deprecated unauthenticated media/v3
 * ones (which serve only media uploaded before enable_authenticated_media froze them).
 */
import type { Cradle } from '../../../core/container.js';
import type { AxonContext } from '../../../core/http/context.js';
import type { ModuleRouter } from '../../../core/http/router-registry.js';
import { assertMediaAddress } from '../ids.js';
import type { LookupOptions } from '../services/media-service.js';
import { contentDisposition } from './content-headers.js';
import { booleanParam, requiredIntegerParam, stringParam, timeoutParam } from './query.js';
import { sendContent } from './send-content.js';
import { MatrixError } from '../../../core/errors.js';

const MAX_THUMBNAIL_DIMENSION = 10_000;

function lookupOptions(ctx: AxonContext, legacy: boolean): LookupOptions {
  booleanParam(ctx, 'allow_redirect'); // accepted; Axon serves content itself and never redirects
  return {
    legacy,
    allowRemote: legacy ? (booleanParam(ctx, 'allow_remote') ?? true) : true,
    timeoutMs: timeoutParam(ctx),
  };
}

function address(ctx: AxonContext): { serverName: string; mediaId: string } {
  const { serverName = '', mediaId = '' } = ctx.params;
  assertMediaAddress(serverName, mediaId);
  return { serverName, mediaId };
}

export function downloadRoutes(router: ModuleRouter, cradle: Cradle): void {
  const download = (legacy: boolean) => async (ctx: AxonContext) => {
    const { serverName, mediaId } = address(ctx);
    const media = await cradle.mediaService.find(serverName, mediaId, lookupOptions(ctx, legacy));
    const fileName = ctx.params['fileName'] ?? media.uploadName;
    await sendContent(ctx, {
      length: media.length,
      mediaType: media.mediaType,
      disposition: contentDisposition(media.mediaType, fileName),
      open: (range) => cradle.mediaService.open(media.contentHash, range),
    });
  };

  const thumbnail = (legacy: boolean) => async (ctx: AxonContext) => {
    const { serverName, mediaId } = address(ctx);
    const dimension = { min: 1, max: MAX_THUMBNAIL_DIMENSION };
    const width = requiredIntegerParam(ctx, 'width', dimension);
    const height = requiredIntegerParam(ctx, 'height', dimension);
    const method = stringParam(ctx, 'method') ?? 'scale';
    if (method !== 'scale' && method !== 'crop') {
      throw new MatrixError(400, 'M_INVALID_PARAM', 'method must be crop or scale');
    }
    const animated = booleanParam(ctx, 'animated') ?? false;
    const thumb = await cradle.thumbnailService.thumbnail(
      serverName,
      mediaId,
      { width, height, method, animated },
      lookupOptions(ctx, legacy),
    );
    const extension = thumb.mediaType.split('/')[1] ?? 'bin';
    await sendContent(ctx, {
      length: thumb.length,
      mediaType: thumb.mediaType,
      disposition: `inline; filename="thumbnail.${extension}"`,
      open: (range) => cradle.mediaService.open(thumb.contentHash, range),
    });
  };

  for (const suffix of ['', '/:fileName']) {
    router.get(
      `/_matrix/client/v1/media/download/:serverName/:mediaId${suffix}`,
      { auth: 'required' },
      download(false),
    );
    router.get(`/_matrix/media/v3/download/:serverName/:mediaId${suffix}`, { auth: 'none' }, download(true));
  }
  router.get(
    '/_matrix/client/v1/media/thumbnail/:serverName/:mediaId',
    { auth: 'required' },
    thumbnail(false),
  );
  router.get('/_matrix/media/v3/thumbnail/:serverName/:mediaId', { auth: 'none' }, thumbnail(true));
}
