/**
 * Where modules declare their endpoints. Each route records the module that owns it and the listener
 * resources (`client`, `federation`, `media`, …) that serve it, so a listener only mounts what its
 * `resources` name and a disabled module's routes simply do not exist (they answer M_UNRECOGNIZED).
 */
import type { AxonContext } from './context.js';

export type HttpMethod = 'GET' | 'POST' | 'PUT' | 'DELETE' | 'PATCH';
export type ResourceName = 'client' | 'federation' | 'media' | 'keys' | 'health' | 'openid';

export interface RouteOptions {
  /** `required`: 401 without a valid token; `optional`: requester set if a token is sent; `none`: ignored. */
  readonly auth?: 'required' | 'optional' | 'none';
  /** With `auth: 'required'`, whether guest accounts may call it (the spec lists the ones they may). */
  readonly allowGuests?: boolean;
  /** Resources that serve it; by default derived from the path prefix. */
  readonly resources?: readonly ResourceName[];
}

export type RouteHandler = (ctx: AxonContext) => Promise<void>;

export interface RouteDefinition {
  readonly module: string;
  readonly method: HttpMethod;
  readonly path: string;
  readonly options: Required<Pick<RouteOptions, 'auth' | 'allowGuests'>> & {
    resources: readonly ResourceName[];
  };
  readonly handler: RouteHandler;
}

export interface ModuleRouter {
  get(path: string, handler: RouteHandler): void;
  get(path: string, options: RouteOptions, handler: RouteHandler): void;
  post(path: string, handler: RouteHandler): void;
  post(path: string, options: RouteOptions, handler: RouteHandler): void;
  put(path: string, handler: RouteHandler): void;
  put(path: string, options: RouteOptions, handler: RouteHandler): void;
  delete(path: string, handler: RouteHandler): void;
  delete(path: string, options: RouteOptions, handler: RouteHandler): void;
}

/** Synapse serves the legacy `r0` prefix as an alias of `v3` for the client and media APIs. */
const R0_ALIASED = /^\/_matrix\/(client|media)\/v3\//;

export function resourcesForPath(path: string): ResourceName[] {
  if (path.startsWith('/_matrix/federation/')) return ['federation'];
  if (path.startsWith('/_matrix/key/')) return ['federation', 'keys'];
  if (path.startsWith('/_matrix/media/')) return ['media', 'client'];
  if (path.startsWith('/_matrix/client/v1/media/')) return ['media', 'client'];
  if (path.startsWith('/.well-known/matrix/server')) return ['federation', 'client'];
  if (path.startsWith('/_matrix/client/unstable/org.matrix.msc') && path.includes('/media/'))
    return ['media', 'client'];
  return ['client'];
}

export class RouterRegistry {
  private readonly routes: RouteDefinition[] = [];

  /** The router a module receives in `routes()`: everything it registers is tagged with its name. */
  forModule(module: string): ModuleRouter {
    const add =
      (method: HttpMethod) =>
      (path: string, a: RouteOptions | RouteHandler, b?: RouteHandler): void => {
        const options = typeof a === 'function' ? {} : a;
        const handler = typeof a === 'function' ? a : b;
        if (!handler) throw new Error(`${module}: ${method} ${path} has no handler`);
        this.add(module, method, path, options, handler);
      };
    return { get: add('GET'), post: add('POST'), put: add('PUT'), delete: add('DELETE') };
  }

  add(module: string, method: HttpMethod, path: string, options: RouteOptions, handler: RouteHandler): void {
    const resolved = {
      auth: options.auth ?? 'none',
      allowGuests: options.allowGuests ?? false,
      resources: options.resources ?? resourcesForPath(path),
    };
    const paths = R0_ALIASED.test(path) ? [path, path.replace('/v3/', '/r0/')] : [path];
    for (const p of paths) {
      const clash = this.routes.find((r) => r.method === method && r.path === p);
      if (clash) throw new Error(`${module}: ${method} ${p} is already registered by module ${clash.module}`);
      this.routes.push({ module, method, path: p, options: resolved, handler });
    }
  }

  /** Routes a listener with these resources serves. */
  routesFor(resources: ReadonlySet<string>): RouteDefinition[] {
    return this.routes.filter((r) => r.options.resources.some((name) => resources.has(name)));
  }

  all(): readonly RouteDefinition[] {
    return this.routes;
  }
}
