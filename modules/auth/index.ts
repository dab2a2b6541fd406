import { asClass, asValue, aliasTo } from 'awilix';
import { defineModule } from '../../core/define-module.js';
import type { AccessTokenResolver } from '../../core/http/context.js';
import type { AuthApi } from './api.js';
import { hashPasswordCommand } from './commands/hash-password.js';
import { registerUserCommand } from './commands/register-user.js';
import { AuthConfigSchema, checkAuthConfig, passwordHashingCost, type AuthConfig } from './config.js';
import { accountRoutes } from './routes/account.routes.js';
import { adminRoutes } from './routes/admin.routes.js';
import { devicesRoutes } from './routes/devices.routes.js';
import { loginRoutes } from './routes/login.routes.js';
import { profileRoutes } from './routes/profile.routes.js';
import { registerRoutes } from './routes/register.routes.js';
import { AccountService } from './services/account-service.js';
import { AuthApiImpl } from './services/auth-api.js';
import { AuthEvents } from './services/auth-events.js';
import { DeviceService } from './services/device-service.js';
import { AuthExtensions } from './services/extensions.js';
import { LoginService } from './services/login-service.js';
import { PasswordAuthService } from './services/password-auth-service.js';
import { PasswordHasher } from './services/password-hasher.js';
import { ProfileService } from './services/profile-service.js';
import { AuthRateLimits } from './services/rate-limits.js';
import { RegistrationService } from './services/registration-service.js';
import { RegistrationTokenService } from './services/registration-token-service.js';
import { SessionService } from './services/session-service.js';
import { UIA_SESSION_LIFETIME_MS, UiaServiceImpl } from './services/uia-service.js';
import { AuthStore } from './store/auth-store.js';
import { authInit } from './store/migrations/20260101000000_auth_init.js';

declare module '../../core/container.js' {
  interface Cradle {
    /** The public API of the auth module (see modules/auth/api.ts). */
    authApi: AuthApi;
    accessTokenResolver: AccessTokenResolver;
    authConfig: AuthConfig;
    authStore: AuthStore;
    authEvents: AuthEvents;
    authExtensions: AuthExtensions;
    authPasswordHasher: PasswordHasher;
    authPasswords: PasswordAuthService;
    authRateLimits: AuthRateLimits;
    authRegistrationTokens: RegistrationTokenService;
    authUia: UiaServiceImpl;
    authSessions: SessionService;
    authRegistration: RegistrationService;
    authLogin: LoginService;
    authAccount: AccountService;
    authDevices: DeviceService;
    authProfiles: ProfileService;
  }
}

/** How often batched last-seen data is written, and housekeeping runs. */
const FLUSH_INTERVAL_MS = 10_000;
const HOUSEKEEPING_INTERVAL_MS = 3_600_000;
/** Timers per running kernel (tests run several in one process). */
const timers = new WeakMap<object, NodeJS.Timeout[]>();

/** Accounts and sessions: registration, login, tokens, UIA, devices, account management, profiles. */
export default defineModule({
  name: 'auth',
  description: 'Registration, login, access tokens, UIA, devices, account management and profiles',
  enabledByDefault: true,
  config: AuthConfigSchema,
  migrations: [authInit],
  register({ container, config }) {
    // registrations_require_3pid belongs to identity-proxy; it counts as verification only when that module runs.
    const { rawConfig, enabledModules } = container.cradle;
    const required3pids = rawConfig['registrations_require_3pid'];
    checkAuthConfig(config, {
      requires3pid:
        enabledModules.includes('identity-proxy') && Array.isArray(required3pids) && required3pids.length > 0,
    });
    container.register({
      authConfig: asValue(config),
      authStore: asClass(AuthStore).singleton(),
      authEvents: asClass(AuthEvents).singleton(),
      authExtensions: asClass(AuthExtensions).singleton(),
      authPasswordHasher: asValue(new PasswordHasher(passwordHashingCost(config))),
      authPasswords: asClass(PasswordAuthService).singleton(),
      authRateLimits: asClass(AuthRateLimits).singleton(),
      authRegistrationTokens: asClass(RegistrationTokenService).singleton(),
      authUia: asClass(UiaServiceImpl).singleton(),
      authSessions: asClass(SessionService).singleton(),
      authRegistration: asClass(RegistrationService).singleton(),
      authLogin: asClass(LoginService).singleton(),
      authAccount: asClass(AccountService).singleton(),
      authDevices: asClass(DeviceService).singleton(),
      authProfiles: asClass(ProfileService).singleton(),
      authApi: asClass(AuthApiImpl).singleton(),
      accessTokenResolver: aliasTo('authSessions'),
    });
  },
  routes(router, { cradle }) {
    registerRoutes(router, cradle);
    loginRoutes(router, cradle);
    accountRoutes(router, cradle);
    devicesRoutes(router, cradle);
    profileRoutes(router, cradle);
    adminRoutes(router, cradle);
  },
  async start(cradle) {
    const logger = cradle.logger.child({ module: 'auth' });
    const housekeeping = async (): Promise<void> => {
      try {
        await cradle.authSessions.cleanup();
        await cradle.authStore.uia.deleteOlderThan(Date.now() - UIA_SESSION_LIFETIME_MS);
      } catch (err) {
        logger.warn({ err }, 'auth housekeeping failed');
      }
    };
    const flush = setInterval(() => void cradle.authSessions.flushLastSeen(), FLUSH_INTERVAL_MS);
    const clean = setInterval(() => void housekeeping(), HOUSEKEEPING_INTERVAL_MS);
    flush.unref();
    clean.unref();
    timers.set(cradle.authSessions, [flush, clean]);
  },
  async stop(cradle) {
    for (const t of timers.get(cradle.authSessions) ?? []) clearInterval(t);
    timers.delete(cradle.authSessions);
    await cradle.authSessions.flushLastSeen();
  },
  commands: { 'register-user': registerUserCommand, 'hash-password': hashPasswordCommand },
});
