import { existsSync } from 'node:fs';
import { pathToFileURL } from 'node:url';
import { join } from 'node:path';
import t from 'tap';
import { defineModule } from '../../../../core/define-module.js';
import { Kernel } from '../../../../core/kernel.js';
import { createLogger } from '../../../../core/logger.js';
import { PROJECT_ROOT } from '../../../../core/plugins/resolve-module.js';
import { overrideCallbackTimeoutForTests } from '../../../../core/plugins/run-callback.js';
import {
  bootError,
  bootFromYaml,
  fixture,
  writeHomeserverYaml,
} from '../../../helpers/plugin-fixtures/boot-from-yaml.js';
import { calls } from '../../../helpers/plugin-fixtures/fixed-verdict.js';

const CHECK = '/_matrix/client/v3/x.plugin_probe/check/userMayCreateRoom';
const coreIndex = pathToFileURL(join(PROJECT_ROOT, 'core/index.ts')).href;

void t.test(
  'plugins load in declaration order from a path beside the config file and one in the project',
  async (t) => {
    const server = await bootFromYaml(
      t,
      `plugins:
  - module: ./local-checker.ts
  - module: ./tests/helpers/plugin-fixtures/fixed-verdict
    config: { label: project, errcode: M_LIMIT_EXCEEDED }`,
      {
        files: {
          // An ES-module folder: tap's own TypeScript loader (ts-node) would compile a .ts file elsewhere to
          // CommonJS, where the server's CLI loads it as an ES module (core/plugins/loader-hooks.ts).
          'package.json': '{ "type": "module" }',
          'local-checker.ts': `import { definePlugin, NOT_SPAM } from '${coreIndex}';
export default definePlugin({ name: 'local', apiVersion: 1, register(api) {
  api.registerSpamChecker({ userMayCreateRoom() { api.logger.info('local asked'); return NOT_SPAM; } });
} });
`,
        },
      },
    );
    const res = await server.request('POST', CHECK, { body: { userId: '@a:plugins.test', request: {} } });
    t.equal(res.status, 403);
    t.equal(res.body.errcode, 'M_LIMIT_EXCEEDED', 'the project plugin refused');
    t.ok(
      server.logs.some((l) => l['plugin'] === 'local' && l['msg'] === 'local asked'),
      'the local plugin was asked first, with its own scoped logger, and let the request through',
    );
    const loaded = server.logs.find((l) => l['msg'] === 'plugins loaded');
    t.same(loaded?.['plugins'], ['local', 'fixed-verdict']);
  },
);

void t.test('a missing module stops boot naming the entry and the places looked in', async (t) => {
  const err = await bootError(t, 'plugins:\n  - module: ./no/such/plugin\n');
  t.equal(err.code, 'AXON_ERR_PLUGIN_LOAD');
  t.match(
    err.message,
    /plugins\[0\] \(module "\.\/no\/such\/plugin"\) \(.*homeserver\.yaml:\d+\): no such file/,
  );
});

void t.test('an npm package that is not installed is named, with a hint when a path was meant', async (t) => {
  const err = await bootError(
    t,
    'plugins:\n  - module: axon-no-such-plugin-package\n  - module: tests/helpers/plugin-fixtures/fixed-verdict\n',
  );
  t.equal(err.code, 'AXON_ERR_PLUGIN_LOAD');
  t.equal(err.problems?.length, 2, 'both entries are reported at once');
  t.match(err.problems?.[0], /plugins\[0\].*no npm package "axon-no-such-plugin-package" is installed/);
  t.match(
    err.problems?.[1],
    /plugins\[1\].*did you mean "\.\/tests\/helpers\/plugin-fixtures\/fixed-verdict"/,
  );
});

void t.test('a plugin that throws while importing stops boot with its error', async (t) => {
  const err = await bootError(t, `plugins:\n  - module: ${fixture('broken.ts')}\n`);
  t.equal(err.code, 'AXON_ERR_PLUGIN_LOAD');
  t.match(
    err.message,
    /plugins\[0\] .*broken\.ts.*cannot load it: broken fixture: this module fails while importing/,
  );
});

