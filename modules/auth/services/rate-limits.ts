/** The auth module's rate limiters, built once from rc_login / rc_registration (Synapse's shapes and keys). */
import type { Cradle } from '../../../core/container.js';
import { RateLimiter } from '../../../core/http/rate-limit.js';

export class AuthRateLimits {
  /** rc_login.address: every login attempt, per client IP. */
  readonly loginAddress: RateLimiter;
  /** rc_login.account: successful logins, per user. */
  readonly loginAccount: RateLimiter;
  /** rc_login.failed_attempts: failed password checks (login and UIA), per user. */
  readonly failedAttempts: RateLimiter;
  /** rc_registration: registrations, per client IP. */
  readonly registration: RateLimiter;
  /** rc_registration_token_validity: GET …/registration_token/validity, per client IP. */
  readonly tokenValidity: RateLimiter;
  /** POST /login/get_token: the spec asks for stricter limits (here one per minute per user, burst 1). */
  readonly getLoginToken: RateLimiter;

  constructor({ authConfig }: Pick<Cradle, 'authConfig'>) {
    this.loginAddress = new RateLimiter(authConfig.rc_login.address);
    this.loginAccount = new RateLimiter(authConfig.rc_login.account);
    this.failedAttempts = new RateLimiter(authConfig.rc_login.failed_attempts);
    this.registration = new RateLimiter(authConfig.rc_registration);
    this.tokenValidity = new RateLimiter(authConfig.rc_registration_token_validity);
    this.getLoginToken = new RateLimiter({ per_second: 1 / 60, burst_count: 1 });
  }
}
