/**
 * The LDAP password provider against a real OpenLDAP server (slapd) started by the test.
 * Skipped, saying why, where slapd is not installed.
 */
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Client } from 'ldapts';
import t, { type Test } from 'tap';
import ldapProvider from '../../../plugins/ldap-provider/index.js';
import { bootFromYaml, SERVER_NAME } from '../../helpers/plugin-fixtures/boot-from-yaml.js';
import { FAKE_SERVER, registerWithFakeApi } from '../../helpers/plugin-fixtures/fake-plugin-api.js';
import { fakeBackends, fakeBackendsModule } from '../../helpers/plugin-fixtures/probe-module.js';
import {
  LDAP_SERVICE_DN,
  LDAP_SERVICE_PASSWORD,
  slapdUnavailableReason,
  startSlapd,
  type Slapd,
} from '../../helpers/plugin-fixtures/slapd.js';

const PEOPLE = `
dn: uid=alice,ou=people,dc=example,dc=org
objectClass: inetOrgPerson
uid: alice
cn: Alice Liddell
sn: Liddell
displayName: Alice L.
mail: alice@example.org
description: matrix
userPassword: wonderland

dn: uid=bob,ou=people,dc=example,dc=org
objectClass: inetOrgPerson
uid: bob
cn: Bob
sn: Builder
mail: bob@example.org
userPassword: canwefixit

dn: uid=star*,ou=people,dc=example,dc=org
objectClass: inetOrgPerson
uid: star*
cn: Star
sn: Star
userPassword: starry
`;

const unavailable = await slapdUnavailableReason();

