/**
 * Creating accounts: POST /register (UIA with m.login.dummy, plus m.login.registration_token when tokens
 * are required; guests), /register/available, and Synapse's shared-secret admin registration. Usernames
 * follow the spec's user id grammar and Synapse's extra rules (no leading `_`, numeric ids reserved for
 * guests). A user row is never deleted, so a deactivated id can never be registered again.
 */
import { createHmac, randomBytes, timingSafeEqual } from 'node:crypto';
import type { Cradle } from '../../../core/container.js';
import { isValidLocalpart, MAX_ID_BYTES } from '../../../core/protocol/identifiers.js';
import { MatrixError } from '../../../core/errors.js';
import { isUniqueViolation } from '../../../core/storage/errors.js';
import { withTransaction } from '../../../core/storage/transaction.js';
import type { UiaFlow, ValidatedThreepid } from '../api.js';
import { sessionResponse, type NewSession } from './session-service.js';

const NONCE_LIFETIME_MS = 60_000;

export interface RequestInfo {
  readonly ip: string;
  readonly userAgent: string;
  readonly method: string;
  readonly path: string;
}

export interface RegisterResponse {
  user_id: string;
  home_server: string;
  access_token?: string;
  device_id?: string;
  refresh_token?: string;
  expires_in_ms?: number;
}

const invalidUsername = (message: string): MatrixError => new MatrixError(400, 'M_INVALID_USERNAME', message);

export class RegistrationService {
  private readonly store: Cradle['authStore'];
  private readonly config: Cradle['authConfig'];
  private readonly sessions: Cradle['authSessions'];
  private readonly passwords: Cradle['authPasswords'];
  private readonly uia: Cradle['authUia'];
  private readonly tokens: Cradle['authRegistrationTokens'];
  private readonly rateLimits: Cradle['authRateLimits'];
  private readonly spamCheckers: Cradle['spamCheckers'];
  private readonly passwordProviders: Cradle['passwordProviders'];
  private readonly extensions: Cradle['authExtensions'];
  private readonly events: Cradle['authEvents'];
  private readonly serverName: string;
  private readonly nonces = new Map<string, number>();

  constructor(
    c: Pick<
      Cradle,
      | 'authStore'
      | 'authConfig'
      | 'authSessions'
      | 'authPasswords'
      | 'authUia'
      | 'authRegistrationTokens'
      | 'authRateLimits'
      | 'spamCheckers'
      | 'passwordProviders'
      | 'authExtensions'
      | 'authEvents'
      | 'serverName'
    >,
  ) {
    this.store = c.authStore;
    this.config = c.authConfig;
    this.sessions = c.authSessions;
    this.passwords = c.authPasswords;
    this.uia = c.authUia;
    this.tokens = c.authRegistrationTokens;
    this.rateLimits = c.authRateLimits;
    this.spamCheckers = c.spamCheckers;
    this.passwordProviders = c.passwordProviders;
    this.extensions = c.authExtensions;
    this.events = c.authEvents;
    this.serverName = c.serverName;
  }

  /**
   * Synapse's flows: m.login.dummy, preceded by m.login.registration_token when tokens are required; the
   * identity-proxy module, when present, adds or requires m.login.email.identity.
   */
  flows(): UiaFlow[] {
    const base: UiaFlow[] = this.config.registration_requires_token
      ? [['m.login.registration_token', 'm.login.dummy']]
      : [['m.login.dummy']];
    return this.extensions.threepids?.registrationFlows(base) ?? base;
  }

  /** Grammar and length rules for a wanted localpart; throws M_INVALID_USERNAME. */
  checkUsername(localpart: string, options: { guest?: boolean } = {}): string {
    if (localpart === '') throw invalidUsername('User ID cannot be empty');
    if (!isValidLocalpart(localpart)) {
      throw invalidUsername("User ID can only contain characters a-z, 0-9, or '=_-./+'");
    }
    if (localpart.startsWith('_')) throw invalidUsername('User ID may not begin with _');
    const userId = `@${localpart}:${this.serverName}`;
    if (Buffer.byteLength(userId, 'utf8') > MAX_ID_BYTES) {
      throw invalidUsername(`User ID may not be longer than ${MAX_ID_BYTES} characters`);
    }
    if (!options.guest && /^\d+$/.test(localpart)) {
      throw invalidUsername('Numeric user IDs are reserved for guest users.');
    }
    return userId;
  }

  /** GET /register/available: true, or the reason the name cannot be had. */
  async available(username: string): Promise<true> {
    const userId = this.checkUsername(username);
    if (await this.store.users.findForLogin(userId)) {
      throw new MatrixError(400, 'M_USER_IN_USE', 'User ID already taken.');
    }
    return true;
  }

