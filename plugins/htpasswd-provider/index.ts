/**
 * htpasswd-provider: logs users in against a file of `user:hash` lines, re-read when it changes, and
 * creates their Matrix account on the first login. See README.md.
 */
import { stat, readFile } from 'node:fs/promises';
import { isAbsolute, resolve } from 'node:path';
import { definePlugin } from '../../core/index.js';
import { htpasswdConfigSchema } from './config.js';
import { localpartOf, parseUsersFile, verifyPassword, type UsersFile } from './users-file.js';

export default definePlugin({
  name: 'htpasswd-provider',
  apiVersion: 1,
  config: htpasswdConfigSchema,
  async register(api, config) {
    const { serverName } = api.helpers;
    const path = isAbsolute(config.file) ? config.file : resolve(api.configDir, config.file);
    let current: { version: string; file: UsersFile } | undefined;
    let loading: Promise<UsersFile> | undefined;

    const load = async (version: string): Promise<UsersFile> => {
      const file = parseUsersFile(await readFile(path, 'utf8'), serverName);
      for (const problem of file.skipped) api.logger.warn(`${path}: ${problem}; ignored`);
      api.logger.info({ users: file.users.size }, `read ${path}`);
      current = { version, file };
      return file;
    };
    /** The users, re-read when the file's size, time or inode changed; no users when it cannot be read. */
    const users = async (): Promise<UsersFile['users']> => {
      try {
        const s = await stat(path);
        const version = `${s.ino}:${s.size}:${s.mtimeMs}`;
        if (current?.version === version) return current.file.users;
        loading ??= load(version).finally(() => (loading = undefined));
        return (await loading).users;
      } catch (err) {
        // Fail closed: without the file nobody logs in through it (other providers and the database still may).
        api.logger.error({ err }, `cannot read ${path}: no user can log in through this provider`);
        current = undefined;
        return new Map();
      }
    };

    // A missing or unreadable file at boot is an operator error worth stopping for.
    const first = await stat(path).catch((err: unknown) => {
      throw new Error(`cannot read the users file ${path}: ${(err as Error).message}`, { cause: err });
    });
    await load(`${first.ino}:${first.size}:${first.mtimeMs}`);

    api.registerPasswordProvider({
      async checkPassword({ userId, password }) {
        const localpart = localpartOf(userId, serverName);
        const entry = localpart === undefined ? undefined : (await users()).get(localpart);
        if (localpart === undefined || !entry || !(await verifyPassword(password, entry))) return false;
        if (await api.helpers.userExists(userId)) return true;
        if (!config.create_users) {
          api.logger.info(
            { user_id: userId },
            'password accepted but the account does not exist (create_users is off)',
          );
          return false;
        }
        try {
          await api.helpers.registerUser(localpart);
          api.logger.info({ user_id: userId }, 'created the account on its first login');
        } catch (err) {
          // Two first logins at once: the other one created it.
          if (!(await api.helpers.userExists(userId))) throw err;
        }
        return true;
      },
    });
  },
});
