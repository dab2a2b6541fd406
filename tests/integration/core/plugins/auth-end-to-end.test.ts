/**
 * Plugins at the auth module's call sites, end to end: a real homeserver.yaml declaring shipped plugins,
 * a real server, a client speaking HTTP. Password providers log users in through /login (htpasswd, LDAP);
 * the registration guard shadow-bans and denies through /register; a throwing plugin fails closed without
 * taking the server down.
 */
import bcrypt from 'bcryptjs';
import t from 'tap';
import {
  bootFromYaml,
  fixture,
  SERVER_NAME,
  type YamlServer,
} from '../../../helpers/plugin-fixtures/boot-from-yaml.js';
import {
  LDAP_SERVICE_DN,
  LDAP_SERVICE_PASSWORD,
  slapdUnavailableReason,
  startSlapd,
} from '../../../helpers/plugin-fixtures/slapd.js';

const LOGIN = '/_matrix/client/v3/login';
const ldapUnavailable = await slapdUnavailableReason();
const REGISTER = '/_matrix/client/v3/register';

/** Open registration and rate limits a test never hits (the auth module's keys). */
const AUTH_KEYS = `enable_registration: true
enable_registration_without_verification: true
rc_registration: { per_second: 1000, burst_count: 1000 }
rc_login:
  address: { per_second: 1000, burst_count: 1000 }
  account: { per_second: 1000, burst_count: 1000 }
  failed_attempts: { per_second: 1000, burst_count: 1000 }`;

async function passwordLogin(server: YamlServer, user: string, password: string) {
  return server.request('POST', LOGIN, {
    body: { type: 'm.login.password', identifier: { type: 'm.id.user', user }, password },
  });
}

async function register(server: YamlServer, username: string, password = 'pw-123456') {
  const challenge = await server.request('POST', REGISTER, { body: { username, password } });
  if (challenge.status !== 401) return challenge;
  return server.request('POST', REGISTER, {
    body: { username, password, auth: { type: 'm.login.dummy', session: challenge.body.session } },
  });
}

void t.test('htpasswd provider: a listed user logs in over /login and gets an account', async (t) => {
  const server = await bootFromYaml(
    t,
    `${AUTH_KEYS}
plugins:
  - module: ./plugins/htpasswd-provider
    config: { file: users.htpasswd }`,
    { files: { 'users.htpasswd': `alice:${bcrypt.hashSync('wonderland', 4)}\n` } },
  );
  const flows = await server.request('GET', LOGIN);
  t.ok(flows.body.flows.some((f: { type: string }) => f.type === 'm.login.password'));

  const ok = await passwordLogin(server, 'alice', 'wonderland');
  t.equal(ok.status, 200);
  t.equal(ok.body.user_id, `@alice:${SERVER_NAME}`);
  const whoami = await server.request('GET', '/_matrix/client/v3/account/whoami', {
    token: ok.body.access_token,
  });
  t.equal(whoami.body.user_id, `@alice:${SERVER_NAME}`, 'the token works: the account was created');
  t.equal(await server.kernel.container.cradle.authApi.userExists(`@alice:${SERVER_NAME}`), true);

  const bad = await passwordLogin(server, 'alice', 'looking-glass');
  t.equal(bad.status, 403);
  t.equal(bad.body.errcode, 'M_FORBIDDEN');
  const again = await passwordLogin(server, 'alice', 'wonderland');
  t.equal(again.status, 200, 'a second login finds the existing account');
});

void t.test(
  'LDAP provider: a directory user logs in over /login, named as in the directory',
  { skip: ldapUnavailable ?? false },
  async (t) => {
    const slapd = await startSlapd(
      t,
      `dn: uid=carol,ou=people,dc=example,dc=org
objectClass: inetOrgPerson
uid: carol
cn: Carol
sn: Danvers
displayName: Carol D.
mail: carol@example.org
userPassword: higher-further-faster
`,
    );
    const server = await bootFromYaml(
      t,
      `${AUTH_KEYS}
plugins:
  - module: ./plugins/ldap-provider
    config:
      uri: ${slapd.url}
      base: ou=people,${slapd.base}
      bind_dn: ${LDAP_SERVICE_DN}
      bind_password: ${LDAP_SERVICE_PASSWORD}`,
    );
    const ok = await passwordLogin(server, 'carol', 'higher-further-faster');
    t.equal(ok.status, 200);
    t.equal(ok.body.user_id, `@carol:${SERVER_NAME}`);
    const profile = await server.request('GET', `/_matrix/client/v3/profile/@carol:${SERVER_NAME}`);
    t.equal(profile.body.displayname, 'Carol D.', 'the display name came from LDAP');
    const bad = await passwordLogin(server, 'carol', 'slower');
    t.equal(bad.status, 403);
  },
);

void t.test(
  'registration guard: a shadow-banned registration looks successful; a blocked one is refused',
  async (t) => {
    const server = await bootFromYaml(
      t,
      `${AUTH_KEYS}
plugins:
  - module: ./spam-checkers/registration-guard
    config:
      blocked_username_patterns: ['^admin']
      shadow_ban_username_patterns: ['bot\\d+$']`,
    );
    const shadow = await register(server, 'spambot42');
    t.equal(shadow.status, 200, 'the client sees a normal registration');
    t.equal(shadow.body.user_id, `@spambot42:${SERVER_NAME}`);
    t.type(shadow.body.access_token, 'string');
    const whoami = await server.request('GET', '/_matrix/client/v3/account/whoami', {
      token: shadow.body.access_token,
    });
    t.equal(whoami.status, 200);
    t.equal(
      await server.kernel.container.cradle.authApi.isShadowBanned(`@spambot42:${SERVER_NAME}`),
      true,
      'but the account is shadow-banned',
    );

    const denied = await register(server, 'administrator');
    t.equal(denied.status, 403);
    t.equal(denied.body.errcode, 'M_FORBIDDEN');
    t.equal(await server.kernel.container.cradle.authApi.userExists(`@administrator:${SERVER_NAME}`), false);

    const fine = await register(server, 'alice');
    t.equal(fine.status, 200);
    t.equal(await server.kernel.container.cradle.authApi.isShadowBanned(`@alice:${SERVER_NAME}`), false);
  },
);

void t.test(
  'a throwing plugin fails registration and login closed, and the server keeps serving',
  async (t) => {
    const server = await bootFromYaml(t, `${AUTH_KEYS}\nplugins:\n  - module: ${fixture('throwing.ts')}\n`);
    const reg = await register(server, 'dave');
    t.equal(reg.status, 403, 'a throwing registration checker denies');
    const login = await passwordLogin(server, 'dave', 'pw-123456');
    t.equal(login.status, 403, 'a throwing password provider fails the login');
    t.ok(server.logs.some((l) => l['plugin'] === 'throwing' && l['callback'] === 'checkRegistrationForSpam'));
    t.ok(server.logs.some((l) => l['plugin'] === 'throwing' && l['callback'] === 'checkPassword'));
    const versions = await server.request('GET', '/_matrix/client/versions');
    t.equal(versions.status, 200);
  },
);

void t.test('GET /login advertises the login types password providers declare', async (t) => {
  const server = await bootFromYaml(
    t,
    `${AUTH_KEYS}
plugins:
  - module: ${fixture('login-type.ts')}
    config: { type: com.example.login.token, fields: [token] }`,
  );
  const flows = await server.request('GET', LOGIN);
  t.ok(
    flows.body.flows.some((f: { type: string }) => f.type === 'com.example.login.token'),
    JSON.stringify(flows.body),
  );
});
