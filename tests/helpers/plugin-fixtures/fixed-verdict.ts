/**
 * Fixture: a spam checker answering a fixed verdict for one callback, and recording that it was asked
 * (tests read `calls` to see which plugins the chain consulted, in order).
 */
import { definePlugin, NOT_SPAM, Type, type SpamVerdict } from '../../../core/index.js';

export const calls: string[] = [];

export default definePlugin({
  name: 'fixed-verdict',
  apiVersion: 1,
  config: Type.Object({
    label: Type.String(),
    errcode: Type.Optional(Type.String()),
    registration: Type.Union([Type.Literal('ALLOW'), Type.Literal('DENY'), Type.Literal('SHADOW_BAN')], {
      default: 'ALLOW',
    }),
  }),
  register(api, config) {
    api.registerSpamChecker({
      userMayCreateRoom(): SpamVerdict {
        calls.push(config.label);
        return config.errcode ? { errcode: config.errcode, error: `refused by ${config.label}` } : NOT_SPAM;
      },
      checkRegistrationForSpam() {
        calls.push(config.label);
        return config.registration;
      },
    });
  },
});