void t.test('LDAP provider against slapd', { skip: unavailable ?? false }, async (t) => {
  const slapd = await startSlapd(t, PEOPLE);
  const baseConfig = (extra: Record<string, unknown> = {}) => ({
    uri: slapd.url,
    base: `ou=people,${slapd.base}`,
    bind_dn: LDAP_SERVICE_DN,
    bind_password: LDAP_SERVICE_PASSWORD,
    timeout_ms: 2000,
    ...extra,
  });
  const alice = `@alice:${FAKE_SERVER}`;

  await t.test(
    'the right password logs in and creates the account with the LDAP name and e-mail',
    async (t) => {
      const { passwordProviders, backends } = await registerWithFakeApi(ldapProvider, baseConfig());
      t.same([...passwordProviders.loginTypes()], [['m.login.password', ['password']]]);
      t.same(await passwordProviders.checkAuth(login(alice, 'wonderland')), { userId: alice });
      t.same(backends.users.get(alice)?.displayName, 'Alice L.');
      t.same(backends.users.get(alice)?.emails, ['alice@example.org']);
      t.same(await passwordProviders.checkAuth(login(alice, 'wonderland')), { userId: alice }, 'and again');
    },
  );

  await t.test('a wrong password, an unknown user or an empty password is not accepted', async (t) => {
    const { passwordProviders, backends } = await registerWithFakeApi(ldapProvider, baseConfig());
    t.equal(await passwordProviders.checkAuth(login(alice, 'looking-glass')), null);
    t.equal(await passwordProviders.checkAuth(login(`@nobody:${FAKE_SERVER}`, 'x')), null);
    t.equal(await passwordProviders.checkAuth(login(alice, '')), null);
    t.equal(backends.users.size, 0, 'no account was created');
  });

  await t.test(
    'an empty password is refused even though this slapd accepts it as an anonymous bind',
    async (t) => {
      // The test server allows bind_anon_dn, as some directories do: a DN with no password binds.
      const client = new Client({ url: slapd.url });
      await client.bind('uid=alice,ou=people,dc=example,dc=org', '');
      await client.unbind();
      const { passwordProviders } = await registerWithFakeApi(ldapProvider, baseConfig());
      t.equal(await passwordProviders.checkAuth(login(alice, '')), null);
    },
  );

  await t.test('filter metacharacters in the login are escaped, not interpreted', async (t) => {
    const { passwordProviders } = await registerWithFakeApi(ldapProvider, baseConfig());
    // "*" would match every uid if it reached the filter unescaped; it must match only the user "star*".
    t.equal(await passwordProviders.checkAuth(login(`@*:${FAKE_SERVER}`, 'wonderland')), null);
    t.same(await passwordProviders.checkAuth(login(`@star*:${FAKE_SERVER}`, 'starry')), {
      userId: `@star*:${FAKE_SERVER}`,
    });
  });

  await t.test('the extra filter restricts who may log in', async (t) => {
    const { passwordProviders } = await registerWithFakeApi(
      ldapProvider,
      baseConfig({ filter: '(description=matrix)' }),
    );
    t.same(await passwordProviders.checkAuth(login(alice, 'wonderland')), { userId: alice });
    t.equal(await passwordProviders.checkAuth(login(`@bob:${FAKE_SERVER}`, 'canwefixit')), null);
  });

  await t.test('logging in with an e-mail address finds the user by the mail attribute', async (t) => {
    const { passwordProviders, backends } = await registerWithFakeApi(ldapProvider, baseConfig());
    t.same(
      await passwordProviders.check3pidAuth({
        medium: 'email',
        address: 'bob@example.org',
        password: 'canwefixit',
      }),
      {
        userId: `@bob:${FAKE_SERVER}`,
      },
    );
    t.equal(backends.users.get(`@bob:${FAKE_SERVER}`)?.displayName, undefined, 'bob has no displayName');
    t.equal(
      await passwordProviders.check3pidAuth({
        medium: 'email',
        address: 'bob@example.org',
        password: 'nope',
      }),
      null,
    );
  });

  await t.test('with create_users off, only existing accounts log in', async (t) => {
    const { passwordProviders, backends } = await registerWithFakeApi(
      ldapProvider,
      baseConfig({ create_users: false }),
    );
    t.equal(await passwordProviders.checkAuth(login(alice, 'wonderland')), null);
    backends.users.set(alice, {});
    t.same(await passwordProviders.checkAuth(login(alice, 'wonderland')), { userId: alice });
  });

  await t.test('the service password may come from a file', async (t) => {
    const dir = await mkdtemp(join(tmpdir(), 'axon-ldap-'));
    t.teardown(() => rm(dir, { recursive: true, force: true }));
    await writeFile(join(dir, 'ldap.secret'), `${LDAP_SERVICE_PASSWORD}\n`);
    const config = baseConfig({ bind_password: undefined, bind_password_file: 'ldap.secret' });
    delete (config as Record<string, unknown>)['bind_password'];
    const { passwordProviders } = await registerWithFakeApi(ldapProvider, config, { configDir: dir });
    t.same(await passwordProviders.checkAuth(login(alice, 'wonderland')), { userId: alice });
  });

  await t.test('a wrong service password fails the login closed (403), not silently', async (t) => {
    const { passwordProviders } = await registerWithFakeApi(
      ldapProvider,
      baseConfig({ bind_password: 'wrong' }),
    );
    const err = await passwordProviders.checkAuth(login(alice, 'wonderland')).catch((e: unknown) => e);
    t.match(err, { status: 403, errcode: 'M_FORBIDDEN' });
  });

  await t.test('an unreachable server fails the login closed (403)', async (t) => {
    const { passwordProviders } = await registerWithFakeApi(
      ldapProvider,
      baseConfig({ uri: 'ldap://127.0.0.1:1', timeout_ms: 500 }),
    );
    const err = await passwordProviders.checkAuth(login(alice, 'wonderland')).catch((e: unknown) => e);
    t.match(err, { status: 403, errcode: 'M_FORBIDDEN' });
  });

  await t.test('declared in homeserver.yaml, it logs users in over HTTP', async (t) => {
    await loginOverHttp(t, slapd);
  });
});

async function loginOverHttp(t: Test, slapd: Slapd): Promise<void> {
  const backends = fakeBackends(SERVER_NAME);
  const server = await bootFromYaml(
    t,
    `plugins:
  - module: ./plugins/ldap-provider
    config:
      uri: ${slapd.url}
      base: ou=people,${slapd.base}
      bind_dn: ${LDAP_SERVICE_DN}
      bind_password: ${LDAP_SERVICE_PASSWORD}
      attributes: { name: cn }`,
    { modules: [fakeBackendsModule(backends)] },
  );
  const ok = await server.request('POST', '/_matrix/client/v3/x.plugin_probe/login', {
    body: { type: 'm.login.password', user: `@alice:${SERVER_NAME}`, password: 'wonderland' },
  });
  t.same(ok.body, { user_id: `@alice:${SERVER_NAME}` });
  t.equal(backends.users.get(`@alice:${SERVER_NAME}`)?.displayName, 'Alice Liddell', 'attributes.name: cn');
  const bad = await server.request('POST', '/_matrix/client/v3/x.plugin_probe/login', {
    body: { type: 'm.login.password', user: `@alice:${SERVER_NAME}`, password: 'nope' },
  });
  t.same(bad.body, { user_id: null });
}

function login(user: string, password: string) {
  return { user, loginType: 'm.login.password', fields: { password } };
}
