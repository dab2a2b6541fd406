/** The presence module's homeserver.yaml keys: Synapse's `presence` section (only `enabled` is used). */
import { Type, type Static } from '@sinclair/typebox';

export const presenceConfigSchema = Type.Object({
  presence: Type.Object(
    {
      /** Synapse's switch; with the module on and this false, updates are ignored and sync carries none. */
      enabled: Type.Boolean({ default: true }),
    },
    { default: {} },
  ),
});

export type PresenceConfig = Static<typeof presenceConfigSchema>;
