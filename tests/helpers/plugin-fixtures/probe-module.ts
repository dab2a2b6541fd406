/**
 * Test-only modules for the plugin tests, until auth and rooms exist to call the registries themselves:
 * `pluginProbeModule` exposes the registries over HTTP (a call site a client can reach), and
 * `fakeBackendsModule` registers in-memory `authApi` and `roomsApi` services the plugin helpers resolve.
 */
import { asValue } from 'awilix';
import { defineModule, type AnyModuleDefinition } from '../../../core/define-module.js';
import { readBody } from '../../../core/http/body.js';
import type { PluginAuthBackend, PluginRoomsBackend } from '../../../core/plugins/helpers.js';
import type { VerdictCallback } from '../../../core/plugins/registry/spam-checker.js';
import type { PduJson } from '../../../core/protocol/pdu.js';
import { Type } from '@sinclair/typebox';

const AnyObject = Type.Record(Type.String(), Type.Unknown());

export const pluginProbeModule = defineModule({
  name: 'plugin-probe',
  description: 'test only: the plugin registries behind HTTP endpoints',
  enabledByDefault: true,
  register() {},
  routes(router, { cradle }) {
    router.post('/_matrix/client/v3/x.plugin_probe/check/:callback', { auth: 'none' }, async (ctx) => {
      const body = await readBody(ctx, AnyObject);
      const callback = ctx.params['callback'] as VerdictCallback;
      // The args are whatever the test sends: the probe checks the chain, not argument shapes.
      await cradle.spamCheckers.assertAllowed(callback, body as never);
      ctx.body = { allowed: true };
    });
    router.post('/_matrix/client/v3/x.plugin_probe/registration', { auth: 'none' }, async (ctx) => {
      const body = await readBody(ctx, AnyObject);
      ctx.body = {
        verdict: await cradle.spamCheckers.checkRegistrationForSpam({
          username: typeof body['username'] === 'string' ? body['username'] : undefined,
          requestInfo: [],
        }),
      };
    });
    router.post('/_matrix/client/v3/x.plugin_probe/login', { auth: 'none' }, async (ctx) => {
      const body = await readBody(ctx, AnyObject);
      const { type, user, ...fields } = body;
      const result = await cradle.passwordProviders.checkAuth({
        user: String(user),
        loginType: String(type),
        fields,
      });
      ctx.body = { user_id: result?.userId ?? null };
    });
    router.get('/_matrix/client/v3/x.plugin_probe/login_types', { auth: 'none' }, async (ctx) => {
      ctx.body = Object.fromEntries(cradle.passwordProviders.loginTypes());
    });
  },
});

export interface FakeUser {
  admin?: boolean;
  createdAt?: number;
  displayName?: string;
  emails?: readonly string[];
}

/** In-memory auth and rooms backends; `users` and `rooms` are live maps a test may change. */
export function fakeBackends(serverName: string): {
  users: Map<string, FakeUser>;
  joined: Map<string, string[]>;
  state: Map<string, PduJson[]>;
  auth: PluginAuthBackend;
  rooms: PluginRoomsBackend;
} {
  const users = new Map<string, FakeUser>();
  const joined = new Map<string, string[]>();
  const state = new Map<string, PduJson[]>();
  const auth: PluginAuthBackend = {
    async userExists(userId) {
      return users.has(userId);
    },
    async isServerAdmin(userId) {
      return users.get(userId)?.admin === true;
    },
    async getUser(userId) {
      const user = users.get(userId);
      return user?.createdAt === undefined ? undefined : { creationTs: user.createdAt };
    },
    async registerUser(localpart, options = {}) {
      const userId = `@${localpart}:${serverName}`;
      if (users.has(userId)) throw new Error(`${userId} is taken`);
      users.set(userId, {
        admin: options.admin ?? false,
        createdAt: Date.now(),
        ...(options.displayName !== undefined ? { displayName: options.displayName } : {}),
        ...(options.emails !== undefined ? { emails: options.emails } : {}),
      });
      return userId;
    },
  };
  const rooms: PluginRoomsBackend = {
    async getRoomState(roomId) {
      return state.get(roomId) ?? [];
    },
    async getJoinedRooms(userId) {
      return joined.get(userId) ?? [];
    },
  };
  return { users, joined, state, auth, rooms };
}

export function fakeBackendsModule(backends: ReturnType<typeof fakeBackends>): AnyModuleDefinition {
  return defineModule({
    name: 'fake-backends',
    description: 'test only: in-memory authApi and roomsApi',
    enabledByDefault: true,
    register({ container }) {
      container.register('authApi', asValue(backends.auth));
      container.register('roomsApi', asValue(backends.rooms));
    },
  });
}
