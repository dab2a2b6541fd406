/** Account management: POST /account/password and /account/deactivate (both behind UIA). */
import type { Cradle } from '../../../core/container.js';
import { MatrixError } from '../../../core/errors.js';
import type { Requester } from '../../../core/http/context.js';
import type { ValidatedThreepid } from '../api.js';

export class AccountService {
  private readonly store: Cradle['authStore'];
  private readonly config: Cradle['authConfig'];
  private readonly sessions: Cradle['authSessions'];
  private readonly passwords: Cradle['authPasswords'];
  private readonly uia: Cradle['authUia'];
  private readonly events: Cradle['authEvents'];
  private readonly extensions: Cradle['authExtensions'];

  constructor(
    c: Pick<
      Cradle,
      | 'authStore'
      | 'authConfig'
      | 'authSessions'
      | 'authPasswords'
      | 'authUia'
      | 'authEvents'
      | 'authExtensions'
    >,
  ) {
    this.store = c.authStore;
    this.config = c.authConfig;
    this.sessions = c.authSessions;
    this.passwords = c.authPasswords;
    this.uia = c.authUia;
    this.events = c.authEvents;
    this.extensions = c.authExtensions;
  }

  /**
   * Changes the password; other devices are logged out unless `logout_devices` is false. Without an access
   * token this is a password reset: the UIA proves control of an email address bound to the account (the
   * identity-proxy's stage), and every device is logged out unless `logout_devices` is false.
   */
  async changePassword(
    requester: Requester | null,
    body: Readonly<Record<string, unknown>>,
    request: { method: string; path: string },
  ): Promise<void> {
    if (this.config.password_config.enabled === false || !this.config.password_config.localdb_enabled) {
      throw new MatrixError(403, 'M_FORBIDDEN', 'Password change disabled');
    }
    if (requester?.isGuest) throw new MatrixError(403, 'M_GUEST_ACCESS_FORBIDDEN', 'Guests have no password');
    const resetStage = this.extensions.threepids?.passwordResetStage;
    if (!requester && resetStage === undefined) {
      throw new MatrixError(401, 'M_MISSING_TOKEN', 'Missing access token');
    }
    const { new_password: newPassword, ...rest } = body;
    if (newPassword !== undefined) {
      if (typeof newPassword !== 'string') throw new MatrixError(400, 'M_BAD_JSON', 'Invalid new_password');
      this.passwords.checkPolicy(newPassword);
    }
    const { clientDict, completed } = await this.uia.require({
      requester,
      body: rest,
      flows: requester ? this.uia.reauthFlows() : [[resetStage as string]],
      description: 'modify your account password',
      method: request.method,
      path: request.path,
    });
    if (typeof newPassword !== 'string')
      throw new MatrixError(400, 'M_MISSING_PARAM', 'Missing parameter: new_password');
    const userId = requester?.userId ?? (await this.resetTarget(completed[resetStage as string]));
    await this.store.users.setPasswordHash(userId, await this.passwords.hash(newPassword));
    // The body of the session's first request counts when the last one carried only `auth`.
    if (clientDict['logout_devices'] !== false) {
      if (requester) {
        await this.sessions.revokeOtherSessions(requester.userId, {
          deviceId: requester.deviceId,
          accessTokenId: requester.accessTokenId,
        });
      } else {
        await this.sessions.logoutAll(userId);
      }
    }
  }

  /** The account a password reset is for: the one the validated 3PID is bound to (Synapse: 404 otherwise). */
  private async resetTarget(stageResult: unknown): Promise<string> {
    const threepid = stageResult as Partial<ValidatedThreepid> | undefined;
    if (typeof threepid?.medium !== 'string' || typeof threepid.address !== 'string') {
      throw new MatrixError(401, 'M_UNAUTHORIZED', 'No validated third-party identifier');
    }
    const userId = await this.extensions.threepids?.resolveUser(threepid.medium, threepid.address);
    if (userId === undefined) throw new MatrixError(404, 'M_NOT_FOUND', 'Email address not found');
    const user = await this.store.users.get(userId);
    if (!user || user.deactivated) throw new MatrixError(404, 'M_NOT_FOUND', 'Email address not found');
    return userId;
  }

  /**
   * Deactivates the account: password wiped, every device and token gone, profile cleared, listeners told
   * (rooms makes the user leave). The user row stays, so the id can never be registered again.
   */
  async deactivate(
    requester: Requester,
    body: Readonly<Record<string, unknown>>,
    request: { method: string; path: string },
  ): Promise<{ id_server_unbind_result: 'success' }> {
    const { clientDict } = await this.uia.require({
      requester,
      body,
      flows: this.uia.reauthFlows(),
      description: 'deactivate your account',
      method: request.method,
      path: request.path,
    });
    await this.deactivateUser(requester.userId, clientDict['erase'] === true);
    return { id_server_unbind_result: 'success' };
  }

  async deactivateUser(userId: string, erase: boolean): Promise<void> {
    await this.store.users.markDeactivated(userId);
    await this.sessions.logoutAll(userId);
    await this.store.profiles.delete(userId, null);
    await this.events.emit('userDeactivated', this.events.userDeactivated, { userId, erase });
  }
}
