/**
 * `axon register-user`: creates a user on a running server through the shared-secret admin API, like
 * Synapse's register_new_matrix_user (same flags, same prompts). The server URL comes from the first HTTP
 * listener serving `client` in the config, unless given with --url (or as the last argument).
 */
import { userInfo } from 'node:os';
import { parseArgs } from 'node:util';
import { loadConfigFile } from '../../../core/config/load.js';
import { DEFAULT_LISTENER_RESOURCES } from '../../../core/config/schema.js';
import type { CliCommand } from '../../../core/define-module.js';
import { sharedSecretMac } from '../services/registration-service.js';
import { closePrompts, prompt } from './prompt.js';

const USAGE = `usage: axon register-user -c homeserver.yaml [-u USER] [-p PASSWORD] [-a | --no-admin]
                          [-t USER_TYPE] [-k SHARED_SECRET] [--url URL | URL]`;

interface ListenerLike {
  port?: unknown;
  tls?: unknown;
  type?: unknown;
  bind_addresses?: unknown;
  resources?: { names?: unknown }[];
}

/** `http(s)://host:port` of the first HTTP listener that serves the client API. */
export function clientUrlFromConfig(config: Readonly<Record<string, unknown>>): string | undefined {
  const listeners = Array.isArray(config['listeners'])
    ? (config['listeners'] as ListenerLike[])
    : [{ port: 8008 }];
  for (const l of listeners) {
    if (l.type !== undefined && l.type !== 'http') continue;
    const names = (l.resources ?? [{ names: DEFAULT_LISTENER_RESOURCES }]).flatMap((r) =>
      Array.isArray(r.names) ? (r.names as unknown[]) : [],
    );
    if (!names.includes('client') || typeof l.port !== 'number') continue;
    const binds = Array.isArray(l.bind_addresses) ? (l.bind_addresses as string[]) : ['::', '0.0.0.0'];
    const host = binds.some((b) => b === '0.0.0.0' || b === '::' || b === '127.0.0.1' || b === 'localhost')
      ? '127.0.0.1'
      : binds[0]?.includes(':')
        ? `[${binds[0]}]`
        : (binds[0] ?? '127.0.0.1');
    return `${l.tls === true ? 'https' : 'http'}://${host}:${l.port}`;
  }
  return undefined;
}

export const registerUserCommand: CliCommand = {
  summary:
    'Create a user on a running server through the shared-secret admin API (like register_new_matrix_user)',
  usage: 'register-user -c homeserver.yaml [-u USER] [-p PASSWORD] [-a | --no-admin] [--url URL]',
  async run(argv) {
    let parsed;
    try {
      parsed = parseArgs({
        args: [...argv],
        allowPositionals: true,
        options: {
          config: { type: 'string', short: 'c' },
          user: { type: 'string', short: 'u' },
          password: { type: 'string', short: 'p' },
          admin: { type: 'boolean', short: 'a' },
          'no-admin': { type: 'boolean' },
          'user-type': { type: 'string', short: 't' },
          'shared-secret': { type: 'string', short: 'k' },
          url: { type: 'string' },
          help: { type: 'boolean', short: 'h' },
        },
      });
    } catch (err) {
      console.error(`${(err as Error).message}\n${USAGE}`);
      return 1;
    }
    const { values, positionals } = parsed;
    if (values.help) {
      console.log(USAGE);
      return 0;
    }
    if (values.admin && values['no-admin']) {
      console.error('-a/--admin and --no-admin are mutually exclusive');
      return 1;
    }
    let secret = values['shared-secret'];
    let url = values.url ?? positionals[0];
    if (values.config) {
      const loaded = await loadConfigFile(values.config);
      const configured = loaded.data['registration_shared_secret'];
      if (secret === undefined && typeof configured === 'string') secret = configured;
      url ??= clientUrlFromConfig(loaded.data);
    }
    if (!secret) {
      console.error(
        'No registration_shared_secret in the config (or -k) — shared-secret registration is not possible.',
      );
      return 1;
    }
    if (!url) {
      console.error(`No client listener found in the config; give the server URL with --url.\n${USAGE}`);
      return 1;
    }

    let user = values.user;
    let password = values.password;
    let admin = values.admin ? true : values['no-admin'] ? false : undefined;
    try {
      if (user === undefined) {
        const fallback = safeUsername();
        const answer = await prompt(`New user localpart${fallback ? ` [${fallback}]` : ''}: `);
        user = answer || fallback;
      }
      if (!user) {
        console.error('Invalid user name');
        return 1;
      }
      if (password === undefined) {
        password = await prompt('Password: ', { hidden: true });
        if (!password) {
          console.error('Password cannot be blank.');
          return 1;
        }
        if (process.stdin.isTTY) {
          const again = await prompt('Confirm password: ', { hidden: true });
          if (again !== password) {
            console.error('Passwords do not match');
            return 1;
          }
        }
      }
      if (admin === undefined) {
        const answer = ((await prompt('Make admin [no]: ')) ?? '').trim().toLowerCase();
        admin = answer === 'y' || answer === 'yes' || answer === 'true';
      }
    } finally {
      closePrompts();
    }

    const base = url.replace(/\/+$/, '');
    const endpoint = `${base}/_synapse/admin/v1/register`;
    try {
      const nonceResponse = await fetch(endpoint);
      const nonceBody = (await nonceResponse.json()) as { nonce?: unknown; error?: unknown };
      if (!nonceResponse.ok || typeof nonceBody.nonce !== 'string') {
        console.error(
          `ERROR! Received ${nonceResponse.status}: ${typeof nonceBody.error === 'string' ? nonceBody.error : 'no nonce'}`,
        );
        return 1;
      }
      const userType = values['user-type'];
      const body = {
        nonce: nonceBody.nonce,
        username: user,
        password,
        admin,
        ...(userType ? { user_type: userType } : {}),
        mac: sharedSecretMac(secret, { nonce: nonceBody.nonce, username: user, password, admin, userType }),
      };
      console.log('Sending registration request...');
      const r = await fetch(endpoint, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify(body),
      });
      const result = (await r.json()) as { user_id?: unknown; error?: unknown; errcode?: unknown };
      if (!r.ok) {
        console.error(
          `ERROR! Received ${r.status} ${typeof result.errcode === 'string' ? result.errcode : ''}: ${typeof result.error === 'string' ? result.error : ''}`,
        );
        return 1;
      }
      console.log(`Success! Registered ${String(result.user_id)}${admin ? ' (admin)' : ''}`);
      return 0;
    } catch (err) {
      console.error(`ERROR! Could not reach ${base}: ${(err as Error).message}`);
      return 1;
    }
  },
};

function safeUsername(): string | undefined {
  try {
    return userInfo().username;
  } catch {
    return undefined;
  }
}
