/** Fixture: a spam checker whose callbacks never answer. */
import { definePlugin } from '../../../core/index.js';

export default definePlugin({
  name: 'hanging',
  apiVersion: 1,
  register(api) {
    const never = (): Promise<never> => new Promise(() => {});
    api.registerSpamChecker({ userMayCreateRoom: never, checkEventForSpam: never });
  },
});
