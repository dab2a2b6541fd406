/* eslint-disable @typescript-eslint/unbound-method -- callbacks are always invoked with .call(owner) */
/**
 * The ordered password-provider chain. The first provider that accepts a login wins; a provider that fails
 * fails the login (fail closed). With no plugin registered, callers fall back to the built-in database check.
 */
import type { Logger } from 'pino';
import { BootError, MatrixError } from '../../errors.js';
import type {
  LoginResult,
  LoginTypes,
  PasswordProvider,
  PasswordProviderCallbacks,
  RegistrationUiaResults,
} from '../api.js';
import { runCallback } from '../run-callback.js';
import { DEFAULT_PLUGIN_TIMEOUT_MS } from './spam-checker.js';

export const PASSWORD_LOGIN_TYPE = 'm.login.password';
const PASSWORD_FIELDS: readonly string[] = ['password'];

const isLoginResult = (v: unknown): v is LoginResult | null =>
  v === null ||
  (typeof v === 'object' &&
    typeof (v as { userId?: unknown }).userId === 'string' &&
    ((v as { onLogin?: unknown }).onLogin === undefined ||
      typeof (v as { onLogin?: unknown }).onLogin === 'function'));
const isOptionalString = (v: unknown): v is string | null => v === null || typeof v === 'string';
const isBoolean = (v: unknown): v is boolean => typeof v === 'boolean';
const isVoid = (_: unknown): _ is void => true;

interface Entry {
  readonly plugin: string;
  readonly provider: PasswordProvider;
  /** The login types this provider handles, `checkPassword`'s m.login.password included. */
  readonly loginTypes: LoginTypes;
}

const sameFields = (a: readonly string[], b: readonly string[]): boolean =>
  [...a].sort().join('\u0000') === [...b].sort().join('\u0000');

export class PasswordProviderRegistry {
  private readonly chain: Entry[] = [];
  private readonly logger: Logger;
  private readonly timeoutMs: number;

  constructor({ logger, timeoutMs = DEFAULT_PLUGIN_TIMEOUT_MS }: { logger: Logger; timeoutMs?: number }) {
    this.logger = logger;
    this.timeoutMs = timeoutMs;
  }

  /**
   * Adds a provider at the end of the chain. A malformed provider throws (the loader names the plugin);
   * two providers claiming one login type with different fields stop boot (AXON_ERR_PLUGIN_CONFLICT).
   */
  add(plugin: string, provider: PasswordProvider): void {
    const loginTypes = effectiveLoginTypes(provider);
    for (const [type, fields] of Object.entries(loginTypes)) {
      for (const other of this.chain) {
        const otherFields = other.loginTypes[type];
        if (otherFields && !sameFields(otherFields, fields)) {
          throw new BootError(
            'AXON_ERR_PLUGIN_CONFLICT',
            `plugins "${other.plugin}" and "${plugin}" both handle login type ${type} but with different fields ` +
              `([${otherFields.join(', ')}] vs [${fields.join(', ')}])`,
          );
        }
      }
    }
    this.chain.push({ plugin, provider, loginTypes });
  }

  get size(): number {
    return this.chain.length;
  }

  /** Login types the providers handle, with their fields (for GET /login and UIA flows). */
  loginTypes(): Map<string, readonly string[]> {
    const types = new Map<string, readonly string[]>();
    for (const { loginTypes } of this.chain)
      for (const [t, f] of Object.entries(loginTypes)) if (!types.has(t)) types.set(t, f);
    return types;
  }

  /**
   * The first provider's user, null when none recognised the login (the caller then tries its own
   * database check). `user` is the full user id when the client named a local user. Throws 403 when a
   * provider failed.
   */
  async checkAuth(args: {
    user: string;
    loginType: string;
    fields: Readonly<Record<string, unknown>>;
  }): Promise<LoginResult | null> {
    for (const { plugin, provider, loginTypes } of this.chain) {
      if (!loginTypes[args.loginType]) continue;
      const checkPassword = provider.checkPassword;
      if (args.loginType === PASSWORD_LOGIN_TYPE && checkPassword) {
        const password = args.fields['password'];
        // The shorthand only answers for a named local user with a password.
        if (typeof password !== 'string' || !args.user.startsWith('@')) continue;
        const r = await runCallback(
          this.logger,
          plugin,
          'checkPassword',
          this.timeoutMs,
          () => checkPassword.call(provider, { userId: args.user, password }),
          isBoolean,
        );
        if (!r.ok) throw loginFailed();
        if (r.value) return { userId: args.user };
        continue;
      }
      const checkAuth = provider.checkAuth;
      if (!checkAuth) continue;
      const r = await runCallback(
        this.logger,
        plugin,
        'checkAuth',
        this.timeoutMs,
        () => checkAuth.call(provider, args),
        isLoginResult,
      );
      if (!r.ok) throw loginFailed();
      if (r.value) return r.value;
    }
    return null;
  }

