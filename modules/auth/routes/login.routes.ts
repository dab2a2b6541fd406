import { Type } from '@sinclair/typebox';
import type { Cradle } from '../../../core/container.js';
import { accessTokenOf } from '../../../core/http/auth.js';
import { readBody } from '../../../core/http/body.js';
import { requesterOf } from '../../../core/http/context.js';
import type { ModuleRouter } from '../../../core/http/router-registry.js';
import { requestInfo } from './request-info.js';

const LoginBody = Type.Object(
  {
    type: Type.String(),
    identifier: Type.Optional(Type.Object({ type: Type.String() }, { additionalProperties: true })),
    user: Type.Optional(Type.String()),
    password: Type.Optional(Type.String()),
    token: Type.Optional(Type.String()),
    device_id: Type.Optional(Type.String({ minLength: 1, maxLength: 255 })),
    initial_device_display_name: Type.Optional(Type.String()),
    refresh_token: Type.Optional(Type.Boolean()),
  },
  { additionalProperties: true },
);

const RefreshBody = Type.Object({ refresh_token: Type.String() }, { additionalProperties: true });
const AnyObject = Type.Object({}, { additionalProperties: true });

/** Spec: "Login" (legacy API), "Refreshing access tokens", logout, whoami, POST /login/get_token. */
export function loginRoutes(router: ModuleRouter, cradle: Cradle): void {
  router.get('/_matrix/client/v3/login', async (ctx) => {
    ctx.body = { flows: cradle.authLogin.flows() };
  });

  router.post('/_matrix/client/v3/login', async (ctx) => {
    const body = await readBody(ctx, LoginBody);
    ctx.body = await cradle.authLogin.login(body, requestInfo(ctx));
  });

  router.post('/_matrix/client/v3/refresh', async (ctx) => {
    const { refresh_token: refreshToken } = await readBody(ctx, RefreshBody);
    const r = await cradle.authSessions.refresh(refreshToken);
    ctx.body = {
      access_token: r.accessToken,
      refresh_token: r.refreshToken,
      ...(r.expiresInMs !== undefined ? { expires_in_ms: r.expiresInMs } : {}),
    };
  });

  router.post('/_matrix/client/v3/logout', { auth: 'required', allowGuests: true }, async (ctx) => {
    await cradle.authSessions.logout(requesterOf(ctx), accessTokenOf(ctx) ?? '');
    ctx.body = {};
  });

  router.post('/_matrix/client/v3/logout/all', { auth: 'required', allowGuests: true }, async (ctx) => {
    await cradle.authSessions.logoutAll(requesterOf(ctx).userId, accessTokenOf(ctx));
    ctx.body = {};
  });

  router.get('/_matrix/client/v3/account/whoami', { auth: 'required', allowGuests: true }, async (ctx) => {
    const r = requesterOf(ctx);
    ctx.body = {
      user_id: r.userId,
      ...(r.deviceId !== null ? { device_id: r.deviceId } : {}),
      is_guest: r.isGuest,
    };
  });

  if (cradle.authConfig.login_via_existing_session.enabled) {
    router.post('/_matrix/client/v1/login/get_token', { auth: 'required' }, async (ctx) => {
      const body = await readBody(ctx, AnyObject);
      ctx.body = await cradle.authLogin.getLoginToken(requesterOf(ctx), body, requestInfo(ctx));
    });
  }
}
