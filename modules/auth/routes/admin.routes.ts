import { Type } from '@sinclair/typebox';
import type { Cradle } from '../../../core/container.js';
import { MatrixError } from '../../../core/errors.js';
import { readBody } from '../../../core/http/body.js';
import { requesterOf, type AxonContext } from '../../../core/http/context.js';
import type { ModuleRouter } from '../../../core/http/router-registry.js';

const AnyObject = Type.Object({}, { additionalProperties: true });

async function requireAdmin(ctx: AxonContext, cradle: Cradle): Promise<void> {
  if (!(await cradle.authApi.isServerAdmin(requesterOf(ctx).userId))) {
    throw new MatrixError(403, 'M_FORBIDDEN', 'You are not a server admin');
  }
}

/** Synapse's admin API: shared-secret registration and registration tokens. */
export function adminRoutes(router: ModuleRouter, cradle: Cradle): void {
  router.get('/_synapse/admin/v1/register', async (ctx) => {
    if (!cradle.authConfig.registration_shared_secret) {
      throw new MatrixError(400, 'M_UNKNOWN', 'Shared secret registration is not enabled');
    }
    ctx.body = { nonce: cradle.authRegistration.nonce() };
  });

  router.post('/_synapse/admin/v1/register', async (ctx) => {
    const body = await readBody(ctx, AnyObject);
    ctx.body = await cradle.authRegistration.sharedSecretRegister(body);
  });

  const tokens = '/_synapse/admin/v1/registration_tokens';
  router.get(tokens, { auth: 'required' }, async (ctx) => {
    await requireAdmin(ctx, cradle);
    const valid = ctx.query['valid'];
    const filter = valid === 'true' ? true : valid === 'false' ? false : undefined;
    ctx.body = { registration_tokens: await cradle.authRegistrationTokens.list(filter) };
  });

  router.post(`${tokens}/new`, { auth: 'required' }, async (ctx) => {
    await requireAdmin(ctx, cradle);
    ctx.body = await cradle.authRegistrationTokens.create(await readBody(ctx, AnyObject));
  });

  router.get(`${tokens}/:token`, { auth: 'required' }, async (ctx) => {
    await requireAdmin(ctx, cradle);
    ctx.body = await cradle.authRegistrationTokens.get(ctx.params['token'] ?? '');
  });

  router.put(`${tokens}/:token`, { auth: 'required' }, async (ctx) => {
    await requireAdmin(ctx, cradle);
    ctx.body = await cradle.authRegistrationTokens.update(
      ctx.params['token'] ?? '',
      await readBody(ctx, AnyObject),
    );
  });

  router.delete(`${tokens}/:token`, { auth: 'required' }, async (ctx) => {
    await requireAdmin(ctx, cradle);
    await cradle.authRegistrationTokens.delete(ctx.params['token'] ?? '');
    ctx.body = {};
  });
}
