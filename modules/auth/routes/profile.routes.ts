import { Type } from '@sinclair/typebox';
import type { Cradle } from '../../../core/container.js';
import { readBody } from '../../../core/http/body.js';
import { requesterOf } from '../../../core/http/context.js';
import type { ModuleRouter } from '../../../core/http/router-registry.js';

const AnyObject = Type.Object({}, { additionalProperties: true });

/** Spec: "Profiles" (v1.16+ per-field endpoints). */
export function profileRoutes(router: ModuleRouter, cradle: Cradle): void {
  // Synapse's require_auth_for_profile_requests: the reads need an access token.
  const readAuth = cradle.authConfig.require_auth_for_profile_requests ? 'required' : 'optional';
  router.get('/_matrix/client/v3/profile/:userId', { auth: readAuth }, async (ctx) => {
    ctx.body = await cradle.authProfiles.getFor(ctx.state.requester?.userId, ctx.params['userId'] ?? '');
  });

  router.get('/_matrix/client/v3/profile/:userId/:keyName', { auth: readAuth }, async (ctx) => {
    ctx.body = await cradle.authProfiles.getField(
      ctx.state.requester?.userId,
      ctx.params['userId'] ?? '',
      ctx.params['keyName'] ?? '',
    );
  });

  router.put(
    '/_matrix/client/v3/profile/:userId/:keyName',
    { auth: 'required', allowGuests: true },
    async (ctx) => {
      const body = await readBody(ctx, AnyObject);
      await cradle.authProfiles.setField(
        requesterOf(ctx),
        ctx.params['userId'] ?? '',
        ctx.params['keyName'] ?? '',
        body,
      );
      ctx.body = {};
    },
  );

  router.delete(
    '/_matrix/client/v3/profile/:userId/:keyName',
    { auth: 'required', allowGuests: true },
    async (ctx) => {
      await cradle.authProfiles.deleteField(
        requesterOf(ctx),
        ctx.params['userId'] ?? '',
        ctx.params['keyName'] ?? '',
      );
      ctx.body = {};
    },
  );
}
