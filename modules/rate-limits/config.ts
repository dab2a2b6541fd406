/** Synapse's per-action rate limits (`rc_*` keys of homeserver.yaml), with Synapse's defaults. */
import { Type, type Static } from '@sinclair/typebox';
import { rateLimitSchema } from '../../core/http/rate-limit.js';

const group = <T extends Parameters<typeof Type.Object>[0]>(properties: T) =>
  Type.Object(properties, { default: {} });

export const rateLimitsConfigSchema = Type.Object({
  rc_message: rateLimitSchema({ per_second: 0.2, burst_count: 10 }),
  rc_joins: group({
    local: rateLimitSchema({ per_second: 0.1, burst_count: 10 }),
    remote: rateLimitSchema({ per_second: 0.01, burst_count: 10 }),
  }),
  rc_joins_per_room: rateLimitSchema({ per_second: 1, burst_count: 10 }),
  rc_invites: group({
    per_room: rateLimitSchema({ per_second: 0.3, burst_count: 10 }),
    per_user: rateLimitSchema({ per_second: 0.003, burst_count: 5 }),
    per_issuer: rateLimitSchema({ per_second: 0.3, burst_count: 10 }),
  }),
  rc_admin_redaction: rateLimitSchema({ per_second: 1, burst_count: 50 }),
  rc_key_requests: rateLimitSchema({ per_second: 20, burst_count: 100 }),
  rc_media_create: rateLimitSchema({ per_second: 10, burst_count: 50 }),
  rc_presence: group({ per_user: rateLimitSchema({ per_second: 0.1, burst_count: 1 }) }),
});

export type RateLimitsConfig = Static<typeof rateLimitsConfigSchema>;
