/**
 * Who may authenticate with which credentials: the password providers first (plugins, in declaration
 * order), then the built-in database check unless `password_config.localdb_enabled` is false. Used by
 * login and by the m.login.password UIA stage. Also the password policy (`password_config.policy`).
 */
import type { Cradle } from '../../../core/container.js';
import { MatrixError } from '../../../core/errors.js';
import type { LoginResult } from '../../../core/plugins/api.js';

/** Synapse refuses passwords longer than this (a hash of megabytes is a denial of service). */
export const MAX_PASSWORD_LENGTH = 512;

export class PasswordAuthService {
  private readonly store: Cradle['authStore'];
  private readonly hasher: Cradle['authPasswordHasher'];
  private readonly providers: Cradle['passwordProviders'];
  private readonly config: Cradle['authConfig'];
  private readonly serverName: string;

  constructor({
    authStore,
    authPasswordHasher,
    passwordProviders,
    authConfig,
    serverName,
  }: Pick<Cradle, 'authStore' | 'authPasswordHasher' | 'passwordProviders' | 'authConfig' | 'serverName'>) {
    this.store = authStore;
    this.hasher = authPasswordHasher;
    this.providers = passwordProviders;
    this.config = authConfig;
    this.serverName = serverName;
  }

  /** Whether password login is offered at all (`password_config.enabled: true`). */
  get passwordLoginEnabled(): boolean {
    return this.config.password_config.enabled === true;
  }

  /** Whether passwords may be used for UIA re-authentication (`enabled` or `only_for_reauth`). */
  get passwordReauthEnabled(): boolean {
    return this.config.password_config.enabled !== false;
  }

  /** Login types the server accepts for /login, besides m.login.token. */
  loginTypes(): string[] {
    const types = new Set<string>();
    if (
      this.passwordLoginEnabled &&
      (this.config.password_config.localdb_enabled || this.providerHandles('m.login.password'))
    ) {
      types.add('m.login.password');
    }
    for (const t of this.providers.loginTypes().keys()) {
      if (t !== 'm.login.password' || this.passwordLoginEnabled) types.add(t);
    }
    return [...types];
  }

  providerHandles(loginType: string): boolean {
    return this.providers.loginTypes().has(loginType);
  }

  /**
   * Checks credentials of `loginType` for the user the client named (`userId` fully qualified when it is
   * local). Returns the provider's result or the database check's (`viaProvider` says which); null when
   * nobody accepted.
   */
  async check(
    userId: string,
    loginType: string,
    fields: Readonly<Record<string, unknown>>,
  ): Promise<(LoginResult & { viaProvider: boolean }) | null> {
    const fromProvider = await this.providers.checkAuth({ user: userId, loginType, fields });
    if (fromProvider)
      return {
        userId: fromProvider.userId,
        onLogin: fromProvider.onLogin?.bind(fromProvider),
        viaProvider: true,
      };
    if (loginType !== 'm.login.password' || !this.config.password_config.localdb_enabled) return null;
    const password = fields['password'];
    if (typeof password !== 'string' || password.length > MAX_PASSWORD_LENGTH) return null;
    const user = await this.store.users.findForLogin(userId);
    if (!user?.passwordHash) return null;
    return (await this.hasher.verify(password, user.passwordHash))
      ? { userId: user.userId, viaProvider: false }
      : null;
  }

  /** `@localpart:server` for a localpart; a full id is returned as is (lower-cased localpart for local ids). */
  qualify(user: string): string {
    if (user.startsWith('@')) return user;
    return `@${user.toLowerCase()}:${this.serverName}`;
  }

  /** Throws Synapse's 400 errors when a new password breaks the configured policy. */
  checkPolicy(password: string): void {
    if (password.length > MAX_PASSWORD_LENGTH) {
      throw new MatrixError(400, 'M_BAD_JSON', 'Invalid password');
    }
    const policy = this.config.password_config.policy;
    if (!policy.enabled) return;
    const refuse = (errcode: string, message: string): never => {
      throw new MatrixError(400, errcode, message);
    };
    if (password.length < policy.minimum_length) {
      refuse(
        'M_PASSWORD_TOO_SHORT',
        `The password must be at least ${policy.minimum_length} characters long`,
      );
    }
    if (policy.require_digit && !/\d/.test(password))
      refuse('M_PASSWORD_NO_DIGIT', 'The password must include at least one digit');
    if (policy.require_symbol && !/[^\p{L}\p{N}]/u.test(password)) {
      refuse('M_PASSWORD_NO_SYMBOL', 'The password must include at least one symbol');
    }
    if (policy.require_lowercase && !/\p{Ll}/u.test(password)) {
      refuse('M_PASSWORD_NO_LOWERCASE', 'The password must include at least one lowercase letter');
    }
    if (policy.require_uppercase && !/\p{Lu}/u.test(password)) {
      refuse('M_PASSWORD_NO_UPPERCASE', 'The password must include at least one uppercase letter');
    }
  }

  hash(password: string): Promise<string> {
    return this.hasher.hash(password);
  }
}
