/** Account management: POST /account/password and /account/deactivate (both behind UIA). */
import type { Cradle } from '../../../core/container.js';
import { MatrixError } from '../../../core/errors.js';
import type { Requester } from '../../../core/http/context.js';

export class AccountService {
  private readonly store: Cradle['authStore'];
  private readonly config: Cradle['authConfig'];
  private readonly sessions: Cradle['authSessions'];
  private readonly passwords: Cradle['authPasswords'];
  private readonly uia: Cradle['authUia'];
  private readonly events: Cradle['authEvents'];

  constructor(
    c: Pick<Cradle, 'authStore' | 'authConfig' | 'authSessions' | 'authPasswords' | 'authUia' | 'authEvents'>,
  ) {
    this.store = c.authStore;
    this.config = c.authConfig;
    this.sessions = c.authSessions;
    this.passwords = c.authPasswords;
    this.uia = c.authUia;
    this.events = c.authEvents;
  }

  /** Changes the password; other devices are logged out unless `logout_devices` is false. */
  async changePassword(
    requester: Requester,
    body: Readonly<Record<string, unknown>>,
    request: { method: string; path: string },
  ): Promise<void> {
    if (this.config.password_config.enabled === false || !this.config.password_config.localdb_enabled) {
      throw new MatrixError(403, 'M_FORBIDDEN', 'Password change disabled');
    }
    const { new_password: newPassword, ...rest } = body;
    if (newPassword !== undefined) {
      if (typeof newPassword !== 'string') throw new MatrixError(400, 'M_BAD_JSON', 'Invalid new_password');
      this.passwords.checkPolicy(newPassword);
    }
    const { clientDict } = await this.uia.require({
      requester,
      body: rest,
      flows: this.uia.reauthFlows(),
      description: 'modify your account password',
      method: request.method,
      path: request.path,
    });
    if (typeof newPassword !== 'string')
      throw new MatrixError(400, 'M_MISSING_PARAM', 'Missing parameter: new_password');
    await this.store.users.setPasswordHash(requester.userId, await this.passwords.hash(newPassword));
    // The body of the session's first request counts when the last one carried only `auth`.
    if (clientDict['logout_devices'] !== false) {
      await this.sessions.revokeOtherSessions(requester.userId, {
        deviceId: requester.deviceId,
        accessTokenId: requester.accessTokenId,
      });
    }
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
