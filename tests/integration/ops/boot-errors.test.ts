/**
 * Boot errors an operator meets, each as one line naming what, which key and what to do: a port in use
 * (checked before the database is created or migrated), a PostgreSQL that refuses or lacks the database,
 * an enum value outside its list, an unknown key near a known one.
 */
import { existsSync } from 'node:fs';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { createServer, type Server } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import t, { type Test } from 'tap';
import { validateConfig } from '../../../core/config/compose.js';
import { inlineConfig } from '../../../core/config/load.js';
import { BootError } from '../../../core/errors.js';
import { Kernel } from '../../../core/kernel.js';
import { createLogger } from '../../../core/logger.js';
import { builtinModules } from '../../../modules/index.js';
import { runCli } from '../../helpers/cli.js';

async function dataDir(t: Test): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), 'axon-boot-errors-'));
  t.teardown(() => rm(dir, { recursive: true, force: true }));
  return dir;
}

function baseConfig(dir: string, overrides: Record<string, unknown> = {}): Record<string, unknown> {
  return {
    server_name: 'boot.test',
    listeners: [{ port: 0, bind_addresses: ['127.0.0.1'], resources: [{ names: ['client'] }] }],
    database: { name: 'sqlite3', args: { database: join(dir, 'homeserver.db') } },
    signing_key_path: join(dir, 'signing.key'),
    media_store_path: join(dir, 'media'),
    log_level: 'silent',
    ...overrides,
  };
}

async function bootError(config: Record<string, unknown>, dir: string): Promise<BootError> {
  try {
    const kernel = await Kernel.boot({
      config,
      configDir: dir,
      modules: builtinModules,
      logger: createLogger('silent'),
    });
    await kernel.stop(0);
  } catch (err) {
    if (err instanceof BootError) return err;
    throw err;
  }
  throw new Error('boot succeeded');
}

async function occupiedPort(t: Test): Promise<number> {
  const server: Server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  t.teardown(() => new Promise<void>((resolve) => server.close(() => resolve())));
  return (server.address() as { port: number }).port;
}

void t.test('a port in use is one line, before the database is created or migrated', async (t) => {
  const dir = await dataDir(t);
  const port = await occupiedPort(t);
  const listeners = [
    { port: 0, bind_addresses: ['127.0.0.1'], resources: [{ names: ['client'] }] },
    { port, bind_addresses: ['127.0.0.1'], resources: [{ names: ['client'] }] },
  ];
  const err = await bootError(baseConfig(dir, { listeners }), dir);
  t.equal(err.code, 'AXON_ERR_PORT_IN_USE');
  t.equal(
    err.message,
    `listeners[1].port: 127.0.0.1:${port} is already in use by another process (another Axon or Synapse?): stop it, or set another port in listeners[1].port`,
  );
  t.notOk(existsSync(join(dir, 'homeserver.db')), 'no database was created');
  t.notOk(existsSync(join(dir, 'signing.key')), 'no signing key was written');
});

void t.test('the CLI prints the port error as one line and exits 1', async (t) => {
  const dir = await dataDir(t);
  const port = await occupiedPort(t);
  const configPath = join(dir, 'homeserver.yaml');
  await writeFile(
    configPath,
    [
      'server_name: boot.test',
      'listeners:',
      `  - port: ${port}`,
      '    bind_addresses: ["127.0.0.1"]',
      'database: { name: sqlite3, args: { database: ./homeserver.db } }',
      'log_level: warn',
      '',
    ].join('\n'),
  );
  const res = await runCli(['start', '-c', configPath]);
  t.equal(res.code, 1);
  t.equal(
    res.stderr.trim(),
    `Axon could not start [AXON_ERR_PORT_IN_USE]: listeners[0].port: 127.0.0.1:${port} is already in use by another process (another Axon or Synapse?): stop it, or set another port in listeners[0].port`,
  );
});

