/**
 * The per-action limiters behind Synapse's `rc_*` keys. Server admins are exempt from all of them (an admin
 * cleaning up spam must not be stopped), except that an admin's redactions count against
 * `rc_admin_redaction`. Whether a requester is an admin is asked only when a limiter would refuse, so the
 * common allowed case costs no database read.
 */
import type { Cradle } from '../../../core/container.js';
import { RateLimiter, rateLimitedError, type RateLimitSettings } from '../../../core/http/rate-limit.js';

export type LimitedAction =
  'message' | 'redaction' | 'join' | 'invite' | 'key_requests' | 'media_create' | 'presence';

export interface ActionFacts {
  /** The acting user. */
  readonly userId: string;
  /** join: the room id or alias; invite: the room id. */
  readonly room?: string;
  /** invite: the invited user. */
  readonly target?: string;
  /** How many actions at once (to-device key requests). */
  readonly cost?: number;
}

export class UserRateLimits {
  readonly message: RateLimiter;
  readonly adminRedaction: RateLimiter;
  readonly joinsLocal: RateLimiter;
  readonly joinsRemote: RateLimiter;
  readonly joinsPerRoom: RateLimiter;
  readonly invitesPerRoom: RateLimiter;
  readonly invitesPerUser: RateLimiter;
  readonly invitesPerIssuer: RateLimiter;
  readonly keyRequests: RateLimiter;
  readonly mediaCreate: RateLimiter;
  readonly presence: RateLimiter;
  private readonly serverName: string;
  private readonly authApi: Cradle['authApi'];

  constructor(
    { rateLimitsConfig: c, serverName, authApi }: Pick<Cradle, 'rateLimitsConfig' | 'serverName' | 'authApi'>,
    /** The clock the buckets refill by (tests pass a fake one). */
    now: () => number = Date.now,
  ) {
    const limiter = (settings: RateLimitSettings) => new RateLimiter(settings, { now });
    this.message = limiter(c.rc_message);
    this.adminRedaction = limiter(c.rc_admin_redaction);
    this.joinsLocal = limiter(c.rc_joins.local);
    this.joinsRemote = limiter(c.rc_joins.remote);
    this.joinsPerRoom = limiter(c.rc_joins_per_room);
    this.invitesPerRoom = limiter(c.rc_invites.per_room);
    this.invitesPerUser = limiter(c.rc_invites.per_user);
    this.invitesPerIssuer = limiter(c.rc_invites.per_issuer);
    this.keyRequests = limiter(c.rc_key_requests);
    this.mediaCreate = limiter(c.rc_media_create);
    this.presence = limiter(c.rc_presence.per_user);
    this.serverName = serverName;
    this.authApi = authApi;
  }

  /** Counts the action, or throws 429 M_LIMIT_EXCEEDED (with retry_after_ms) for a non-admin over a limit. */
  async limit(action: LimitedAction, facts: ActionFacts): Promise<void> {
    const checks = this.checksFor(action, facts);
    const cost = facts.cost ?? 1;
    const refused = checks
      .map(([limiter, key]) => limiter.check(key, { update: false, cost }))
      .filter((o) => !o.allowed);
    if (refused.length > 0) {
      if (await this.authApi.isServerAdmin(facts.userId)) {
        if (action === 'redaction') this.adminRedaction.assert(facts.userId, { cost });
        return;
      }
      throw rateLimitedError(Math.max(...refused.map((o) => o.retryAfterMs)));
    }
    for (const [limiter, key] of checks) limiter.check(key, { cost });
  }

  private checksFor(action: LimitedAction, f: ActionFacts): [RateLimiter, string][] {
    switch (action) {
      case 'message':
      case 'redaction':
        return [[this.message, f.userId]];
      case 'join': {
        const room = f.room ?? '';
        const server = room.includes(':') ? room.slice(room.indexOf(':') + 1) : this.serverName;
        const joins = server === this.serverName ? this.joinsLocal : this.joinsRemote;
        return [
          [joins, f.userId],
          [this.joinsPerRoom, room],
        ];
      }
      case 'invite':
        return [
          [this.invitesPerRoom, f.room ?? ''],
          [this.invitesPerUser, f.target ?? ''],
          [this.invitesPerIssuer, f.userId],
        ];
      case 'key_requests':
        return [[this.keyRequests, f.userId]];
      case 'media_create':
        return [[this.mediaCreate, f.userId]];
      case 'presence':
        return [[this.presence, f.userId]];
    }
  }
}
