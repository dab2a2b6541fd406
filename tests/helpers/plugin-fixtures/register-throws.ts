/** Fixture: a plugin whose register() throws. */
import { definePlugin } from '../../../core/index.js';

export default definePlugin({
  name: 'register-throws',
  apiVersion: 1,
  register() {
    throw new Error('cannot reach the policy server');
  },
});
