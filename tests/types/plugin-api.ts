/**
 * Compile-only checks of the public plugin API (run by `tsc --noEmit`, never executed): what an
 * out-of-tree plugin written in TypeScript may and may not write. Each @ts-expect-error is a mistake the
 * compiler must catch.
 */
import {
  definePlugin,
  NOT_SPAM,
  Type,
  type PasswordProvider,
  type PluginApi,
  type SpamCheckerCallbacks,
  type SpamVerdict,
} from '../../core/index.js';

// A complete, valid plugin: the config type flows from the schema into register().
export const valid = definePlugin({
  name: 'valid',
  apiVersion: 1,
  config: Type.Object({ words: Type.Array(Type.String(), { default: [] }), limit: Type.Integer() }),
  register(api, config) {
    const words: string[] = config.words;
    const limit: number = config.limit;
    // @ts-expect-error -- the config has no such key
    void config.wrods;
    api.registerSpamChecker({
      async checkEventForSpam({ event }) {
        return words.some((w) => JSON.stringify(event.content).includes(w))
          ? { errcode: 'M_FORBIDDEN' }
          : NOT_SPAM;
      },
      // Synchronous answers are fine too.
      userMayCreateRoom: ({ request }) =>
        Object.keys(request).length > limit ? { errcode: 'M_LIMIT_EXCEEDED', error: 'too much' } : NOT_SPAM,
      checkRegistrationForSpam: ({ username }) => (username?.startsWith('bot') ? 'SHADOW_BAN' : 'ALLOW'),
      shouldDropFederatedEvent: () => false,
    });
    api.registerPasswordProvider({
      checkPassword: async ({ userId, password }) => userId !== '' && password !== '',
    });
  },
});

// A plugin without config receives unknown.
definePlugin({
  name: 'no-config',
  apiVersion: 1,
  register(_api, config) {
    // @ts-expect-error -- without a schema the config is unknown
    void config.anything;
  },
});

// @ts-expect-error -- apiVersion is required
definePlugin({ name: 'no-version', register() {} });

// @ts-expect-error -- register is required
definePlugin({ name: 'no-register', apiVersion: 1 });

declare const api: PluginApi;
declare const otherHelpers: PluginApi['helpers'];

api.registerSpamChecker({
  // @ts-expect-error -- a verdict is NOT_SPAM or { errcode }, not a string of one's own
  checkEventForSpam: async () => 'SPAM',
});

api.registerSpamChecker({
  // @ts-expect-error -- a refusal needs an errcode
  userMayInvite: () => ({ error: 'no errcode' }),
});

api.registerSpamChecker({
  // @ts-expect-error -- booleans are Synapse's legacy answers, not Axon's
  userMayJoinRoom: () => false,
});

api.registerSpamChecker({
  // @ts-expect-error -- checkRegistrationForSpam answers ALLOW, DENY or SHADOW_BAN
  checkRegistrationForSpam: () => NOT_SPAM,
});

api.registerSpamChecker({
  // @ts-expect-error -- an unknown callback (a typo) is an error, not silently ignored
  checkEventForSapm: () => NOT_SPAM,
});

api.registerSpamChecker({
  // @ts-expect-error -- callbacks take one named-argument object, not positional arguments
  userMayInvite: (inviter: string, invitee: string) => (inviter === invitee ? NOT_SPAM : NOT_SPAM),
});

// A verdict may carry extra fields the client receives.
export const withExtra: SpamVerdict = { errcode: 'M_LIMIT_EXCEEDED', extra: { retry_after_ms: 1000 } };

// @ts-expect-error -- checkAuth needs the loginTypes it handles
export const noTypes: PasswordProvider = { checkAuth: () => null };

// @ts-expect-error -- a provider needs checkAuth or checkPassword
export const nothing: PasswordProvider = { loginTypes: { 'm.login.password': ['password'] } };

export const customType: PasswordProvider = {
  loginTypes: { 'com.example.login.token': ['token'] },
  checkAuth: ({ user, fields }) => (fields['token'] === 'secret' ? { userId: user } : null),
};

export const badResult: PasswordProvider = {
  loginTypes: { 'm.login.password': ['password'] },
  // @ts-expect-error -- checkAuth answers { userId } or null
  checkAuth: () => ({ user: '@a:x' }),
};

export const badFields: PasswordProvider = {
  // @ts-expect-error -- fields are a list of names
  loginTypes: { 'm.login.password': 'password' },
  checkAuth: () => null,
};

// The helpers are read-only and typed.
export async function helpersAreTyped(): Promise<void> {
  const exists: boolean = await api.helpers.userExists('@a:x');
  const rooms: readonly string[] = await api.helpers.getJoinedRooms('@a:x');
  const created: number | null = await api.helpers.getUserCreatedAt('@a:x');
  void [exists, rooms, created];
  // @ts-expect-error -- helpers cannot be replaced
  api.helpers = otherHelpers;
  // @ts-expect-error -- plugins never get the container
  void api.container;
}

// Callbacks can be declared apart from registration, typed by the interface.
export const standalone: SpamCheckerCallbacks = { userMayPublishRoom: () => NOT_SPAM };