void t.test('a plugin with a missing dependency stops boot naming the dependency', async (t) => {
  const err = await bootError(t, `plugins:\n  - module: ${fixture('missing-dependency.ts')}\n`);
  t.equal(err.code, 'AXON_ERR_PLUGIN_LOAD');
  t.match(err.message, /plugins\[0\] .*missing-dependency\.ts.*axon-fixture-package-that-does-not-exist/);
});

void t.test('a module whose default export is not a plugin is refused', async (t) => {
  const err = await bootError(t, `plugins:\n  - module: ${fixture('not-a-plugin.ts')}\n`);
  t.equal(err.code, 'AXON_ERR_PLUGIN_LOAD');
  t.match(err.message, /default export must be a plugin: export default definePlugin/);
});

void t.test('a plugin written for another API version is refused', async (t) => {
  const err = await bootError(t, `plugins:\n  - module: ${fixture('wrong-version.ts')}\n`);
  t.equal(err.code, 'AXON_ERR_PLUGIN_LOAD');
  t.match(
    err.message,
    /plugin "from-the-future" was written for plugin API version 99; this Axon provides version 1/,
  );
});

void t.test(
  'a bad plugin config stops boot with the plugin, the key and the line, every problem at once',
  async (t) => {
    const err = await bootError(
      t,
      `plugins:
  - module: ${fixture('bad-config.ts')}
    config:
      words: [1]`,
    );
    t.equal(err.code, 'AXON_ERR_CONFIG_INVALID');
    t.equal(err.problems?.length, 2);
    t.match(err.message, /plugins\[0\]\.config\.threshold is required \(plugin "strict-config"\)/);
    t.match(
      err.message,
      /plugins\[0\]\.config\.words\[0\] must be string \(plugin "strict-config"\) \(.*homeserver\.yaml:14\)/,
    );
  },
);

void t.test(
  'a bad plugin config stops boot before any migration runs or the database or signing key is created',
  async (t) => {
    let migrated = false;
    const recorder = defineModule({
      name: 'migration-recorder',
      description: 'records whether its migration ran',
      enabledByDefault: true,
      migrations: [
        {
          name: '20260101000000_record',
          async up() {
            migrated = true;
          },
          async down() {},
        },
      ],
      register() {},
    });
    const { dir, configPath } = await writeHomeserverYaml(
      t,
      `plugins:\n  - module: ${fixture('bad-config.ts')}\n    config: { threshold: 0 }`,
    );
    const boot = Kernel.boot({ configPath, modules: [recorder], logger: createLogger('silent') });
    await t.rejects(boot, { code: 'AXON_ERR_CONFIG_INVALID' });
    t.notOk(migrated, 'no migration ran');
    t.notOk(existsSync(join(dir, 'homeserver.db')), 'the SQLite database was not created');
    t.notOk(existsSync(join(dir, 'signing.key')), 'no signing key was written');
  },
);

void t.test('a plugin whose register() throws stops boot naming it', async (t) => {
  const err = await bootError(t, `plugins:\n  - module: ${fixture('register-throws.ts')}\n`);
  t.equal(err.code, 'AXON_ERR_PLUGIN_LOAD');
  t.match(
    err.message,
    /plugins\[0\] .*plugin "register-throws": register\(\) failed: cannot reach the policy server/,
  );
});

void t.test('two providers claiming one login type with different fields stop boot', async (t) => {
  const err = await bootError(
    t,
    `plugins:
  - module: ${fixture('login-type.ts')}
    config: { type: com.example.login.token, fields: [token] }
  - module: ${fixture('login-type.ts')}
    config: { type: com.example.login.token, fields: [otp, token] }`,
  );
  t.equal(err.code, 'AXON_ERR_PLUGIN_CONFLICT');
  t.match(
    err.message,
    /plugins\[1\].*login type com\.example\.login\.token but with different fields \(\[token\] vs \[otp, token\]\)/,
  );
});

