/**
 * One koa application per listener, reading top to bottom like Verdaccio's defineAPI: request id and access
 * log, CORS, error rendering, the routes this listener's resources serve, then 405 and 404 catch-alls.
 */
import Koa, { type Next } from 'koa';
import Router, { type RouterMiddleware } from '@koa/router';
import cors from '@koa/cors';
import { asValue } from 'awilix';
import type { Logger } from 'pino';
import { MatrixError } from '../errors.js';
import type { AxonContainer } from '../container.js';
import type { AxonContext, AxonState } from './context.js';
import { renderErrors } from './render-error.js';
import { authenticate } from './auth.js';
import type { RouterRegistry } from './router-registry.js';

export interface AppOptions {
  readonly resources: ReadonlySet<string>;
  readonly xForwarded: boolean;
  readonly listenerName: string;
  /** Counts and times every request when `enable_metrics` is on (core/http/metrics.ts). */
  readonly metrics?: { middleware(): (ctx: AxonContext, next: Next) => Promise<void> };
}

let requestCounter = 0;

export function buildApp(
  container: AxonContainer,
  registry: RouterRegistry,
  options: AppOptions,
): Koa<AxonState> {
  const app = new Koa<AxonState>();
  app.proxy = options.xForwarded;
  app.silent = true; // errors are rendered and logged by renderErrors, not by koa's default handler
  const logger: Logger = container.cradle.logger.child({ listener: options.listenerName });

  if (options.metrics) app.use(options.metrics.middleware());
  // Synapse's `synapse.access.http.<port>`: its own logger, so a log config can quieten or redirect it.
  const accessLogger = logger.child({ name: `axon.access.http.${options.listenerName.split(':').at(-1)}` });
  app.use(accessLog(container, logger, accessLogger));
  app.use(
    cors({
      origin: '*',
      allowMethods: ['GET', 'HEAD', 'POST', 'PUT', 'DELETE', 'OPTIONS'],
      allowHeaders: ['X-Requested-With', 'Content-Type', 'Authorization', 'Date'],
    }),
  );
  app.use(renderErrors);
  app.use(refuseBodyOnBodilessMethod);
  // Upstream of the router so that allowedMethods (405) decides first on the way back.
  app.use(async (ctx: AxonContext, next: Next) => {
    await next();
    if (ctx.status === 404 && ctx.body === undefined) {
      throw new MatrixError(404, 'M_UNRECOGNIZED', 'Unrecognized request');
    }
  });

  const router = new Router<AxonState>();
  for (const route of registry.routesFor(options.resources)) {
    const auth = authenticate(route, container.cradle);
    router.register(route.path, [route.method], [
      refuseNulInParams,
      auth,
      route.handler,
    ] as RouterMiddleware<AxonState>[]);
  }
  app.use(router.routes());
  app.use(
    router.allowedMethods({
      throw: true,
      methodNotAllowed: () => new MatrixError(405, 'M_UNRECOGNIZED', 'Method not allowed'),
      notImplemented: () => new MatrixError(405, 'M_UNRECOGNIZED', 'Method not allowed'),
    }),
  );
  return app;
}

/**
 * GET and HEAD take no body (RFC 9110 §9.3.1): one sent anyway is a confused or hostile client, and on a
 * keep-alive connection its bytes would otherwise be read and thrown away. Refused before routing.
 */
async function refuseBodyOnBodilessMethod(ctx: AxonContext, next: Next): Promise<void> {
  if (ctx.method === 'GET' || ctx.method === 'HEAD') {
    const length = ctx.get('content-length');
    if ((length !== '' && length !== '0') || ctx.get('transfer-encoding') !== '') {
      throw new MatrixError(400, 'M_UNRECOGNIZED', `A ${ctx.method} request takes no body`);
    }
  }
  await next();
}

/**
 * No identifier, event type, state key or txn id may hold U+0000: PostgreSQL cannot store it at all, so it
 * would fail deep in a write on one engine and not the other. Refused for every route, once, here.
 */
async function refuseNulInParams(ctx: AxonContext, next: Next): Promise<void> {
  for (const value of Object.values(ctx.params ?? {})) {
    if (typeof value === 'string' && value.includes('\u0000')) {
      throw new MatrixError(400, 'M_INVALID_PARAM', 'A path parameter may not contain U+0000');
    }
  }
  await next();
}

function accessLog(container: AxonContainer, logger: Logger, accessLogger: Logger) {
  return async (ctx: AxonContext, next: Next): Promise<void> => {
    const started = process.hrtime.bigint();
    const requestId = `${(++requestCounter).toString(36)}`;
    ctx.state.requestId = requestId;
    // Made on first use (after authentication, so the logger names the user): most requests never log and
    // never resolve anything from the request scope.
    let requestLogger: Logger | undefined;
    let scope: AxonState['scope'] | undefined;
    Object.defineProperties(ctx.state, {
      logger: {
        get: () => {
          const user = ctx.state.requester?.userId;
          return (requestLogger ??= logger.child(user ? { requestId, user } : { requestId }));
        },
        set: (value: Logger) => void (requestLogger = value),
        enumerable: true,
        configurable: true,
      },
      scope: {
        get: () => {
          if (!scope) {
            scope = container.createScope();
            scope.register({ requestId: asValue(requestId) });
          }
          return scope;
        },
        enumerable: true,
        configurable: true,
      },
    });
    try {
      await next();
    } finally {
      const ms = Number(process.hrtime.bigint() - started) / 1e6;
      if (accessLogger.isLevelEnabled('info'))
        accessLogger.info(
          {
            requestId,
            ...(ctx.state.requester && { user: ctx.state.requester.userId }),
            method: ctx.method,
            path: ctx.path,
            status: ctx.status,
            ms: Math.round(ms * 100) / 100,
            ip: ctx.ip,
          },
          'request',
        );
    }
  };
}