  async check3pidAuth(args: {
    medium: string;
    address: string;
    password: string;
  }): Promise<LoginResult | null> {
    for (const { plugin, provider } of this.chain) {
      const fn = provider.check3pidAuth;
      if (!fn) continue;
      const r = await runCallback(
        this.logger,
        plugin,
        'check3pidAuth',
        this.timeoutMs,
        () => fn.call(provider, args),
        isLoginResult,
      );
      if (!r.ok) throw loginFailed();
      if (r.value) return r.value;
    }
    return null;
  }

  /** Tells every provider; a failure is logged and does not stop the logout. */
  async onLoggedOut(args: { userId: string; deviceId: string | null; accessToken: string }): Promise<void> {
    for (const { plugin, provider } of this.chain) {
      const fn = provider.onLoggedOut;
      if (fn)
        await runCallback(
          this.logger,
          plugin,
          'onLoggedOut',
          this.timeoutMs,
          () => fn.call(provider, args),
          isVoid,
        );
    }
  }

  async getUsernameForRegistration(args: RegistrationUiaResults): Promise<string | null> {
    return this.firstString('getUsernameForRegistration', args);
  }

  async getDisplaynameForRegistration(args: RegistrationUiaResults): Promise<string | null> {
    return this.firstString('getDisplaynameForRegistration', args);
  }

  /** False when any provider refuses (or fails). */
  async isThreePidAllowed(args: {
    medium: string;
    address: string;
    registration: boolean;
  }): Promise<boolean> {
    for (const { plugin, provider } of this.chain) {
      const fn = provider.isThreePidAllowed;
      if (!fn) continue;
      const r = await runCallback(
        this.logger,
        plugin,
        'isThreePidAllowed',
        this.timeoutMs,
        () => fn.call(provider, args),
        isBoolean,
      );
      if (!r.ok || !r.value) return false;
    }
    return true;
  }

  private async firstString(
    name: 'getUsernameForRegistration' | 'getDisplaynameForRegistration',
    args: RegistrationUiaResults,
  ): Promise<string | null> {
    for (const { plugin, provider } of this.chain) {
      const fn = provider[name];
      if (!fn) continue;
      const r = await runCallback(
        this.logger,
        plugin,
        name,
        this.timeoutMs,
        () => fn.call(provider, args),
        isOptionalString,
      );
      if (r.ok && r.value) return r.value;
    }
    return null;
  }
}

const loginFailed = (): MatrixError => new MatrixError(403, 'M_FORBIDDEN', 'Invalid username or password');

const OPTIONAL_CALLBACKS: readonly (keyof PasswordProviderCallbacks)[] = [
  'check3pidAuth',
  'onLoggedOut',
  'getUsernameForRegistration',
  'getDisplaynameForRegistration',
  'isThreePidAllowed',
];

/** Checks a provider's shape (plugins written in JavaScript get no compiler) and merges its login types. */
function effectiveLoginTypes(provider: PasswordProvider): LoginTypes {
  if (typeof provider !== 'object' || provider === null)
    throw new Error('a password provider must be an object');
  const known = new Set<string>(['loginTypes', 'checkAuth', 'checkPassword', ...OPTIONAL_CALLBACKS]);
  for (const [key, value] of Object.entries(provider)) {
    // Data fields are the plugin's own business; a function with an unknown name is a typo'd callback.
    if (!known.has(key)) {
      if (typeof value === 'function') throw new Error(`unknown password-provider callback "${key}"`);
      continue;
    }
    if (key !== 'loginTypes' && value !== undefined && typeof value !== 'function')
      throw new Error(`password-provider property "${key}" must be a function`);
  }
  const { checkAuth, checkPassword } = provider;
  if (!checkAuth && !checkPassword) throw new Error('a password provider needs checkAuth or checkPassword');
  const declared: unknown = provider.loginTypes;
  if (checkAuth && declared === undefined)
    throw new Error('a password provider with checkAuth needs loginTypes');
  if (
    declared !== undefined &&
    (typeof declared !== 'object' || declared === null || Array.isArray(declared))
  )
    throw new Error('loginTypes must map login types to lists of field names');
  const types: Record<string, readonly string[]> = {};
  for (const [type, fields] of Object.entries(declared ?? {})) {
    if (!Array.isArray(fields) || !fields.every((f): f is string => typeof f === 'string'))
      throw new Error(`loginTypes["${type}"] must be a list of field names`);
    types[type] = [...fields];
  }
  if (checkPassword) {
    const declaredPassword = types[PASSWORD_LOGIN_TYPE];
    if (declaredPassword && !sameFields(declaredPassword, PASSWORD_FIELDS))
      throw new Error(`checkPassword handles ${PASSWORD_LOGIN_TYPE} with the field "password" only`);
    types[PASSWORD_LOGIN_TYPE] = PASSWORD_FIELDS;
  }
  if (Object.keys(types).length === 0)
    throw new Error('a password provider must handle at least one login type');
  return types;
}
