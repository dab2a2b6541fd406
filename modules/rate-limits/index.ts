import { asClass, asValue } from 'awilix';
import { defineModule } from '../../core/define-module.js';
import { rateLimitsConfigSchema, type RateLimitsConfig } from './config.js';
import { UserRateLimits } from './services/user-rate-limits.js';

declare module '../../core/container.js' {
  interface Cradle {
    rateLimitsConfig: RateLimitsConfig;
    userRateLimits: UserRateLimits;
  }
}

/** Synapse's per-action rate limits (rc_message, rc_joins, rc_invites, …); route files apply them via api.ts. */
export default defineModule({
  name: 'rate-limits',
  description: "rate limits: Synapse's rc_message, rc_joins, rc_invites, rc_key_requests, rc_media_create, …",
  enabledByDefault: true,
  requires: ['auth'],
  config: rateLimitsConfigSchema,
  register({ container, config }) {
    container.register({
      rateLimitsConfig: asValue(config),
      userRateLimits: asClass(UserRateLimits).singleton(),
    });
  },
});
