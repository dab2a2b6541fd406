/**
 * Spec: "Adding Account Administrative Contact Information", registration and password reset
 * `…/email/requestToken` and `…/msisdn/requestToken`; the links mailed to users (Synapse's paths) and the
 * JSON submit_url.
 */
import { Type } from '@sinclair/typebox';
import type { Cradle } from '../../../core/container.js';
import { MatrixError } from '../../../core/errors.js';
import { readBody, readRaw } from '../../../core/http/body.js';
import type { AxonContext } from '../../../core/http/context.js';
import type { ModuleRouter } from '../../../core/http/router-registry.js';
import type { ValidationPurpose } from '../store/validation-sessions-store.js';
import { LINK_PATHS, MSISDN_SUBMIT_PATH, SUBMIT_PATHS } from '../services/validation-service.js';

const AnyObject = Type.Object({}, { additionalProperties: true });
const SubmitBody = Type.Object(
  { sid: Type.String(), client_secret: Type.String(), token: Type.String() },
  { additionalProperties: true },
);

const REQUEST_TOKEN_PATHS: Readonly<Record<ValidationPurpose, string>> = {
  registration: '/_matrix/client/v3/register',
  password_reset: '/_matrix/client/v3/account/password',
  add_threepid: '/_matrix/client/v3/account/3pid',
};

const PURPOSES: readonly ValidationPurpose[] = ['registration', 'password_reset', 'add_threepid'];

function html(ctx: AxonContext, status: number, body: string): void {
  ctx.status = status;
  ctx.type = 'text/html; charset=utf-8';
  ctx.set('Cache-Control', 'no-store');
  // The pages carry no script; nothing else may run or frame them.
  ctx.set(
    'Content-Security-Policy',
    "default-src 'none'; style-src 'unsafe-inline'; form-action 'self'; frame-ancestors 'none'",
  );
  ctx.body = body;
}

const queryString = (ctx: AxonContext, name: string): string | undefined => {
  const v = ctx.query[name];
  return typeof v === 'string' ? v : undefined;
};

export function validationRoutes(router: ModuleRouter, cradle: Cradle): void {
  const validation = (): Cradle['identityProxyValidation'] => cradle.identityProxyValidation;

  for (const purpose of PURPOSES) {
    router.post(`${REQUEST_TOKEN_PATHS[purpose]}/email/requestToken`, async (ctx) => {
      const body = await readBody(ctx, AnyObject);
      cradle.identityProxyRateLimits.ip.assert(ctx.ip);
      ctx.body = await validation().requestEmailToken(purpose, body);
    });

    router.post(`${REQUEST_TOKEN_PATHS[purpose]}/msisdn/requestToken`, async (ctx) => {
      const body = await readBody(ctx, AnyObject);
      cradle.identityProxyRateLimits.ip.assert(ctx.ip);
      ctx.body = await validation().requestMsisdnToken(purpose, body);
    });

    // The JSON submit_url: a client that lets the user type the token posts it here.
    router.post(SUBMIT_PATHS[purpose], async (ctx) => {
      const body = await readBody(ctx, SubmitBody);
      await validation().submitToken(purpose, body);
      ctx.body = { success: true };
    });
  }

  router.post(MSISDN_SUBMIT_PATH, async (ctx) => {
    ctx.body = await validation().submitMsisdnToken(await readBody(ctx, SubmitBody));
  });

  const templates = (): Cradle['identityProxyTemplates'] => cradle.identityProxyTemplates;
  const vars = { server_name: cradle.serverName };

  /** The mailed link: validates, then redirects to next_link or shows the success page. */
  const linkHandler =
    (purpose: ValidationPurpose, page: string) =>
    async (
      ctx: AxonContext,
      input: { sid: unknown; client_secret: unknown; token: unknown },
    ): Promise<void> => {
      try {
        const { nextLink } = await validation().submitToken(purpose, input);
        if (nextLink) {
          ctx.redirect(nextLink);
          return;
        }
        html(ctx, 200, templates().render(`${page}_success.html`, vars));
      } catch (err) {
        if (!(err instanceof MatrixError)) throw err;
        html(
          ctx,
          err.status,
          templates().render(`${page}_failure.html`, { ...vars, failure_reason: err.message }),
        );
      }
    };

  const fromQuery = (
    ctx: AxonContext,
  ): { sid: string | undefined; client_secret: string | undefined; token: string | undefined } => ({
    sid: queryString(ctx, 'sid'),
    client_secret: queryString(ctx, 'client_secret'),
    token: queryString(ctx, 'token'),
  });

  const registration = linkHandler('registration', 'registration');
  router.get(LINK_PATHS.registration, async (ctx) => registration(ctx, fromQuery(ctx)));
  const addThreepid = linkHandler('add_threepid', 'add_threepid');
  router.get(LINK_PATHS.add_threepid, async (ctx) => addThreepid(ctx, fromQuery(ctx)));

  // Password reset: the link shows a confirmation form first (as Synapse), so a mail scanner that follows
  // links cannot validate the reset by itself; the form's POST validates.
  router.get(LINK_PATHS.password_reset, async (ctx) => {
    const input = fromQuery(ctx);
    html(
      ctx,
      200,
      templates().render('password_reset_confirmation.html', {
        ...vars,
        form_action: LINK_PATHS.password_reset,
        sid: input.sid ?? '',
        client_secret: input.client_secret ?? '',
        token: input.token ?? '',
      }),
    );
  });
  const passwordReset = linkHandler('password_reset', 'password_reset');
  router.post(LINK_PATHS.password_reset, async (ctx) => {
    const form = new URLSearchParams((await readRaw(ctx, 64 * 1024)).toString('utf8'));
    await passwordReset(ctx, {
      sid: form.get('sid') ?? undefined,
      client_secret: form.get('client_secret') ?? undefined,
      token: form.get('token') ?? undefined,
    });
  });
}
