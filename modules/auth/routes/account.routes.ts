import { Type } from '@sinclair/typebox';
import type { Cradle } from '../../../core/container.js';
import { readBody } from '../../../core/http/body.js';
import { requesterOf } from '../../../core/http/context.js';
import type { ModuleRouter } from '../../../core/http/router-registry.js';
import { requestInfo } from './request-info.js';

const PasswordBody = Type.Object(
  {
    new_password: Type.Optional(Type.String()),
    logout_devices: Type.Optional(Type.Boolean()),
    auth: Type.Optional(Type.Object({}, { additionalProperties: true })),
  },
  { additionalProperties: true },
);

const DeactivateBody = Type.Object(
  {
    auth: Type.Optional(Type.Object({}, { additionalProperties: true })),
    id_server: Type.Optional(Type.String()),
    erase: Type.Optional(Type.Boolean()),
  },
  { additionalProperties: true },
);

/** Spec: "Account management" (legacy API): password and deactivation (3PIDs: the identity-proxy module). */
export function accountRoutes(router: ModuleRouter, cradle: Cradle): void {
  // Without a token: a password reset by email (when the identity-proxy module provides the UIA stage).
  router.post('/_matrix/client/v3/account/password', { auth: 'optional' }, async (ctx) => {
    const body = await readBody(ctx, PasswordBody);
    await cradle.authAccount.changePassword(ctx.state.requester ?? null, body, requestInfo(ctx));
    ctx.body = {};
  });

  router.post('/_matrix/client/v3/account/deactivate', { auth: 'required' }, async (ctx) => {
    const body = await readBody(ctx, DeactivateBody);
    ctx.body = await cradle.authAccount.deactivate(requesterOf(ctx), body, requestInfo(ctx));
  });
}
