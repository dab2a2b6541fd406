import { Type, type Static } from '../../core/index.js';

/** Key names follow matrix-synapse-ldap3, so an existing Synapse LDAP config carries over. */
export const ldapConfigSchema = Type.Object({
  /** The LDAP server: `ldap://host:389` or `ldaps://host:636`. */
  uri: Type.String({ pattern: '^ldaps?://' }),
  /** Upgrade an `ldap://` connection with StartTLS before binding. */
  start_tls: Type.Boolean({ default: false }),
  /** Where users are searched (subtree), e.g. `ou=people,dc=example,dc=org`. */
  base: Type.String({ minLength: 1 }),
  /** The attributes holding the login name, the e-mail address and the display name. */
  attributes: Type.Object(
    {
      uid: Type.String({ minLength: 1, default: 'uid' }),
      mail: Type.String({ minLength: 1, default: 'mail' }),
      name: Type.String({ minLength: 1, default: 'displayName' }),
    },
    { default: {} },
  ),
  /** The service account users are searched as; anonymous search when absent. */
  bind_dn: Type.Optional(Type.String({ minLength: 1 })),
  bind_password: Type.Optional(Type.String()),
  /** A file holding the service account's password (instead of `bind_password`), relative to homeserver.yaml. */
  bind_password_file: Type.Optional(Type.String({ minLength: 1 })),
  /** An extra LDAP filter users must match, e.g. `(memberOf=cn=matrix,ou=groups,dc=example,dc=org)`. */
  filter: Type.Optional(Type.String({ pattern: '^\\(.*\\)$' })),
  /** Longest an LDAP connection or operation may take, in milliseconds (a login is up to four of them, and
   * the whole login must finish within the 5 s every plugin callback gets). */
  timeout_ms: Type.Integer({ minimum: 100, default: 2000 }),
  /** A PEM file of CA certificates to trust for ldaps:// and StartTLS, relative to homeserver.yaml. */
  tls_ca_file: Type.Optional(Type.String({ minLength: 1 })),
  /** Create the Matrix account on the first successful login, with the LDAP display name and e-mail. */
  create_users: Type.Boolean({ default: true }),
});

export type LdapConfig = Static<typeof ldapConfigSchema>;
