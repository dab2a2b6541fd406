/**
 * Synapse's configuration as Axon reads it: the config `generate` writes (docs/sample_config.yaml's keys)
 * and its log config load; every top-level key of Synapse's configuration manual is either read by a
 * schema or listed, with its reason, in the README's "Synapse keys Axon does not read"; and a config
 * holding every one of those boots with one warning per key. The unknown keys are printed as a report.
 */
import { readFile } from 'node:fs/promises';
import t from 'tap';
import { validateConfig } from '../../../core/config/compose.js';
import { inlineConfig, parseConfigText } from '../../../core/config/load.js';
import { KernelConfigSchema } from '../../../core/config/schema.js';
import { parseLogConfig } from '../../../core/logging/log-config.js';
import { builtinModules } from '../../../modules/index.js';
import { PROJECT_ROOT } from '../../helpers/cli.js';

async function synapseKeys(): Promise<string[]> {
  const text = await readFile(new URL('./synapse-config-keys.txt', import.meta.url), 'utf8');
  return text.split('\n').filter((l) => l !== '' && !l.startsWith('#'));
}

function axonKeys(): Set<string> {
  const keys = new Set(Object.keys(KernelConfigSchema.properties));
  for (const m of builtinModules) for (const k of Object.keys(m.config?.properties ?? {})) keys.add(k);
  return keys;
}

/** The backticked keys of the README's table of Synapse keys Axon does not read. */
async function documentedAbsent(): Promise<Set<string>> {
  const readme = await readFile(`${PROJECT_ROOT}README.md`, 'utf8');
  const start = readme.indexOf('### Synapse keys Axon does not read');
  const section = readme.slice(start, readme.indexOf('\n## ', start));
  const keys = new Set<string>();
  for (const row of section.split('\n').filter((l) => l.startsWith('| `'))) {
    const cell = row.split(' | ')[0] ?? '';
    for (const m of cell.matchAll(/`([a-z0-9_]+)`/g)) if (m[1]) keys.add(m[1]);
  }
  return keys;
}

void t.test(
  'every key of Synapse’s manual is read by Axon or listed in the README with its reason',
  async (t) => {
    const known = axonKeys();
    const keys = await synapseKeys();
    t.equal(keys.length, 226, 'the manual’s key list');
    const unknown = keys.filter((k) => !known.has(k));
    t.comment(`Synapse keys Axon reads: ${keys.length - unknown.length} of ${keys.length}`);
    const readme = await readFile(`${PROJECT_ROOT}README.md`, 'utf8');
    t.match(
      readme,
      `Axon reads ${keys.length - unknown.length} of the ${keys.length} top-level keys`,
      'README count',
    );
    t.comment(`not read (${unknown.length}): ${unknown.join(' ')}`);
    const documented = await documentedAbsent();
    t.same(
      unknown.filter((k) => !documented.has(k)),
      [],
      'keys Axon does not read, missing from the README table',
    );
    t.same(
      [...documented].filter((k) => known.has(k) || !keys.includes(k)),
      [],
      'README lists keys Axon does read (or Synapse lacks)',
    );
  },
);

void t.test(
  'a config with every Synapse key boots with one warning per key Axon does not read',
  async (t) => {
    const known = axonKeys();
    const unknown = (await synapseKeys()).filter((k) => !known.has(k));
    const data: Record<string, unknown> = { server_name: 'example.org' };
    for (const key of unknown) data[key] = null;
    const config = validateConfig(inlineConfig(data), builtinModules);
    t.equal(config.warnings.length, unknown.length);
    for (const key of unknown) {
      t.ok(
        config.warnings.some((w) => w.startsWith(`unknown config key "${key}" `)),
        `warned about ${key}`,
      );
    }
  },
);

void t.test('the config and log config Synapse generates load as they are', async (t) => {
  // The keys and shapes of Synapse's docs/sample_config.yaml, with this test's own values.
  const yaml = `server_name: "example.org"
pid_file: /var/lib/axon/homeserver.pid
listeners:
  - bind_addresses: ['::1', '127.0.0.1']
    port: 8008
    resources:
      - compress: false
        names: [client, federation]
    tls: false
    type: http
    x_forwarded: true
database:
  name: sqlite3
  args:
    database: /var/lib/axon/homeserver.db
log_config: "/etc/axon/example.org.log.config"
media_store_path: /var/lib/axon/media_store
signing_key_path: "/etc/axon/example.org.signing.key"
trusted_key_servers:
  - server_name: "matrix.org"
`;
  const config = validateConfig(parseConfigText(yaml, 'homeserver.yaml'), builtinModules);
  t.same(config.warnings, [], 'no key unknown, no value refused');

  // The log config Synapse generates beside it (synapse/config/logger.py's default), shapes and values.
  const logYaml = `version: 1
formatters:
  precise:
    format: '%(asctime)s - %(name)s - %(lineno)d - %(levelname)s - %(request)s - %(message)s'
handlers:
  file:
    class: logging.handlers.TimedRotatingFileHandler
    formatter: precise
    filename: /var/log/axon/homeserver.log
    when: midnight
    backupCount: 3
    encoding: utf8
  buffer:
    class: synapse.logging.handlers.PeriodicallyFlushingMemoryHandler
    target: file
    capacity: 10
    flushLevel: 30
    period: 5
  console:
    class: logging.StreamHandler
    formatter: precise
loggers:
  synapse.storage.SQL:
    level: INFO
root:
  level: INFO
  handlers: [buffer]
disable_existing_loggers: false
`;
  const plan = parseLogConfig(parseConfigText(logYaml, '/etc/axon/example.org.log.config'));
  t.same([...plan.handlers.keys()], ['file', 'buffer', 'console']);
  t.same(plan.root, { level: 30, handlers: ['buffer'] });
  t.same(plan.loggers.get('axon.storage.SQL'), { level: 30, handlers: [], propagate: true });
});
