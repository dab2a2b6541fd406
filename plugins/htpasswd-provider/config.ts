import { Type, type Static } from '../../core/index.js';

export const htpasswdConfigSchema = Type.Object({
  /** The users file (`user:hash` lines), relative to the directory of homeserver.yaml. */
  file: Type.String({ minLength: 1 }),
  /** Create the Matrix account on the first successful login of a user listed in the file. */
  create_users: Type.Boolean({ default: true }),
});

export type HtpasswdConfig = Static<typeof htpasswdConfigSchema>;
