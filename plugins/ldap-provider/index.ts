/**
 * ldap-provider: checks passwords against an LDAP directory — search the user as a service account, then
 * bind as the user with the given password — and creates the Matrix account on the first login with the
 * directory's display name and e-mail. See README.md.
 */
import { readFile } from 'node:fs/promises';
import { isAbsolute, resolve } from 'node:path';
import { Client, InvalidCredentialsError, type Entry } from 'ldapts';
import { definePlugin, type PluginApi } from '../../core/index.js';
import { ldapConfigSchema, type LdapConfig } from './config.js';

export default definePlugin({
  name: 'ldap-provider',
  apiVersion: 1,
  config: ldapConfigSchema,
  async register(api, config) {
    const fromConfigDir = (p: string): string => (isAbsolute(p) ? p : resolve(api.configDir, p));
    const bindPassword = config.bind_password_file
      ? (await readFile(fromConfigDir(config.bind_password_file), 'utf8')).trim()
      : config.bind_password;
    const ca = config.tls_ca_file ? await readFile(fromConfigDir(config.tls_ca_file)) : undefined;
    const directory = new LdapDirectory(api, config, bindPassword, ca);
    const { serverName } = api.helpers;

    /** Creates the account on its first login when allowed; false when it does not exist and may not be. */
    const ensureAccount = async (localpart: string, user: DirectoryUser): Promise<boolean> => {
      const userId = `@${localpart}:${serverName}`;
      if (await api.helpers.userExists(userId)) return true;
      if (!config.create_users) {
        api.logger.info({ user_id: userId }, 'LDAP accepted the password but the account does not exist');
        return false;
      }
      try {
        await api.helpers.registerUser(localpart, {
          ...(user.displayName !== undefined && { displayName: user.displayName }),
          emails: user.emails,
        });
        api.logger.info({ user_id: userId }, 'created the account on its first LDAP login');
      } catch (err) {
        if (!(await api.helpers.userExists(userId))) throw err;
      }
      return true;
    };

    api.registerPasswordProvider({
      async checkPassword({ userId, password }) {
        const colon = userId.indexOf(':');
        if (colon === -1 || userId.slice(colon + 1) !== serverName) return false;
        const localpart = userId.slice(1, colon);
        const user = await directory.authenticate(config.attributes.uid, localpart, password);
        return user !== undefined && ensureAccount(localpart, user);
      },
      async check3pidAuth({ medium, address, password }) {
        if (medium !== 'email') return null;
        const user = await directory.authenticate(config.attributes.mail, address, password);
        if (!user?.uid) return null;
        const localpart = user.uid.toLowerCase();
        return (await ensureAccount(localpart, user)) ? { userId: `@${localpart}:${serverName}` } : null;
      },
    });
  },
});

export interface DirectoryUser {
  readonly dn: string;
  readonly uid: string | undefined;
  readonly displayName: string | undefined;
  readonly emails: string[];
}

/** One short-lived connection per login: nothing stays open between logins, so nothing needs closing. */
export class LdapDirectory {
  constructor(
    private readonly api: Pick<PluginApi, 'logger'>,
    private readonly config: LdapConfig,
    private readonly bindPassword: string | undefined,
    private readonly ca: Buffer | undefined,
  ) {}

  /**
   * The user whose `attribute` equals `value`, when `password` is theirs; undefined when there is no such
   * single user or the password is wrong. Connection and server errors throw (the login then fails closed).
   */
  async authenticate(attribute: string, value: string, password: string): Promise<DirectoryUser | undefined> {
    // An empty password would be an "unauthenticated bind", which many servers accept as anonymous.
    if (password === '' || value === '') return undefined;
    const { attributes, filter, base } = this.config;
    const client = this.client();
    try {
      await this.connect(client);
      if (this.config.bind_dn) await client.bind(this.config.bind_dn, this.bindPassword ?? '');
      const { searchEntries } = await client.search(base, {
        scope: 'sub',
        filter: `(&(${attribute}=${escapeFilterValue(value)})${filter ?? ''})`,
        attributes: [attributes.uid, attributes.mail, attributes.name],
        sizeLimit: 2,
      });
      const [entry, ...others] = searchEntries;
      if (!entry) return undefined;
      if (others.length > 0) {
        this.api.logger.warn({ attribute, value }, 'several LDAP entries match one login; refusing it');
        return undefined;
      }
      try {
        await client.bind(entry.dn, password);
      } catch (err) {
        if (err instanceof InvalidCredentialsError) return undefined;
        throw err;
      }
      return {
        dn: entry.dn,
        uid: first(entry, attributes.uid),
        displayName: first(entry, attributes.name),
        emails: all(entry, attributes.mail),
      };
    } finally {
      await client.unbind().catch(() => undefined);
    }
  }

  private client(): Client {
    return new Client({
      url: this.config.uri,
      timeout: this.config.timeout_ms,
      connectTimeout: this.config.timeout_ms,
      ...(this.ca && { tlsOptions: { ca: this.ca } }),
    });
  }

  private async connect(client: Client): Promise<void> {
    if (this.config.start_tls) await client.startTLS(this.ca ? { ca: this.ca } : {});
  }
}

/** RFC 4515: escape the characters that carry meaning in a search filter. */
export function escapeFilterValue(value: string): string {
  return value.replace(/[\\*()\0]/g, (c) => `\\${c.charCodeAt(0).toString(16).padStart(2, '0')}`);
}

function all(entry: Entry, attribute: string): string[] {
  // Attribute names are case-insensitive in LDAP; servers answer in their schema's spelling.
  const key = Object.keys(entry).find((k) => k.toLowerCase() === attribute.toLowerCase());
  const value = key === undefined ? undefined : entry[key];
  const values = value === undefined ? [] : Array.isArray(value) ? value : [value];
  return values.map((v) => (typeof v === 'string' ? v : v.toString('utf8')));
}

function first(entry: Entry, attribute: string): string | undefined {
  return all(entry, attribute)[0];
}
