import { Type } from '@sinclair/typebox';
import type { Cradle } from '../../../core/container.js';
import { MatrixError } from '../../../core/errors.js';
import { readBody } from '../../../core/http/body.js';
import type { ModuleRouter } from '../../../core/http/router-registry.js';
import { parseRequest } from '../../../core/validation.js';
import { requestInfo } from './request-info.js';

const RegisterBody = Type.Object(
  {
    auth: Type.Optional(Type.Object({}, { additionalProperties: true })),
    username: Type.Optional(Type.String()),
    password: Type.Optional(Type.String()),
    device_id: Type.Optional(Type.String({ minLength: 1, maxLength: 255 })),
    initial_device_display_name: Type.Optional(Type.String()),
    inhibit_login: Type.Optional(Type.Boolean()),
    refresh_token: Type.Optional(Type.Boolean()),
  },
  { additionalProperties: true },
);

const KindQuery = Type.Object({
  kind: Type.Optional(Type.Union([Type.Literal('user'), Type.Literal('guest')])),
});

/** Spec: "Account registration" (legacy API), "Token-authenticated registration". */
export function registerRoutes(router: ModuleRouter, cradle: Cradle): void {
  router.post('/_matrix/client/v3/register', async (ctx) => {
    const { kind } = parseRequest(KindQuery, { kind: ctx.query['kind'] }, 'query');
    const body = await readBody(ctx, RegisterBody);
    ctx.body =
      kind === 'guest'
        ? await cradle.authRegistration.registerGuest(body, requestInfo(ctx))
        : await cradle.authRegistration.register(body, requestInfo(ctx));
  });

  router.get('/_matrix/client/v3/register/available', async (ctx) => {
    const username = ctx.query['username'];
    if (typeof username !== 'string')
      throw new MatrixError(400, 'M_MISSING_PARAM', 'Missing parameter: username');
    cradle.authRateLimits.registration.assert(ctx.ip, { update: false });
    ctx.body = { available: await cradle.authRegistration.available(username) };
  });

  router.get('/_matrix/client/v1/register/m.login.registration_token/validity', async (ctx) => {
    if (!cradle.authConfig.enable_registration) {
      throw new MatrixError(403, 'M_FORBIDDEN', 'Registration is not enabled on this homeserver.');
    }
    const token = ctx.query['token'];
    if (typeof token !== 'string') throw new MatrixError(400, 'M_MISSING_PARAM', 'Missing parameter: token');
    cradle.authRateLimits.tokenValidity.assert(ctx.ip);
    ctx.body = { valid: await cradle.authRegistrationTokens.isValid(token) };
  });
}
