/**
 * new-account-limiter: during the first minutes of an account, no room creation, no joining public rooms,
 * no links in messages (and optionally no invites). See README.md.
 */
import { definePlugin, NOT_SPAM, type PduJson, type SpamVerdict } from '../../core/index.js';
import { newAccountLimiterConfigSchema } from './config.js';

const MINUTE_MS = 60_000;

export default definePlugin({
  name: 'new-account-limiter',
  apiVersion: 1,
  config: newAccountLimiterConfigSchema,
  register(api, config) {
    let link: RegExp;
    try {
      link = new RegExp(config.link_pattern, 'iu');
    } catch (err) {
      throw new Error(`link_pattern is not a valid regular expression: ${(err as Error).message}`, {
        cause: err,
      });
    }
    const windowMs = config.minutes * MINUTE_MS;

    /** Milliseconds until the account stops being new, or 0 when it is not (or not known to be) new. */
    const remainingMs = async (userId: string): Promise<number> => {
      const createdAt = await api.helpers.getUserCreatedAt(userId);
      if (createdAt === null) return 0;
      const left = createdAt + windowMs - Date.now();
      if (left <= 0) return 0;
      return config.exempt_admins && (await api.helpers.isServerAdmin(userId)) ? 0 : left;
    };
    const refuse = (what: string, left: number): SpamVerdict => ({
      errcode: config.errcode,
      error:
        `New accounts cannot ${what} during their first ${config.minutes} minutes ` +
        `(try again in ${Math.ceil(left / MINUTE_MS)} minutes).`,
    });

    api.registerSpamChecker({
      ...(config.block_room_creation && {
        async userMayCreateRoom({ userId }) {
          const left = await remainingMs(userId);
          return left > 0 ? refuse('create rooms', left) : NOT_SPAM;
        },
      }),
      ...(config.block_public_room_joins && {
        async userMayJoinRoom({ userId, roomId, isInvited }) {
          if (isInvited) return NOT_SPAM;
          const left = await remainingMs(userId);
          if (left === 0) return NOT_SPAM;
          // A room this server does not know (a remote room) is joined without an invite only when public.
          const state = await api.helpers.getRoomState(roomId);
          const joinRules = state.find((e) => e.type === 'm.room.join_rules' && e.state_key === '');
          const rule = joinRules?.content['join_rule'];
          return rule === undefined || rule === 'public' ? refuse('join public rooms', left) : NOT_SPAM;
        },
      }),
      ...(config.block_invites && {
        async userMayInvite({ inviter }) {
          const left = await remainingMs(inviter);
          return left > 0 ? refuse('invite others', left) : NOT_SPAM;
        },
      }),
      ...(config.block_links && {
        async checkEventForSpam({ event }) {
          if (event.state_key !== undefined || !messageTexts(event).some((text) => link.test(text)))
            return NOT_SPAM;
          const left = await remainingMs(event.sender);
          return left > 0 ? refuse('send links', left) : NOT_SPAM;
        },
      }),
    });
  },
});

/** Bodies of a message event and of an edit's new content. */
function messageTexts(event: Readonly<PduJson>): string[] {
  const texts: string[] = [];
  for (const content of [event.content, event.content['m.new_content']]) {
    if (typeof content !== 'object' || content === null || Array.isArray(content)) continue;
    for (const key of ['body', 'formatted_body']) {
      const value = content[key];
      if (typeof value === 'string') texts.push(value);
    }
  }
  return texts;
}