  /** POST /register?kind=user: the UIA round trip, then the account (and a session unless inhibit_login). */
  async register(body: Readonly<Record<string, unknown>>, info: RequestInfo): Promise<RegisterResponse> {
    if (!this.config.enable_registration) {
      throw new MatrixError(403, 'M_FORBIDDEN', 'Registration has been disabled');
    }
    this.rateLimits.registration.assert(info.ip, { update: false });
    const { password, ...rest } = body;
    if (password !== undefined && typeof password !== 'string') {
      throw new MatrixError(400, 'M_BAD_JSON', 'Invalid password');
    }
    if (typeof password === 'string') this.passwords.checkPolicy(password);
    const wanted = await this.wantedLocalpart(rest['username']);

    let passwordHash: string | undefined;
    const outcome = await this.uia.run(
      {
        requester: null,
        body: rest,
        flows: this.flows(),
        description: 'register a new account',
        method: info.method,
        path: info.path,
      },
      async (sessionId) => {
        if (
          typeof password === 'string' &&
          (await this.uia.getSessionData(sessionId, 'password_hash')) === undefined
        ) {
          passwordHash = await this.passwords.hash(password);
          await this.uia.setSessionData(sessionId, 'password_hash', passwordHash);
        }
      },
    );
    const params = outcome.clientDict;
    const localpart = wanted ?? (await this.wantedLocalpart(params['username']));
    // As Synapse: the hash stored with the session's first request wins; hash only when none was stored.
    const stored = outcome.serverData['password_hash'];
    if (passwordHash === undefined && typeof stored === 'string') passwordHash = stored;
    if (passwordHash === undefined && typeof password === 'string')
      passwordHash = await this.passwords.hash(password);

    const verdict = await this.spamCheckers.checkRegistrationForSpam({
      username: localpart,
      requestInfo: [{ userAgent: info.userAgent, ip: info.ip }],
      emailThreepid: validatedEmail(outcome.completed['m.login.email.identity']),
      authProviderId: undefined,
    });
    if (verdict === 'DENY') throw new MatrixError(403, 'M_FORBIDDEN', 'Registration has been rejected');

    const uiaResults = { uiaResults: outcome.completed, params };
    const chosen =
      localpart ?? (await this.passwordProviders.getUsernameForRegistration(uiaResults)) ?? undefined;
    const displayName = (await this.passwordProviders.getDisplaynameForRegistration(uiaResults)) ?? undefined;
    this.rateLimits.registration.assert(info.ip);
    const userOptions = {
      passwordHash: passwordHash ?? null,
      displayName,
      shadowBanned: verdict === 'SHADOW_BAN',
    };
    const userId =
      chosen === undefined
        ? await this.createWithGeneratedLocalpart(userOptions)
        : await this.createUser(chosen, { ...userOptions, generated: localpart === undefined });
    const token = outcome.completed['m.login.registration_token'];
    if (typeof token === 'string') await this.tokens.complete(token);
    await this.events.emit('userRegistered', this.events.userRegistered, {
      userId,
      uiaResults: outcome.completed,
    });
    if (params['inhibit_login'] === true) return { user_id: userId, home_server: this.serverName };
    return this.loginResponse(
      await this.sessions.createSession({
        userId,
        deviceId: optionalString(params['device_id']),
        initialDisplayName: optionalString(params['initial_device_display_name']),
        refreshable: params['refresh_token'] === true,
      }),
    );
  }

  /** POST /register?kind=guest: no UIA, a numeric localpart, a server-chosen device. */
  async registerGuest(body: Readonly<Record<string, unknown>>, info: RequestInfo): Promise<RegisterResponse> {
    if (!this.config.allow_guest_access)
      throw new MatrixError(403, 'M_FORBIDDEN', 'Guest access is disabled');
    this.rateLimits.registration.assert(info.ip);
    const userId = await this.createWithGeneratedLocalpart({ passwordHash: null, isGuest: true });
    return this.loginResponse(
      await this.sessions.createSession({
        userId,
        initialDisplayName: optionalString(body['initial_device_display_name']),
      }),
    );
  }

  /**
   * Inserts the user and its default profile (displayname = localpart, as Synapse does). `generated`
   * localparts skip the numeric-id rule.
   */
  async createUser(
    localpart: string,
    options: {
      passwordHash: string | null;
      admin?: boolean | undefined;
      isGuest?: boolean | undefined;
      displayName?: string | undefined;
      userType?: string | null | undefined;
      shadowBanned?: boolean | undefined;
      generated?: boolean | undefined;
    },
  ): Promise<string> {
    const userId = this.checkUsername(localpart, {
      guest: options.isGuest === true || options.generated === true,
    });
    try {
      await withTransaction(this.store.db, async (trx) => {
        await this.store.users.insert(
          {
            userId,
            passwordHash: options.passwordHash,
            admin: options.admin ?? false,
            isGuest: options.isGuest ?? false,
            userType: options.userType ?? null,
            shadowBanned: options.shadowBanned ?? false,
            creationTs: Date.now(),
          },
          trx,
        );
        if (!options.isGuest)
          await this.store.profiles.set(userId, 'displayname', options.displayName ?? localpart, trx);
      });
    } catch (err) {
      if (isUniqueViolation(err)) throw new MatrixError(400, 'M_USER_IN_USE', 'User ID already taken.');
      throw err;
    }
    return userId;
  }

