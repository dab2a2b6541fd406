import { Type } from '@sinclair/typebox';
import type { Cradle } from '../../../core/container.js';
import { readBody } from '../../../core/http/body.js';
import { requesterOf } from '../../../core/http/context.js';
import { limitAction } from '../../rate-limits/api.js';
import type { ModuleRouter } from '../../../core/http/router-registry.js';

const PresenceBody = Type.Object({
  presence: Type.Union([Type.Literal('online'), Type.Literal('offline'), Type.Literal('unavailable')]),
  status_msg: Type.Optional(Type.String({ maxLength: 1024 })),
});

export function presenceRoutes(router: ModuleRouter, cradle: Cradle): void {
  const path = '/_matrix/client/v3/presence/:userId/status';
  router.put(path, { auth: 'required', allowGuests: true }, async (ctx) => {
    const body = await readBody(ctx, PresenceBody);
    await limitAction(ctx, 'presence');
    const { userId } = ctx.params as { userId: string };
    await cradle.presenceService.setStatus(requesterOf(ctx).userId, userId, body.presence, body.status_msg);
    ctx.body = {};
  });
  router.get(path, { auth: 'required', allowGuests: true }, async (ctx) => {
    const { userId } = ctx.params as { userId: string };
    ctx.body = await cradle.presenceService.getStatus(requesterOf(ctx).userId, userId);
  });
}
