/**
 * GET/POST /login and POST /login/get_token. Credentials go through the password providers first, then
 * the database (PasswordAuthService); a provider may name a user that does not exist yet, who is then
 * created (Synapse's behaviour). Rate limits follow Synapse: rc_login.address on every attempt,
 * rc_login.failed_attempts per user on failures, rc_login.account per user on success.
 */
import type { Logger } from 'pino';
import type { Cradle } from '../../../core/container.js';
import { MatrixError } from '../../../core/errors.js';
import type { Requester } from '../../../core/http/context.js';
import type { LoginResult } from '../../../core/plugins/api.js';
import type { RequestInfo } from './registration-service.js';
import { userFromAuthDict } from './uia-service.js';
import { sessionResponse, type SessionResponse } from './session-service.js';

export type LoginResponse = SessionResponse;

const badLogin = (): MatrixError => new MatrixError(403, 'M_FORBIDDEN', 'Invalid username or password');

export class LoginService {
  private readonly store: Cradle['authStore'];
  private readonly config: Cradle['authConfig'];
  private readonly sessions: Cradle['authSessions'];
  private readonly passwords: Cradle['authPasswords'];
  private readonly registration: Cradle['authRegistration'];
  private readonly rateLimits: Cradle['authRateLimits'];
  private readonly spamCheckers: Cradle['spamCheckers'];
  private readonly passwordProviders: Cradle['passwordProviders'];
  private readonly uia: Cradle['authUia'];
  private readonly extensions: Cradle['authExtensions'];
  private readonly serverName: string;
  private readonly logger: Logger;

  constructor(
    c: Pick<
      Cradle,
      | 'authStore'
      | 'authConfig'
      | 'authSessions'
      | 'authPasswords'
      | 'authRegistration'
      | 'authRateLimits'
      | 'spamCheckers'
      | 'passwordProviders'
      | 'authUia'
      | 'authExtensions'
      | 'serverName'
      | 'logger'
    >,
  ) {
    this.store = c.authStore;
    this.config = c.authConfig;
    this.sessions = c.authSessions;
    this.passwords = c.authPasswords;
    this.registration = c.authRegistration;
    this.rateLimits = c.authRateLimits;
    this.spamCheckers = c.spamCheckers;
    this.passwordProviders = c.passwordProviders;
    this.uia = c.authUia;
    this.extensions = c.authExtensions;
    this.serverName = c.serverName;
    this.logger = c.logger.child({ module: 'auth', component: 'auth-login' });
  }

  /** GET /login: password (when enabled), the providers' types, and m.login.token. */
  flows(): Record<string, unknown>[] {
    const flows: Record<string, unknown>[] = this.passwords.loginTypes().map((type) => ({ type }));
    flows.push(
      this.config.login_via_existing_session.enabled
        ? { type: 'm.login.token', get_login_token: true }
        : { type: 'm.login.token' },
    );
    return flows;
  }

  async login(body: Readonly<Record<string, unknown>>, info: RequestInfo): Promise<LoginResponse> {
    this.rateLimits.loginAddress.assert(info.ip);
    const type = body['type'];
    if (typeof type !== 'string') throw new MatrixError(400, 'M_MISSING_PARAM', 'Missing parameter: type');
    let result: LoginResult;
    let fromProvider = false;
    if (type === 'm.login.token') {
      const token = body['token'];
      if (typeof token !== 'string')
        throw new MatrixError(400, 'M_MISSING_PARAM', 'Missing parameter: token');
      result = { userId: await this.sessions.consumeLoginToken(token) };
    } else {
      if (!this.passwords.loginTypes().includes(type)) {
        throw new MatrixError(
          400,
          'M_UNKNOWN',
          type === 'm.login.password' ? 'Password login has been disabled.' : 'Unknown login type',
        );
      }
      ({ result, fromProvider } = await this.checkCredentials(type, body));
    }

    let user = await this.store.users.findForLogin(result.userId);
    if (!user) {
      if (!fromProvider || !result.userId.endsWith(`:${this.serverName}`)) throw badLogin();
      const localpart = result.userId.slice(1, result.userId.lastIndexOf(':'));
      await this.registration.createUser(localpart, { passwordHash: null, generated: true });
      user = await this.store.users.get(result.userId);
      if (!user) throw badLogin();
    }
    if (user.deactivated)
      throw new MatrixError(403, 'M_USER_DEACTIVATED', 'This account has been deactivated');
    this.rateLimits.loginAccount.assert(user.userId.toLowerCase());

    const deviceId = typeof body['device_id'] === 'string' ? body['device_id'] : undefined;
    const initialDisplayName =
      typeof body['initial_device_display_name'] === 'string'
        ? body['initial_device_display_name']
        : undefined;
    await this.spamCheckers.assertAllowed('checkLoginForSpam', {
      userId: user.userId,
      deviceId: deviceId ?? null,
      initialDisplayName: initialDisplayName ?? null,
      requestInfo: [{ userAgent: info.userAgent, ip: info.ip }],
      authProviderId: undefined,
    });
    const session = await this.sessions.createSession({
      userId: user.userId,
      deviceId,
      initialDisplayName,
      refreshable: body['refresh_token'] === true,
    });
    if (result.onLogin) {
      try {
        await result.onLogin({
          userId: session.userId,
          deviceId: session.deviceId,
          accessToken: session.accessToken,
        });
      } catch (err) {
        this.logger.error({ err }, 'a password provider onLogin callback failed');
      }
    }
    return sessionResponse(session, this.serverName);
  }