void t.test('a Synapse-style modules: list is refused with a pointer to plugins:', async (t) => {
  const err = await bootError(t, `modules:\n  - module: synapse_spamcheck.Checker\n    config: {}\n`);
  t.equal(err.code, 'AXON_ERR_CONFIG_INVALID');
  t.match(
    err.message,
    /homeserver\.yaml:\d+: "modules" is a list.*declare plugins under "plugins:" instead/s,
  );
});

void t.test('unknown keys in a plugin config are warned about, not refused', async (t) => {
  const server = await bootFromYaml(
    t,
    `plugins:
  - module: ${fixture('bad-config.ts')}
    config: { threshold: 2, treshold: 3 }`,
  );
  t.ok(
    server.logs.some(
      (l) =>
        l['level'] === 40 && /unknown config key "plugins\[0\]\.config\.treshold"/.test(String(l['msg'])),
    ),
  );
});

void t.test(
  'a throwing callback refuses the action, is logged with the plugin, and the server keeps serving',
  async (t) => {
    const server = await bootFromYaml(t, `plugins:\n  - module: ${fixture('throwing.ts')}\n`);
    const res = await server.request('POST', CHECK, { body: { userId: '@a:plugins.test', request: {} } });
    t.equal(res.status, 403);
    t.equal(res.body.errcode, 'M_FORBIDDEN');
    const logged = server.logs.find(
      (l) => l['plugin'] === 'throwing' && l['callback'] === 'userMayCreateRoom',
    );
    t.match(logged?.['msg'], /plugin throwing\.userMayCreateRoom failed \(spam checker exploded\); refusing/);
    const login = await server.request('POST', '/_matrix/client/v3/x.plugin_probe/login', {
      body: { type: 'm.login.password', user: '@a:plugins.test', password: 'x' },
    });
    t.equal(login.status, 403, 'a throwing password provider fails the login');
    const health = await server.request('GET', '/health');
    t.equal(health.status, 200);
  },
);

void t.test('a hanging callback is timed out, refused, and the server keeps serving meanwhile', async (t) => {
  // The registries' 5 s limit, shortened for this test (the limit is applied the same way whatever it is).
  const limitMs = 400;
  overrideCallbackTimeoutForTests(limitMs);
  t.teardown(() => overrideCallbackTimeoutForTests(undefined));
  const server = await bootFromYaml(t, `plugins:\n  - module: ${fixture('hanging.ts')}\n`);
  const started = Date.now();
  const pending = server.request('POST', CHECK, { body: { userId: '@a:plugins.test', request: {} } });
  const health = await server.request('GET', '/health');
  t.equal(health.status, 200, 'other requests are served while the callback hangs');
  const res = await pending;
  t.equal(res.status, 403);
  t.equal(res.body.errcode, 'M_FORBIDDEN');
  t.ok(Date.now() - started >= limitMs - 10, 'refused after the time limit');
  t.ok(
    server.logs.some(
      (l) => l['plugin'] === 'hanging' && String(l['msg']).includes(`timed out after ${limitMs} ms`),
    ),
  );
});

void t.test(
  'plugin callbacks run in order over HTTP: NOT_SPAM falls through, the first refusal wins',
  async (t) => {
    calls.length = 0;
    const server = await bootFromYaml(
      t,
      `plugins:
  - module: ${fixture('fixed-verdict.ts')}
    config: { label: first }
  - module: ${fixture('fixed-verdict.ts')}
    config: { label: second, errcode: M_LIMIT_EXCEEDED }
  - module: ${fixture('fixed-verdict.ts')}
    config: { label: third, errcode: M_UNKNOWN }`,
    );
    const res = await server.request('POST', CHECK, { body: { userId: '@a:plugins.test', request: {} } });
    t.equal(res.status, 403);
    t.same(res.body, { errcode: 'M_LIMIT_EXCEEDED', error: 'refused by second' });
    t.same(calls, ['first', 'second'], 'the third plugin was not asked');
  },
);
