/**
 * A test server with the rooms module. Until the auth module is available on this branch, a stand-in
 * `auth` module resolves tokens of the form `test-token:<user id>` and offers the authApi hooks rooms uses
 * (profiles, profile changes, deactivation), so these tests drive rooms over HTTP as clients would.
 */
import { asValue } from 'awilix';
import type { Test } from 'tap';
import type { DatabaseConfig } from '../../../../core/config/schema.js';
import { defineModule } from '../../../../core/define-module.js';
import { MatrixError } from '../../../../core/errors.js';
import discovery from '../../../../modules/discovery/index.js';
import rooms from '../../../../modules/rooms/index.js';
import { startServer, type TestServer } from '../../../helpers/start-server.js';
import type { EngineName } from '../../../helpers/with-all-databases.js';

export interface TestUser {
  readonly userId: string;
  readonly token: string;
}

type Listener = (change: { userId: string }) => Promise<void> | void;

export class FakeAuthApi {
  readonly profiles = new Map<string, { displayname?: string | null; avatar_url?: string | null }>();
  private readonly profileListeners: Listener[] = [];
  private readonly deactivationListeners: Listener[] = [];
  getProfile(userId: string) {
    return Promise.resolve(this.profiles.get(userId));
  }
  onProfileChanged(l: Listener): void {
    this.profileListeners.push(l);
  }
  onUserDeactivated(l: Listener): void {
    this.deactivationListeners.push(l);
  }
  async setProfile(
    userId: string,
    profile: { displayname?: string | null; avatar_url?: string | null },
  ): Promise<void> {
    this.profiles.set(userId, profile);
    for (const l of this.profileListeners) await l({ userId });
  }
  async deactivate(userId: string): Promise<void> {
    for (const l of this.deactivationListeners) await l({ userId });
  }
}

export function fakeAuthModule(authApi: FakeAuthApi) {
  return defineModule({
    name: 'auth',
    description: 'test stand-in for the auth module',
    enabledByDefault: true,
    register({ container }) {
      container.register({
        accessTokenResolver: asValue({
          resolve(token: string) {
            const m = /^test-token:(@[^|]+)(?:\|(.*))?$/.exec(token);
            if (!m?.[1]) return Promise.reject(new MatrixError(401, 'M_UNKNOWN_TOKEN', 'Unknown token'));
            return Promise.resolve({
              userId: m[1],
              deviceId: m[2] ?? 'DEVICE',
              isGuest: false,
              accessTokenId: token,
            });
          },
        }),
        authApi: asValue(authApi),
      });
    },
  });
}

export interface RoomsTestServer extends TestServer {
  readonly authApi: FakeAuthApi;
  user(localpart: string, device?: string): TestUser;
}

export async function startRoomsServer(
  t: Test,
  options: { engine?: EngineName; database?: DatabaseConfig; config?: Record<string, unknown> } = {},
): Promise<RoomsTestServer> {
  const authApi = new FakeAuthApi();
  const server = await startServer(t, { ...options, modules: [discovery, fakeAuthModule(authApi), rooms] });
  return {
    ...server,
    authApi,
    user: (localpart, device) => {
      const userId = `@${localpart}:${server.serverName}`;
      return { userId, token: `test-token:${userId}${device ? `|${device}` : ''}` };
    },
  };
}
