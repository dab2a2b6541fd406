/** POST /keys/upload, /keys/query, /keys/claim; GET /keys/changes (spec "Key management API"). */
import { Type } from '@sinclair/typebox';
import type { Cradle } from '../../../core/container.js';
import { readBody } from '../../../core/http/body.js';
import { requesterOf } from '../../../core/http/context.js';
import type { ModuleRouter } from '../../../core/http/router-registry.js';
import { MatrixError } from '../../../core/errors.js';
import { parseRequest } from '../../../core/validation.js';
import { DEVICE_LISTS_STREAM } from '../services/device-lists-service.js';
import { streamPositionOf } from '../services/sync-token-position.js';

const AnyObject = Type.Record(Type.String(), Type.Unknown());

const UploadBody = Type.Object({
  device_keys: Type.Optional(AnyObject),
  one_time_keys: Type.Optional(AnyObject),
  fallback_keys: Type.Optional(AnyObject),
});

const QueryBody = Type.Object({
  device_keys: Type.Record(Type.String(), Type.Array(Type.String())),
  timeout: Type.Optional(Type.Integer()),
});

const ClaimBody = Type.Object({
  one_time_keys: Type.Record(Type.String(), Type.Record(Type.String(), Type.String())),
  timeout: Type.Optional(Type.Integer()),
});

const ChangesQuery = Type.Object({ from: Type.String(), to: Type.String() });

export function keysRoutes(router: ModuleRouter, cradle: Cradle): void {
  router.post('/_matrix/client/v3/keys/upload', { auth: 'required', allowGuests: true }, async (ctx) => {
    const requester = requesterOf(ctx);
    if (requester.deviceId === null)
      throw new MatrixError(400, 'M_MISSING_PARAM', 'Uploading keys needs an access token with a device');
    const body = await readBody(ctx, UploadBody);
    ctx.body = {
      one_time_key_counts: await cradle.e2eeKeys.upload(requester.userId, requester.deviceId, body),
    };
  });

  router.post('/_matrix/client/v3/keys/query', { auth: 'required', allowGuests: true }, async (ctx) => {
    const body = await readBody(ctx, QueryBody);
    ctx.body = await cradle.e2eeKeys.query(requesterOf(ctx).userId, body.device_keys);
  });

  router.post('/_matrix/client/v3/keys/claim', { auth: 'required', allowGuests: true }, async (ctx) => {
    const body = await readBody(ctx, ClaimBody);
    ctx.body = await cradle.e2eeKeys.claim(body.one_time_keys);
  });

  router.get('/_matrix/client/v3/keys/changes', { auth: 'required', allowGuests: true }, async (ctx) => {
    const query = parseRequest(ChangesQuery, { ...ctx.query }, 'query');
    const from = streamPositionOf(query.from, DEVICE_LISTS_STREAM);
    const to = streamPositionOf(query.to, DEVICE_LISTS_STREAM);
    const changes = await cradle.e2eeDeviceLists.changesBetween(requesterOf(ctx).userId, from, to);
    ctx.body = { changed: [...changes.changed], left: [...changes.left] };
  });
}
