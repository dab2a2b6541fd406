/**
 * Fixture builders for integration tests (Dendrite's makeUser style). Every module's tests use them, so
 * they go through the real HTTP flows: `makeUser` registers with the UIA round trip (401 → m.login.dummy),
 * exactly as a client does.
 *
 * Start the server with open registration and relaxed rate limits:
 *
 *   const server = await startServer(t, { config: { ...openRegistrationConfig } });
 *   const alice = await makeUser(server, { localpart: 'alice' });
 *   await server.request('GET', '/_matrix/client/v3/account/whoami', { token: alice.accessToken });
 */
import { randomBytes } from 'node:crypto';
import type { TestServer } from './start-server.js';

/**
 * homeserver.yaml keys for tests that register users: open registration (allowed without verification)
 * and rate limits high enough that a test never hits them. Spread it into startServer's `config`.
 */
export const openRegistrationConfig = {
  enable_registration: true,
  enable_registration_without_verification: true,
  rc_registration: { per_second: 1000, burst_count: 1000 },
  rc_login: {
    address: { per_second: 1000, burst_count: 1000 },
    account: { per_second: 1000, burst_count: 1000 },
    failed_attempts: { per_second: 1000, burst_count: 1000 },
  },
} as const;

export interface TestUser {
  /** Full user id, e.g. `@alice:test.local`. */
  readonly userId: string;
  readonly accessToken: string;
  readonly deviceId: string;
  /** The password it was registered with (for UIA m.login.password and logins). */
  readonly password: string;
  readonly localpart: string;
}

export interface MakeUserOptions {
  /** Default: a unique `user-<random>`. */
  readonly localpart?: string;
  /** Default: a random password. */
  readonly password?: string;
  /** Make the user a server admin (through the shared-secret admin API: the server needs registration_shared_secret). */
  readonly admin?: boolean;
  readonly deviceId?: string;
  readonly deviceDisplayName?: string;
}

/**
 * Registers a user over HTTP through the full UIA flow and returns its first session. With `admin: true`
 * the server must be started with `registration_shared_secret` (use `adminRegistrationConfig`).
 */
export async function makeUser(server: TestServer, opts: MakeUserOptions = {}): Promise<TestUser> {
  const localpart = opts.localpart ?? `user-${randomBytes(6).toString('hex')}`;
  const password = opts.password ?? `pw-${randomBytes(12).toString('base64url')}`;
  if (opts.admin) return makeAdmin(server, localpart, password);
  const body: Record<string, unknown> = { username: localpart, password };
  if (opts.deviceId !== undefined) body['device_id'] = opts.deviceId;
  if (opts.deviceDisplayName !== undefined) body['initial_device_display_name'] = opts.deviceDisplayName;
  const challenge = await server.request('POST', '/_matrix/client/v3/register', { body });
  if (challenge.status !== 401 || typeof challenge.body?.session !== 'string') {
    throw new Error(`makeUser: expected a 401 UIA challenge, got ${challenge.status} ${challenge.text}`);
  }
  const done = await server.request('POST', '/_matrix/client/v3/register', {
    body: { ...body, auth: { type: 'm.login.dummy', session: challenge.body.session } },
  });
  if (done.status !== 200) throw new Error(`makeUser: registration failed: ${done.status} ${done.text}`);
  return {
    userId: done.body.user_id,
    accessToken: done.body.access_token,
    deviceId: done.body.device_id,
    password,
    localpart,
  };
}

/** The shared secret `adminRegistrationConfig` sets; tests compute admin-registration MACs with it. */
export const TEST_SHARED_SECRET = 'axon-test-shared-secret';

/** Config keys that enable shared-secret admin registration (needed by `makeUser(server, { admin: true })`). */
export const adminRegistrationConfig = { registration_shared_secret: TEST_SHARED_SECRET } as const;

async function makeAdmin(server: TestServer, localpart: string, password: string): Promise<TestUser> {
  const { createHmac } = await import('node:crypto');
  const nonce = await server.request('GET', '/_synapse/admin/v1/register');
  if (nonce.status !== 200) {
    throw new Error(
      `makeUser(admin): no nonce (${nonce.status}); start the server with adminRegistrationConfig`,
    );
  }
  const mac = createHmac('sha1', TEST_SHARED_SECRET)
    .update(`${nonce.body.nonce}\0${localpart}\0${password}\0admin`)
    .digest('hex');
  const r = await server.request('POST', '/_synapse/admin/v1/register', {
    body: { nonce: nonce.body.nonce, username: localpart, password, admin: true, mac },
  });
  if (r.status !== 200) throw new Error(`makeUser(admin): ${r.status} ${r.text}`);
  return {
    userId: r.body.user_id,
    accessToken: r.body.access_token,
    deviceId: r.body.device_id,
    password,
    localpart,
  };
}

/** Logs an existing user in again (a second device); returns the new session. */
export async function login(
  server: TestServer,
  user: Pick<TestUser, 'userId' | 'password'>,
  extra: Record<string, unknown> = {},
): Promise<{ accessToken: string; deviceId: string; refreshToken?: string; expiresInMs?: number }> {
  const r = await server.request('POST', '/_matrix/client/v3/login', {
    body: {
      type: 'm.login.password',
      identifier: { type: 'm.id.user', user: user.userId },
      password: user.password,
      ...extra,
    },
  });
  if (r.status !== 200) throw new Error(`login: ${r.status} ${r.text}`);
  return {
    accessToken: r.body.access_token,
    deviceId: r.body.device_id,
    ...(r.body.refresh_token !== undefined ? { refreshToken: r.body.refresh_token } : {}),
    ...(r.body.expires_in_ms !== undefined ? { expiresInMs: r.body.expires_in_ms } : {}),
  };
}

/** The UIA `auth` object for m.login.password as `user` (after a 401 gave `session`). */
export function passwordAuth(
  user: Pick<TestUser, 'userId' | 'password'>,
  session?: string,
): Record<string, unknown> {
  return {
    type: 'm.login.password',
    identifier: { type: 'm.id.user', user: user.userId },
    password: user.password,
    ...(session !== undefined ? { session } : {}),
  };
}
