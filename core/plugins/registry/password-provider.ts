/* eslint-disable @typescript-eslint/unbound-method -- callbacks are always invoked with .call(owner) */
/**
 * The ordered password-provider chain. The first provider that returns a user wins; a provider that fails
 * fails the login (fail closed). With no plugin registered, callers fall back to the built-in database check.
 */
import type { Logger } from 'pino';
import { BootError, MatrixError } from '../../errors.js';
import type { LoginResult, PasswordProvider, RegistrationUiaResults } from '../api.js';
import { runCallback } from '../run-callback.js';
import { DEFAULT_PLUGIN_TIMEOUT_MS } from './spam-checker.js';

const isLoginResult = (v: unknown): v is LoginResult | null =>
  v === null || (typeof v === 'object' && typeof (v as { userId?: unknown }).userId === 'string');
const isOptionalString = (v: unknown): v is string | null => v === null || typeof v === 'string';
const isBoolean = (v: unknown): v is boolean => typeof v === 'boolean';
const isVoid = (_: unknown): _ is void => true;

export class PasswordProviderRegistry {
  private readonly chain: { plugin: string; provider: PasswordProvider }[] = [];
  private readonly logger: Logger;
  private readonly timeoutMs: number;

  constructor({ logger, timeoutMs = DEFAULT_PLUGIN_TIMEOUT_MS }: { logger: Logger; timeoutMs?: number }) {
    this.logger = logger;
    this.timeoutMs = timeoutMs;
  }

  /** Two providers claiming one login type with different fields stop boot. */
  add(plugin: string, provider: PasswordProvider): void {
    for (const [type, fields] of Object.entries(provider.loginTypes)) {
      for (const other of this.chain) {
        const otherFields = other.provider.loginTypes[type];
        if (otherFields && [...otherFields].sort().join() !== [...fields].sort().join()) {
          throw new BootError(
            'AXON_ERR_PLUGIN_CONFLICT',
            `plugins "${other.plugin}" and "${plugin}" both handle login type ${type} but with different fields ` +
              `([${otherFields.join(', ')}] vs [${fields.join(', ')}])`,
          );
        }
      }
    }
    this.chain.push({ plugin, provider });
  }

  get size(): number {
    return this.chain.length;
  }

  /** Login types the providers handle, with their fields. */
  loginTypes(): Map<string, readonly string[]> {
    const types = new Map<string, readonly string[]>();
    for (const { provider } of this.chain)
      for (const [t, f] of Object.entries(provider.loginTypes)) types.set(t, f);
    return types;
  }

  /** The first provider's user, null when none recognised the login. Throws 403 when a provider failed. */
  async checkAuth(args: {
    user: string;
    loginType: string;
    fields: Readonly<Record<string, unknown>>;
  }): Promise<LoginResult | null> {
    for (const { plugin, provider } of this.chain) {
      if (!provider.loginTypes[args.loginType]) continue;
      const r = await runCallback(
        this.logger,
        plugin,
        'checkAuth',
        this.timeoutMs,
        () => provider.checkAuth(args),
        isLoginResult,
      );
      if (!r.ok) throw new MatrixError(403, 'M_FORBIDDEN', 'Invalid username or password');
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
      if (!r.ok) throw new MatrixError(403, 'M_FORBIDDEN', 'Invalid username or password');
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
