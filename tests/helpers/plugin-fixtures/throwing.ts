/** Fixture: a spam checker and a password provider whose callbacks throw. */
import { definePlugin } from '../../../core/index.js';

export default definePlugin({
  name: 'throwing',
  apiVersion: 1,
  register(api) {
    api.registerSpamChecker({
      userMayCreateRoom() {
        throw new Error('spam checker exploded');
      },
      checkRegistrationForSpam() {
        throw new Error('registration checker exploded');
      },
    });
    api.registerPasswordProvider({
      checkPassword() {
        throw new Error('password provider exploded');
      },
    });
  },
});
