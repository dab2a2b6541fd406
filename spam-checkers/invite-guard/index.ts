/**
 * invite-guard: refuses invites from listed servers or users, and optionally from users who share no room
 * with the person they invite. See README.md.
 */
import { definePlugin, NOT_SPAM, type PluginApi, type SpamVerdict } from '../../core/index.js';
import { inviteGuardConfigSchema, type InviteGuardConfig } from './config.js';

export default definePlugin({
  name: 'invite-guard',
  apiVersion: 1,
  config: inviteGuardConfigSchema,
  register(api, config) {
    const decide = inviteDecider(api, config);
    api.registerSpamChecker({
      userMayInvite: ({ inviter, invitee, roomId }) => decide(inviter, invitee, roomId),
      async federatedUserMayInvite({ event }) {
        if (typeof event.state_key !== 'string' || typeof event.room_id !== 'string') return NOT_SPAM;
        return decide(event.sender, event.state_key, event.room_id);
      },
    });
  },
});

/** The verdict for one invite. */
export function inviteDecider(
  api: Pick<PluginApi, 'helpers' | 'logger'>,
  config: InviteGuardConfig,
): (inviter: string, invitee: string, roomId: string) => Promise<SpamVerdict> {
  const blockedUser = globs(config.blocked_users);
  const blockedServer = globs(config.blocked_servers);
  const refusal: SpamVerdict = { errcode: config.errcode, error: config.error };
  return async (inviter, invitee, roomId) => {
    const server = serverOf(inviter);
    if (blockedUser(inviter) || (server !== undefined && blockedServer(server))) {
      api.logger.info(
        { inviter, invitee, room_id: roomId },
        'blocked an invite from a listed user or server',
      );
      return refusal;
    }
    if (!config.require_shared_room) return NOT_SPAM;
    if (config.exempt_admins && (await api.helpers.isServerAdmin(inviter))) return NOT_SPAM;
    const [theirs, ours] = await Promise.all([
      api.helpers.getJoinedRooms(invitee),
      api.helpers.getJoinedRooms(inviter),
    ]);
    const inviterRooms = new Set(ours);
    if (theirs.some((room) => inviterRooms.has(room))) return NOT_SPAM;
    api.logger.info({ inviter, invitee, room_id: roomId }, 'blocked an invite between users sharing no room');
    return refusal;
  };
}

/** The server part of a user id (`@user:server`), or undefined when it has none. */
function serverOf(userId: string): string | undefined {
  const colon = userId.indexOf(':');
  return colon === -1 ? undefined : userId.slice(colon + 1);
}

/** A case-insensitive matcher for a list of patterns where `*` matches any run of characters. */
export function globs(patterns: readonly string[]): (value: string) => boolean {
  if (patterns.length === 0) return () => false;
  const source = patterns
    .map((p) =>
      p
        .split('*')
        .map((part) => part.replace(/[.*+?^${}()|[\]\\]/g, '\\$&'))
        .join('.*'),
    )
    .join('|');
  const regex = new RegExp(`^(?:${source})$`, 'i');
  return (value) => regex.test(value);
}
