/**
 * Profiles of other servers' users for the auth module (its `RemoteProfileSource`): asks the user's server
 * with `GET /_matrix/federation/v1/query/profile`. Errors as Synapse: the remote 404 is relayed as
 * `M_NOT_FOUND`, a destination outside federation_domain_whitelist is 403, anything else (unreachable, other
 * statuses, a body that is not an object) is 502; the spec's 403 ("unwilling to disclose") is relayed as
 * 403 M_FORBIDDEN. Answers are kept a minute so a client rendering a member list does not ask the same
 * server again for every row.
 */
import { MatrixError } from '../../../core/errors.js';
import { serverNameOf } from '../../../core/protocol/identifiers.js';
import type { Profile, RemoteProfileSource } from '../../auth/api.js';
import { FederationRequestError, type FederationClient } from '../api.js';

const CACHE_TTL_MS = 60_000;
const CACHE_MAX_ENTRIES = 1000;

export class RemoteProfiles implements RemoteProfileSource {
  private readonly cache = new Map<string, { profile: Profile; expiresAt: number }>();

  constructor(
    private readonly client: FederationClient,
    private readonly now: () => number = Date.now,
  ) {}

  async fetch(userId: string, field?: string): Promise<Profile> {
    // Other fields (m.tz, custom keys) are picked from the whole profile: servers that only know the two
    // classic fields (Axon's own /query/profile, older Synapse) refuse them as a `field`.
    if (field !== undefined && field !== 'displayname' && field !== 'avatar_url') {
      const whole = await this.fetch(userId);
      return Object.hasOwn(whole, field) ? { [field]: whole[field] } : {};
    }
    const key = `${userId}\u0000${field ?? ''}`;
    const cached = this.cache.get(key);
    if (cached && cached.expiresAt > this.now()) return cached.profile;
    const profile = await this.ask(userId, field);
    if (this.cache.size >= CACHE_MAX_ENTRIES) {
      const oldest = this.cache.keys().next().value;
      if (oldest !== undefined) this.cache.delete(oldest);
    }
    this.cache.set(key, { profile, expiresAt: this.now() + CACHE_TTL_MS });
    return profile;
  }

  private async ask(userId: string, field: string | undefined): Promise<Profile> {
    const destination = serverNameOf(userId) ?? '';
    let answer: unknown;
    try {
      answer = await this.client.request({
        method: 'GET',
        destination,
        path: '/_matrix/federation/v1/query/profile',
        query: field === undefined ? { user_id: userId } : { user_id: userId, field },
        maxResponseBytes: 256 * 1024,
      });
    } catch (err) {
      if (!(err instanceof FederationRequestError)) throw err;
      if (err.kind === 'http' && err.status === 404) {
        throw new MatrixError(404, 'M_NOT_FOUND', 'Profile was not found');
      }
      if (err.kind === 'http' && err.status === 403) {
        // The spec lets a server refuse to disclose a profile; the client API has the same 403.
        throw new MatrixError(403, 'M_FORBIDDEN', 'Profile lookup was refused by the remote server');
      }
      if (err.kind === 'not_allowed') {
        throw new MatrixError(403, 'M_FORBIDDEN', `Federation denied with ${destination}`);
      }
      throw new MatrixError(502, 'M_UNKNOWN', 'Failed to fetch profile');
    }
    if (typeof answer !== 'object' || answer === null || Array.isArray(answer)) {
      throw new MatrixError(502, 'M_UNKNOWN', 'Failed to fetch profile');
    }
    // An unset field may come as null (spec): the client sees it absent; with `field`, only that one.
    return Object.fromEntries(
      Object.entries(answer).filter(([name, value]) => value !== null && (!field || name === field)),
    );
  }
}