  /** GET /_synapse/admin/v1/register: a nonce valid for one registration within 60 s. */
  nonce(): string {
    const now = Date.now();
    for (const [n, expiry] of this.nonces) if (expiry < now) this.nonces.delete(n);
    const nonce = randomBytes(64).toString('hex');
    this.nonces.set(nonce, now + NONCE_LIFETIME_MS);
    return nonce;
  }

  /** POST /_synapse/admin/v1/register, exactly as Synapse checks it (so register_new_matrix_user works). */
  async sharedSecretRegister(body: Readonly<Record<string, unknown>>): Promise<RegisterResponse> {
    const secret = this.config.registration_shared_secret;
    if (!secret) throw new MatrixError(400, 'M_UNKNOWN', 'Shared secret registration is not enabled');
    const nonce = body['nonce'];
    const expiry = typeof nonce === 'string' ? this.nonces.get(nonce) : undefined;
    if (typeof nonce !== 'string' || expiry === undefined || expiry < Date.now()) {
      throw new MatrixError(400, 'M_UNKNOWN', 'unrecognised nonce');
    }
    this.nonces.delete(nonce);
    const username = body['username'];
    if (typeof username !== 'string' || username.includes('\0')) {
      throw new MatrixError(400, 'M_INVALID_PARAM', 'Invalid username');
    }
    const password = body['password'];
    if (typeof password !== 'string' || password.includes('\0') || password.length > 512) {
      throw new MatrixError(400, 'M_INVALID_PARAM', 'Invalid password');
    }
    const admin = body['admin'] === true;
    const userType = body['user_type'] ?? null;
    if (userType !== null && userType !== 'bot' && userType !== 'support') {
      throw new MatrixError(400, 'M_INVALID_PARAM', 'Invalid user type');
    }
    const mac = body['mac'];
    if (typeof mac !== 'string') throw new MatrixError(400, 'M_BAD_JSON', 'mac must be specified');
    const want = sharedSecretMac(secret, { nonce, username, password, admin, userType });
    const got = Buffer.from(mac, 'utf8');
    if (got.length !== want.length || !timingSafeEqual(got, Buffer.from(want, 'utf8'))) {
      throw new MatrixError(403, 'M_FORBIDDEN', 'HMAC incorrect');
    }
    const displayName = typeof body['displayname'] === 'string' ? body['displayname'] : undefined;
    const userId = await this.createUser(username.toLowerCase(), {
      passwordHash: await this.passwords.hash(password),
      admin,
      userType,
      displayName,
    });
    return this.loginResponse(await this.sessions.createSession({ userId }));
  }

  private async wantedLocalpart(username: unknown): Promise<string | undefined> {
    if (username === undefined || username === null) return undefined;
    if (typeof username !== 'string') throw new MatrixError(400, 'M_BAD_JSON', 'Invalid username');
    const localpart = username.toLowerCase();
    await this.available(localpart);
    return localpart;
  }

  /** A user with a generated numeric localpart; a concurrent registration taking it makes us pick again. */
  private async createWithGeneratedLocalpart(
    options: Parameters<RegistrationService['createUser']>[1],
  ): Promise<string> {
    for (let attempt = 0; ; attempt++) {
      try {
        return await this.createUser(await this.generateLocalpart(), { ...options, generated: true });
      } catch (err) {
        if (!(err instanceof MatrixError && err.errcode === 'M_USER_IN_USE') || attempt >= 10) throw err;
      }
    }
  }

  /** The smallest free numeric localpart from the user count on (Synapse hands out numeric ids too). */
  private async generateLocalpart(): Promise<string> {
    let n = (await this.store.users.count()) + 1;
    while (await this.store.users.get(`@${n}:${this.serverName}`)) n++;
    return String(n);
  }

  private loginResponse(session: NewSession): RegisterResponse {
    return sessionResponse(session, this.serverName);
  }
}

/** HMAC-SHA1 over nonce\0username\0password\0admin|notadmin[\0user_type], hex: Synapse's admin register MAC. */
export function sharedSecretMac(
  secret: string,
  a: { nonce: string; username: string; password: string; admin: boolean; userType?: string | null },
): string {
  const mac = createHmac('sha1', Buffer.from(secret, 'utf8'));
  mac.update(a.nonce);
  mac.update('\0');
  mac.update(a.username);
  mac.update('\0');
  mac.update(a.password);
  mac.update('\0');
  mac.update(a.admin ? 'admin' : 'notadmin');
  if (a.userType) {
    mac.update('\0');
    mac.update(a.userType);
  }
  return mac.digest('hex');
}

function optionalString(v: unknown): string | undefined {
  return typeof v === 'string' ? v : undefined;
}

/** The email an m.login.email.identity stage validated (provided by identity-proxy), for spam checkers. */
function validatedEmail(result: unknown): { medium: string; address: string } | undefined {
  const t = result as Partial<ValidatedThreepid> | undefined;
  return typeof t?.medium === 'string' && typeof t.address === 'string'
    ? { medium: t.medium, address: t.address }
    : undefined;
}