void t.test('a PostgreSQL that refuses the connection names database.args.host/port', async (t) => {
  const dir = await dataDir(t);
  const err = await bootError(
    baseConfig(dir, { database: { name: 'pg', args: { host: '127.0.0.1', port: 1, database: 'x' } } }),
    dir,
  );
  t.equal(err.code, 'AXON_ERR_DATABASE');
  t.equal(
    err.message,
    'database.args.host/port: PostgreSQL at 127.0.0.1:1 refused the connection: start PostgreSQL, or fix database.args.host and database.args.port',
  );
});

void t.test('the CLI prints a refused PostgreSQL as one line, no knex stack trace', async (t) => {
  const dir = await dataDir(t);
  const configPath = join(dir, 'homeserver.yaml');
  await writeFile(
    configPath,
    [
      'server_name: boot.test',
      'listeners: [{ port: 0, bind_addresses: ["127.0.0.1"] }]',
      'database: { name: psycopg2, args: { host: 127.0.0.1, port: 1, database: synapse } }',
      'log_level: warn',
      '',
    ].join('\n'),
  );
  const res = await runCli(['start', '-c', configPath]);
  t.equal(res.code, 1);
  t.equal(
    res.stderr.trim(),
    'Axon could not start [AXON_ERR_DATABASE]: database.args.host/port: PostgreSQL at 127.0.0.1:1 refused the connection: start PostgreSQL, or fix database.args.host and database.args.port',
  );
});

const pgUp = await fetch('http://127.0.0.1:5432')
  .then(() => true)
  .catch((err: { cause?: { code?: string } }) => err.cause?.code !== 'ECONNREFUSED');

void t.test(
  'a PostgreSQL without the database says how to create it',
  { skip: !pgUp && 'no PostgreSQL at 127.0.0.1:5432' },
  async (t) => {
    const dir = await dataDir(t);
    const err = await bootError(
      baseConfig(dir, {
        database: {
          name: 'pg',
          args: { host: '127.0.0.1', port: 5432, user: 'postgres', database: 'axon_no_such_database' },
        },
      }),
      dir,
    );
    t.equal(err.code, 'AXON_ERR_DATABASE');
    t.equal(
      err.message,
      'database.args.database: PostgreSQL at 127.0.0.1:5432 has no database "axon_no_such_database": create it (createdb --encoding=UTF8 --locale=C --template=template0 --owner=postgres axon_no_such_database), or fix database.args.database',
    );
  },
);

void t.test('an enum error lists the allowed values once', async (t) => {
  t.throws(() => validateConfig(inlineConfig({ server_name: 'x', log_level: 'verbose' }), builtinModules), {
    code: 'AXON_ERR_CONFIG_INVALID',
    problems: [
      'log_level must be one of "fatal", "error", "warn", "info", "debug", "trace", "silent", not "verbose" (<inline>)',
    ],
  });
});

void t.test('an unknown key near a known one says "did you mean"', async (t) => {
  const { warnings } = validateConfig(
    inlineConfig({
      server_name: 'x',
      enable_registraton: true,
      listeners: [{ port: 8008, bind_adresses: ['127.0.0.1'] }],
      completely_unrelated_key: 1,
    }),
    builtinModules,
  );
  t.same(warnings, [
    'unknown config key "enable_registraton" (<inline>) is ignored; did you mean "enable_registration"?',
    'unknown config key "listeners[0].bind_adresses" (<inline>) is ignored; did you mean "listeners[0].bind_addresses"?',
    'unknown config key "completely_unrelated_key" (<inline>) is ignored',
  ]);
});

void t.test('kernel-key and module-key errors come in one pass', async (t) => {
  t.throws(
    () =>
      validateConfig(
        inlineConfig({ server_name: 'x', log_level: 'verbose', url_preview_enabled: 'yes', modules: {} }),
        builtinModules,
      ),
    {
      code: 'AXON_ERR_CONFIG_INVALID',
      problems: [
        'log_level must be one of "fatal", "error", "warn", "info", "debug", "trace", "silent", not "verbose" (<inline>)',
        'url_preview_enabled must be boolean (<inline>)',
      ],
    },
  );
});
