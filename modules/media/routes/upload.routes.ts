/** POST /upload, POST /create + PUT /upload/{serverName}/{mediaId}, and GET /config (both prefixes). */
import type { Cradle } from '../../../core/container.js';
import { requesterOf, type AxonContext } from '../../../core/http/context.js';
import { limitAction } from '../../rate-limits/api.js';
import type { ModuleRouter } from '../../../core/http/router-registry.js';
import { assertMediaAddress } from '../ids.js';
import type { UploadInput } from '../services/media-service.js';
import { stringParam } from './query.js';

function uploadInput(ctx: AxonContext): UploadInput {
  return {
    userId: requesterOf(ctx).userId,
    mediaType: ctx.get('content-type') || undefined,
    uploadName: stringParam(ctx, 'filename') || undefined,
    content: ctx.req,
    declaredLength: ctx.request.length,
  };
}

export function uploadRoutes(router: ModuleRouter, cradle: Cradle): void {
  router.post('/_matrix/media/v3/upload', { auth: 'required' }, async (ctx) => {
    const { contentUri } = await cradle.mediaService.upload(uploadInput(ctx));
    ctx.body = { content_uri: contentUri };
  });

  router.post('/_matrix/media/v1/create', { auth: 'required' }, async (ctx) => {
    await limitAction(ctx, 'media_create');
    const { contentUri, unusedExpiresAt } = await cradle.mediaService.create(requesterOf(ctx).userId);
    ctx.body = { content_uri: contentUri, unused_expires_at: unusedExpiresAt };
  });

  router.put('/_matrix/media/v3/upload/:serverName/:mediaId', { auth: 'required' }, async (ctx) => {
    const { serverName = '', mediaId = '' } = ctx.params;
    assertMediaAddress(serverName, mediaId);
    await cradle.mediaService.uploadTo(serverName, mediaId, uploadInput(ctx));
    ctx.body = {};
  });

  for (const path of ['/_matrix/client/v1/media/config', '/_matrix/media/v3/config']) {
    router.get(path, { auth: 'required' }, async (ctx) => {
      ctx.body = { 'm.upload.size': cradle.mediaService.maxUploadSize };
    });
  }
}
