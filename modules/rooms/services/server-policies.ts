/**
 * Synapse's server-wide room policies, each plugged in through a hook rather than written into the
 * membership code: `block_non_admin_invites` (a spam-checker callback of the server's own, so it holds for
 * every invite path, createRoom's included), `forget_rooms_on_leave` (a persisted-event listener) and
 * `auto_join_rooms` with `autocreate_auto_join_rooms` and `auto_join_mxid_localpart` (a registration
 * listener).
 */
import type { Cradle } from '../../../core/container.js';
import { BootError } from '../../../core/errors.js';
import { NOT_SPAM } from '../../../core/plugins/api.js';
import type { RoomsConfig } from '../config.js';

type PolicyCradle = Pick<
  Cradle,
  | 'roomsConfig'
  | 'spamCheckers'
  | 'authApi'
  | 'roomsHookLists'
  | 'roomsMembershipStore'
  | 'roomsMembership'
  | 'roomsCreation'
  | 'serverName'
  | 'logger'
>;

export function applyServerPolicies(c: PolicyCradle): void {
  const config = c.roomsConfig;
  if (config.block_non_admin_invites) {
    c.spamCheckers.add('block_non_admin_invites', {
      userMayInvite: async ({ inviter }) =>
        (await c.authApi.isServerAdmin(inviter))
          ? NOT_SPAM
          : { errcode: 'M_FORBIDDEN', error: 'Invites have been disabled on this server' },
    });
  }
  if (config.forget_rooms_on_leave) {
    const local = `:${c.serverName}`;
    c.roomsHookLists.onEventPersisted(async (event) => {
      if (event.type !== 'm.room.member' || !event.stateKey?.endsWith(local)) return;
      if (event.membership !== 'leave' && event.membership !== 'ban') return;
      await c.roomsMembershipStore.setForgotten(event.roomId, event.stateKey);
    });
  }
  if ((config.auto_join_rooms ?? []).length > 0) {
    if (
      (config.autocreate_auto_join_room_preset ?? 'public_chat') !== 'public_chat' &&
      !config.auto_join_mxid_localpart
    ) {
      throw new BootError(
        'AXON_ERR_CONFIG_INVALID',
        `autocreate_auto_join_room_preset: ${config.autocreate_auto_join_room_preset} rooms need auto_join_mxid_localpart (the user who invites new users into them)`,
      );
    }
    const autoJoin = new AutoJoin(c, config);
    c.authApi.onUserRegistered(({ userId }) => autoJoin.join(userId));
  }
}

/** Puts a newly registered user into each of `auto_join_rooms`, creating missing local rooms first. */
class AutoJoin {
  private readonly logger: Cradle['logger'];

  constructor(
    private readonly c: PolicyCradle,
    private readonly config: RoomsConfig,
  ) {
    this.logger = c.logger.child({ module: 'rooms', component: 'auto-join' });
  }

  async join(userId: string): Promise<void> {
    for (const alias of this.config.auto_join_rooms ?? []) {
      try {
        await this.joinOne(userId, alias);
      } catch (err) {
        // As Synapse: one room failing does not stop registration or the other rooms.
        this.logger.warn({ err, userId, alias }, 'auto-join failed');
      }
    }
  }

  private async joinOne(userId: string, alias: string): Promise<void> {
    const { roomsHookLists, roomsMembership, serverName } = this.c;
    const inviter = await this.creator(userId);
    let roomId = await roomsHookLists.resolveAlias(alias);
    if (!roomId) {
      const [localpart, server] = [alias.slice(1, alias.indexOf(':')), alias.slice(alias.indexOf(':') + 1)];
      if (this.config.autocreate_auto_join_rooms === false || server !== serverName) {
        this.logger.warn({ alias }, 'auto-join room does not exist and is not created here');
        return;
      }
      roomId = await this.c.roomsCreation.createRoom(
        { userId: inviter },
        {
          preset: this.config.autocreate_auto_join_room_preset ?? 'public_chat',
          room_alias_name: localpart,
          creation_content: { 'm.federate': this.config.autocreate_auto_join_rooms_federated !== false },
        },
      );
      if (inviter === userId) return; // the new user created it, so is in it
    }
    if (this.config.auto_join_mxid_localpart && inviter !== userId) {
      const membership = await this.c.roomsMembershipStore.getMembership(roomId, inviter);
      if (membership?.membership === 'join') {
        await roomsMembership.invite({ userId: inviter }, roomId, userId).catch(() => undefined); // public rooms need none
      }
    }
    await roomsMembership.join({ userId }, roomId);
  }

  /** `auto_join_mxid_localpart`'s user (registered on first use), else the user who just registered. */
  private async creator(userId: string): Promise<string> {
    const localpart = this.config.auto_join_mxid_localpart;
    if (!localpart) return userId;
    const id = `@${localpart}:${this.c.serverName}`;
    if (!(await this.c.authApi.userExists(id))) await this.c.authApi.registerUser(localpart);
    return id;
  }
}
