/** The htpasswd provider declared in a real homeserver.yaml, logging users in over HTTP. */
import bcrypt from 'bcryptjs';
import t from 'tap';
import { bootFromYaml, SERVER_NAME } from '../../helpers/plugin-fixtures/boot-from-yaml.js';
import { fakeBackends, fakeBackendsModule } from '../../helpers/plugin-fixtures/probe-module.js';

const LOGIN = '/_matrix/client/v3/x.plugin_probe/login';

void t.test(
  'declared in homeserver.yaml with a users file beside it, it logs users in over HTTP',
  async (t) => {
    const backends = fakeBackends(SERVER_NAME);
    const server = await bootFromYaml(
      t,
      `plugins:
  - module: ./plugins/htpasswd-provider
    config: { file: users.htpasswd }`,
      {
        files: { 'users.htpasswd': `alice:${bcrypt.hashSync('wonderland', 4)}\n` },
        modules: [fakeBackendsModule(backends)],
      },
    );
    const types = await server.request('GET', '/_matrix/client/v3/x.plugin_probe/login_types');
    t.same(types.body, { 'm.login.password': ['password'] });
    const ok = await server.request('POST', LOGIN, {
      body: { type: 'm.login.password', user: `@alice:${SERVER_NAME}`, password: 'wonderland' },
    });
    t.same(ok.body, { user_id: `@alice:${SERVER_NAME}` });
    t.ok(backends.users.has(`@alice:${SERVER_NAME}`), 'the account was created on first login');
    const bad = await server.request('POST', LOGIN, {
      body: { type: 'm.login.password', user: `@alice:${SERVER_NAME}`, password: 'nope' },
    });
    t.same(bad.body, { user_id: null });
  },
);

void t.test('a users file that does not exist stops boot naming the plugin', async (t) => {
  await t.rejects(
    bootFromYaml(
      t,
      `plugins:\n  - module: ./plugins/htpasswd-provider\n    config: { file: missing.htpasswd }\n`,
    ),
    {
      code: 'AXON_ERR_PLUGIN_LOAD',
      message: /plugin "htpasswd-provider": register\(\) failed: cannot read the users file/,
    },
  );
});
