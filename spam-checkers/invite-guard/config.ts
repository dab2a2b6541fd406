import { Type, type Static } from '../../core/index.js';

export const inviteGuardConfigSchema = Type.Object({
  /** Servers whose users may not invite anyone here; `*` matches any run of characters (`*.spam.example`). */
  blocked_servers: Type.Array(Type.String({ minLength: 1 }), { default: [] }),
  /** Users who may not invite anyone (full user ids; `*` wildcards allowed). */
  blocked_users: Type.Array(Type.String({ minLength: 1 }), { default: [] }),
  /** Refuse invites from users who share no room with the person they invite. */
  require_shared_room: Type.Boolean({ default: false }),
  /** Local server admins skip the shared-room rule (the block lists still apply to them). */
  exempt_admins: Type.Boolean({ default: true }),
  /** The Matrix error code the inviter receives. */
  errcode: Type.String({ pattern: '^[A-Za-z][A-Za-z0-9_.]*$', default: 'M_FORBIDDEN' }),
  /** The error message the inviter receives. */
  error: Type.String({ default: 'You may not invite this user.' }),
});

export type InviteGuardConfig = Static<typeof inviteGuardConfigSchema>;
