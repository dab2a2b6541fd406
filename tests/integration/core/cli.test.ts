import t from 'tap';
import { existsSync } from 'node:fs';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parse } from 'yaml';
import { runCli, spawnCli, waitForOutput } from '../../helpers/cli.js';

async function freePort(): Promise<number> {
  return new Promise((resolve) => {
    const srv = createServer();
    srv.listen(0, '127.0.0.1', () => {
      const port = (srv.address() as { port: number }).port;
      srv.close(() => resolve(port));
    });
  });
}

void t.test('generate-config writes a complete config that starts and stops gracefully', async (t) => {
  const dir = await mkdtemp(join(tmpdir(), 'axon-cli-'));
  t.teardown(() => rm(dir, { recursive: true, force: true }));
  const configPath = join(dir, 'homeserver.yaml');
  const port = await freePort();

  const gen = await runCli([
    'generate-config',
    '--server-name',
    'cli.example',
    '--config-path',
    configPath,
    '--port',
    String(port),
  ]);
  t.equal(gen.code, 0, gen.stderr);
  const config = parse(await readFile(configPath, 'utf8')) as Record<string, unknown>;
  t.equal(config['server_name'], 'cli.example');
  t.equal(typeof config['registration_shared_secret'], 'string');
  t.match(config['database'], { name: 'sqlite3' });

  const again = await runCli(['generate-config', '--server-name', 'x', '--config-path', configPath]);
  t.equal(again.code, 1, 'never overwrites an existing config');

  const server = await spawnCli(['start', '-c', configPath]);
  t.teardown(() => server.kill('SIGKILL'));
  await waitForOutput(server, /Axon is running/);
  const res = await fetch(`http://127.0.0.1:${port}/_matrix/client/versions`);
  t.equal(res.status, 200);
  t.ok(existsSync(join(dir, 'homeserver.pid')), 'pid file written');
  t.ok(existsSync(join(dir, 'cli.example.signing.key')), 'signing key created');

  const exited = new Promise<number | null>((resolve) => server.on('close', resolve));
  server.kill('SIGTERM');
  t.equal(await exited, 0, 'SIGTERM stops cleanly');
  t.notOk(existsSync(join(dir, 'homeserver.pid')), 'pid file removed');
});

void t.test('generate-config with --database-url writes a PostgreSQL database section', async (t) => {
  const dir = await mkdtemp(join(tmpdir(), 'axon-cli-'));
  t.teardown(() => rm(dir, { recursive: true, force: true }));
  const configPath = join(dir, 'homeserver.yaml');
  const gen = await runCli([
    'generate-config',
    '--server-name',
    'pg.example',
    '--config-path',
    configPath,
    '--database-url',
    'postgres://axon:s3cret@db.internal:5433/axon',
  ]);
  t.equal(gen.code, 0, gen.stderr);
  const config = parse(await readFile(configPath, 'utf8')) as Record<string, unknown>;
  t.same(config['database'], {
    name: 'pg',
    args: { database: 'axon', user: 'axon', password: 's3cret', host: 'db.internal', port: 5433 },
  });
});

const port8008Busy = await fetch('http://127.0.0.1:8008/health').then(
  () => 'port 8008 is in use on this machine',
  () => false as const,
);

void t.test(
  'start without -c generates a development config under ./data and serves on 8008',
  { skip: port8008Busy },
  async (t) => {
    const cwd = await mkdtemp(join(tmpdir(), 'axon-dev-'));
    t.teardown(() => rm(cwd, { recursive: true, force: true }));
    const server = await spawnCli(['start'], { cwd });
    t.teardown(() => server.kill('SIGKILL'));
    const out = await waitForOutput(server, /Axon is running/);
    t.match(out, /generated a development config for "localhost"/);
    t.ok(existsSync(join(cwd, 'data', 'homeserver.yaml')));
    const res = await fetch('http://127.0.0.1:8008/_matrix/client/versions');
    t.equal(res.status, 200);
    const exited = new Promise((resolve) => server.on('close', resolve));
    server.kill('SIGINT');
    await exited;
  },
);

void t.test('a boot failure prints its code and message and exits 1', async (t) => {
  const dir = await mkdtemp(join(tmpdir(), 'axon-cli-'));
  t.teardown(() => rm(dir, { recursive: true, force: true }));
  const { writeFile } = await import('node:fs/promises');
  const configPath = join(dir, 'homeserver.yaml');
  await writeFile(configPath, 'server_name: x\nlisteners:\n  - port: not-a-port\n');
  const res = await runCli(['start', '-c', configPath]);
  t.equal(res.code, 1);
  t.match(res.stderr, /AXON_ERR_CONFIG_INVALID/);
  t.match(res.stderr, /listeners\[0\]\.port must be integer \(.*homeserver\.yaml:3\)/);
});
