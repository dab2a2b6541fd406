/**
 * `axon backup`: an online SQLite copy taken by the real CLI while the server runs and writes, which opens
 * and holds the data; the pg_dump command for PostgreSQL; refusals. And a downgrade: a database migrated
 * by a newer Axon stops boot with one line saying so, instead of knex's "migration directory is corrupt".
 */
import { existsSync } from 'node:fs';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import knexFactory from 'knex';
import t, { type Test } from 'tap';
import { BootError } from '../../../core/errors.js';
import { Kernel } from '../../../core/kernel.js';
import { createLogger } from '../../../core/logger.js';
import { builtinModules } from '../../../modules/index.js';
import { runCli } from '../../helpers/cli.js';
import { makeUser, openRegistrationConfig } from '../../helpers/fixtures.js';
import { startServer } from '../../helpers/start-server.js';

async function tempDir(t: Test): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), 'axon-backup-'));
  t.teardown(() => rm(dir, { recursive: true, force: true }));
  return dir;
}

async function writeConfig(dir: string, database: string): Promise<string> {
  const path = join(dir, 'homeserver.yaml');
  await writeFile(
    path,
    [
      'server_name: test.local',
      'database:',
      database,
      'signing_key_path: ./signing.key',
      'media_store_path: ./media',
      '',
    ].join('\n'),
  );
  return path;
}

void t.test(
  'an online SQLite backup while the server runs and writes: the copy opens and holds the data',
  async (t) => {
    const dir = await tempDir(t);
    const database = join(dir, 'homeserver.db');
    const server = await startServer(t, {
      database: { name: 'sqlite3', args: { database } },
      config: openRegistrationConfig,
    });
    const configPath = await writeConfig(dir, `  name: sqlite3\n  args: { database: ${database} }`);
    const alice = await makeUser(server, { localpart: 'alice' });
    const room = await server.request('POST', '/_matrix/client/v3/createRoom', {
      token: alice.accessToken,
      body: {},
    });
    const roomId = room.body.room_id as string;
    const send = (i: number) =>
      server.request('PUT', `/_matrix/client/v3/rooms/${roomId}/send/m.room.message/t${i}`, {
        token: alice.accessToken,
        body: { msgtype: 'm.text', body: `message ${i}` },
      });
    for (let i = 0; i < 20; i++) t.equal((await send(i)).status, 200);

    // The server keeps writing while the CLI copies.
    let writing = true;
    let sent = 20;
    let failed = 0;
    const writer = (async () => {
      while (writing) if ((await send(sent++)).status !== 200) failed++;
    })();
    const backupPath = join(dir, 'backups', 'axon.db');
    const result = await runCli(['backup', '-c', configPath, '--to', backupPath]);
    writing = false;
    await writer;
    t.equal(result.code, 0, result.stderr);
    t.match(
      result.stdout,
      /^backed up .*homeserver\.db to .*axon\.db \(\d+ bytes\)\. Also back up the signing key .*signing\.key, the media store .*media\//,
    );
    t.ok(sent > 20, 'messages were sent during the backup');
    t.equal(failed, 0, 'and every one succeeded');

    const copy = knexFactory({
      client: 'sqlite3',
      connection: { filename: backupPath },
      useNullAsDefault: true,
    });
    t.teardown(() => copy.destroy());
    t.same(await copy.raw('PRAGMA integrity_check'), [{ integrity_check: 'ok' }]);
    t.same(await copy('auth_users').pluck('user_id'), [alice.userId]);
    const bodies = (
      await copy('rooms_events').where({ room_id: roomId, type: 'm.room.message' }).pluck('json')
    ).map((c: string) => (JSON.parse(c) as { content: { body: string } }).content.body);
    for (let i = 0; i < 20; i++)
      t.ok(bodies.includes(`message ${i}`), `message ${i}, sent before the backup, is in it`);
    t.ok(bodies.length <= sent, 'a consistent snapshot of what was sent');
    t.notOk(existsSync(`${backupPath}.partial`), 'no partial file left');

    const again = await runCli(['backup', '-c', configPath, '--to', backupPath]);
    t.equal(again.code, 1);
    t.match(again.stderr, /axon backup: .*axon\.db exists already; not overwriting it/);
  },
);

void t.test('PostgreSQL: the pg_dump and pg_restore commands are printed, nothing is written', async (t) => {
  const dir = await tempDir(t);
  const configPath = await writeConfig(
    dir,
    '  name: psycopg2\n  args: { user: synapse, password: secret, database: synapse, host: db.internal, port: 5433, schema: axon }',
  );
  const result = await runCli(['backup', '-c', configPath, '--to', join(dir, 'axon.dump')]);
  t.equal(result.code, 2, 'no backup was made');
  t.match(
    result.stdout,
    `pg_dump --format=custom --host=db.internal --port=5433 --username=synapse --schema=axon --file=${join(dir, 'axon.dump')} synapse`,
  );
  t.match(
    result.stdout,
    `pg_restore --exit-on-error --host=db.internal --port=5433 --username=synapse --dbname=synapse ${join(dir, 'axon.dump')}`,
  );
  t.notMatch(result.stdout, 'secret', 'the password is not printed');
  t.notOk(existsSync(join(dir, 'axon.dump')));

  const missing = await runCli(['backup', '-c', configPath]);
  t.equal(missing.code, 1);
  t.match(missing.stderr, 'backup needs -c FILE and --to FILE');
});

void t.test('a database migrated by a newer Axon stops boot with one line saying so', async (t) => {
  const dir = await tempDir(t);
  const config = {
    server_name: 'test.local',
    listeners: [],
    database: { name: 'sqlite3', args: { database: join(dir, 'homeserver.db') } },
    signing_key_path: join(dir, 'signing.key'),
    media_store_path: join(dir, 'media'),
  };
  const logger = createLogger('silent');
  const first = await Kernel.boot({ config, configDir: dir, modules: builtinModules, logger, listen: false });
  await first
    .db('knex_migrations_rooms')
    .insert({ name: '29990101000000_from_the_future', batch: 99, migration_time: new Date() });
  await first.stop(0);
  const err = await Kernel.boot({
    config,
    configDir: dir,
    modules: builtinModules,
    logger,
    listen: false,
  }).catch((e: unknown) => e);
  t.type(err, BootError);
  t.match(err, {
    code: 'AXON_ERR_DATABASE_NEWER',
    message:
      'the database was migrated by a newer Axon: module rooms has migrations this version does not know (29990101000000_from_the_future). Run the newer version again, or restore the backup taken before the upgrade',
  });
});
