/**
 * The `profile` query (`GET /_matrix/federation/v1/query/profile`): a local user's displayname and
 * avatar_url, or one `field` of them, through the auth module's profile lookup.
 */
import { MatrixError } from '../../../core/errors.js';
import { parseUserId } from '../../../core/protocol/identifiers.js';
import type { AuthApi } from '../../auth/api.js';
import type { FederationQueryHandler } from '../api.js';

export function profileQueryHandler(serverName: string, authApi: () => AuthApi): FederationQueryHandler {
  return async ({ params }) => {
    const userId = params['user_id'];
    const field = params['field'];
    if (userId === undefined) throw new MatrixError(400, 'M_MISSING_PARAM', 'Missing parameter: user_id');
    if (typeof userId !== 'string' || !parseUserId(userId))
      throw new MatrixError(400, 'M_INVALID_PARAM', 'Invalid user_id');
    if (field !== undefined && field !== 'displayname' && field !== 'avatar_url') {
      throw new MatrixError(400, 'M_INVALID_PARAM', 'field must be displayname or avatar_url');
    }
    if (parseUserId(userId)?.serverName !== serverName) {
      throw new MatrixError(400, 'M_INVALID_PARAM', 'The user is not hosted on this server');
    }
    const profile = await authApi().getProfile(userId);
    if (!profile) throw new MatrixError(404, 'M_NOT_FOUND', 'Profile was not found');
    const out: Record<string, unknown> = {};
    for (const name of field ? [field] : ['displayname', 'avatar_url']) {
      if (typeof profile[name] === 'string') out[name] = profile[name];
    }
    return out;
  };
}
