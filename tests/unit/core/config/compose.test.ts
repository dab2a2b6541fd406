import t, { type Test } from 'tap';
import { parseConfigText } from '../../../../core/config/load.js';
import { validateConfig } from '../../../../core/config/compose.js';
import { BootError } from '../../../../core/errors.js';
import { builtinModules } from '../../../../modules/index.js';
import { echoModule } from '../../../helpers/test-modules.js';

const modules = [...builtinModules, echoModule];
const validate = (yaml: string) => validateConfig(parseConfigText(yaml, 'homeserver.yaml'), modules);

function bootError(t: Test, fn: () => unknown): BootError {
  try {
    fn();
  } catch (err) {
    t.type(err, BootError);
    return err as BootError;
  }
  t.fail('expected a BootError');
  throw new Error('unreachable');
}

void t.test('defaults are applied', async (t) => {
  const config = validate('server_name: example.org\n');
  t.equal(config.kernel.server_name, 'example.org');
  t.equal(config.kernel.database.name, 'sqlite3');
  t.same(config.kernel.listeners[0]?.bind_addresses, ['::', '0.0.0.0']);
  t.equal(config.kernel.listeners[0]?.port, 8008);
  t.equal(config.moduleConfigs.get('echo')?.['echo_prefix'], 'echo:');
  t.same(config.warnings, []);
});

void t.test('an invalid value names the key, the file and the line', async (t) => {
  const err = bootError(t, () => validate('server_name: example.org\nlisteners:\n  - port: "eighty"\n'));
  t.equal(err.code, 'AXON_ERR_CONFIG_INVALID');
  t.match(err.message, /listeners\[0\]\.port must be integer \(homeserver\.yaml:3\)/);
});

void t.test('all errors are reported at once', async (t) => {
  const err = bootError(t, () =>
    validate('listeners:\n  - port: 99999\ndatabase:\n  name: mysql\nlog_level: loud\n'),
  );
  t.ok(err.problems.length >= 4, `problems: ${err.problems.join(' | ')}`);
  t.match(err.message, /server_name is required/);
  t.match(err.message, /listeners\[0\]\.port .*homeserver\.yaml:2/);
  t.match(err.message, /database\.name .*homeserver\.yaml:4/);
  t.match(err.message, /log_level .*homeserver\.yaml:5/);
});

void t.test('module config is validated with its line too', async (t) => {
  const err = bootError(t, () => validate('server_name: a\n\necho_prefix: 42\n'));
  t.match(err.message, /echo_prefix must be string \(homeserver\.yaml:3\)/);
});

void t.test('unknown keys warn, never refuse (a Synapse config still boots)', async (t) => {
  const config = validate('server_name: a\nreport_stats: false\nlisteners:\n  - port: 8008\n    bogus: 1\n');
  t.equal(config.warnings.length, 2);
  t.match(config.warnings[0], /"report_stats" \(homeserver\.yaml:2\)/);
  t.match(config.warnings[1], /"listeners\[0\]\.bogus" \(homeserver\.yaml:5\)/);
});

void t.test("psycopg2 is accepted as Synapse's name for PostgreSQL", async (t) => {
  const config = validate(
    'server_name: a\ndatabase:\n  name: psycopg2\n  args: {user: synapse, dbname: synapse}\n',
  );
  t.equal(config.kernel.database.name, 'psycopg2');
});

void t.test('a Synapse-style module list points to plugins:', async (t) => {
  const err = bootError(t, () => validate('server_name: a\nmodules:\n  - module: my_module.Checker\n'));
  t.match(err.message, /declare plugins under "plugins:"/);
  t.match(err.message, /homeserver\.yaml:2/);
});

void t.test('an unknown module name is refused with the known ones listed', async (t) => {
  const err = bootError(t, () => validate('server_name: a\nmodules:\n  presense: true\n'));
  t.equal(err.code, 'AXON_ERR_MODULE_UNKNOWN');
  t.match(err.message, /"presense".*known: /);
});

void t.test('modules can be switched off', async (t) => {
  const config = validate('server_name: a\nmodules:\n  echo: false\n');
  t.notOk(config.enabledModules.some((m) => m.name === 'echo'));
  t.ok(config.enabledModules.some((m) => m.name === 'discovery'));
});

void t.test('YAML syntax errors name the line', async (t) => {
  const err = bootError(t, () => validate('server_name: a\nlisteners: [\n'));
  t.match(err.message, /homeserver\.yaml:\d+/);
});
