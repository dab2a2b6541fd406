/** Fixture: a password provider claiming one login type with configurable fields, accepting one secret. */
import { definePlugin, Type } from '../../../core/index.js';

export default definePlugin({
  name: 'login-type',
  apiVersion: 1,
  config: Type.Object({
    type: Type.String(),
    fields: Type.Array(Type.String()),
    secret: Type.String({ default: 'open sesame' }),
  }),
  register(api, config) {
    api.registerPasswordProvider({
      loginTypes: { [config.type]: config.fields },
      checkAuth({ user, fields }) {
        const given = config.fields.map((f) => fields[f]);
        return given.includes(config.secret) ? { userId: user } : null;
      },
    });
  },
});