  private async checkCredentials(
    type: string,
    body: Readonly<Record<string, unknown>>,
  ): Promise<{ result: LoginResult; fromProvider: boolean }> {
    const identifier = body['identifier'];
    const thirdParty =
      typeof identifier === 'object' &&
      identifier !== null &&
      (identifier as { type?: unknown }).type === 'm.id.thirdparty'
        ? (identifier as { medium?: unknown; address?: unknown })
        : typeof body['medium'] === 'string' && typeof body['address'] === 'string'
          ? { medium: body['medium'], address: body['address'] }
          : undefined;
    if (thirdParty) {
      const { medium, address } = thirdParty;
      const password = body['password'];
      if (typeof medium !== 'string' || typeof address !== 'string' || typeof password !== 'string')
        throw badLogin();
      const result = await this.passwordProviders.check3pidAuth({ medium, address, password });
      if (result) return { result, fromProvider: true };
      // As Synapse: then the 3PIDs bound to local accounts (identity-proxy), with the account's password.
      const bound = await this.extensions.threepids?.resolveUser(medium, address);
      if (bound === undefined) throw badLogin();
      return this.checkUserCredentials(type, bound, body);
    }
    const named = userFromAuthDict(body);
    if (named === undefined)
      throw new MatrixError(400, 'M_INVALID_PARAM', 'Invalid login submission: no user given');
    return this.checkUserCredentials(type, this.passwords.qualify(named), body);
  }

  private async checkUserCredentials(
    type: string,
    userId: string,
    body: Readonly<Record<string, unknown>>,
  ): Promise<{ result: LoginResult; fromProvider: boolean }> {
    const key = userId.toLowerCase();
    this.rateLimits.failedAttempts.assert(key, { update: false });
    const {
      type: _t,
      identifier: _i,
      user: _u,
      device_id: _d,
      initial_device_display_name: _n,
      refresh_token: _r,
      medium: _m,
      address: _a,
      ...fields
    } = body;
    const result = await this.passwords.check(userId, type, fields);
    if (!result) {
      this.rateLimits.failedAttempts.record(key);
      const user = await this.store.users.findForLogin(userId);
      if (user?.deactivated)
        throw new MatrixError(403, 'M_USER_DEACTIVATED', 'This account has been deactivated');
      throw badLogin();
    }
    return { result, fromProvider: result.viaProvider };
  }

  /** POST /v1/login/get_token: a single-use m.login.token for the requester (UIA unless configured off). */
  async getLoginToken(
    requester: Requester,
    body: Readonly<Record<string, unknown>>,
    request: { method: string; path: string },
  ): Promise<{ login_token: string; expires_in_ms: number }> {
    if (requester.isGuest) throw new MatrixError(403, 'M_FORBIDDEN', 'Guests cannot generate login tokens');
    // Checked before UIA without counting, counted once a token is issued: UIA takes two requests.
    this.rateLimits.getLoginToken.assert(requester.userId, { update: false });
    if (this.config.login_via_existing_session.require_ui_auth) {
      await this.uia.require({
        requester,
        body,
        flows: this.uia.reauthFlows(),
        description: 'generate a login token for another device',
        method: request.method,
        path: request.path,
      });
    }
    this.rateLimits.getLoginToken.assert(requester.userId);
    const { token, expiresInMs } = await this.sessions.createLoginToken(requester.userId);
    return { login_token: token, expires_in_ms: expiresInMs };
  }
}
