/** Fixture: a plugin with a strict config schema, for config errors at boot. */
import { definePlugin, Type } from '../../../core/index.js';

export default definePlugin({
  name: 'strict-config',
  apiVersion: 1,
  config: Type.Object({
    threshold: Type.Integer({ minimum: 1 }),
    words: Type.Array(Type.String(), { default: [] }),
  }),
  register() {},
});
