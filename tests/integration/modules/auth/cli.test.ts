import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import t from 'tap';
import { stringify } from 'yaml';
import { PasswordHasher } from '../../../../modules/auth/services/password-hasher.js';
import { runCli } from '../../../helpers/cli.js';
import { startServer } from '../../../helpers/start-server.js';
import { adminRegistrationConfig, TEST_SHARED_SECRET } from '../../../helpers/fixtures.js';

/** The compiled `axon` CLI (built once per test process), with `stdin` as its standard input. */
function axon(
  args: string[],
  stdin?: string,
): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return runCli(args, { input: stdin ?? '' });
}

void t.test('axon register-user creates users on a running server', async (t) => {
  const server = await startServer(t, { config: { ...adminRegistrationConfig } });
  const port = Number(new URL(server.baseUrl).port);
  const configPath = join(server.dataDir, 'homeserver.yaml');
  await writeFile(
    configPath,
    stringify({
      server_name: server.serverName,
      registration_shared_secret: TEST_SHARED_SECRET,
      listeners: [
        { port: 1, bind_addresses: ['127.0.0.1'], resources: [{ names: ['federation'] }] },
        { port, bind_addresses: ['127.0.0.1'], resources: [{ names: ['client'] }] },
      ],
    }),
  );

  await t.test('with flags: an admin', async (t) => {
    const r = await axon(['register-user', '-c', configPath, '-u', 'Admin1', '-p', 'pw-admin', '-a']);
    t.equal(r.code, 0, `exit code (stderr: ${r.stderr.trim()})`);
    t.match(r.stdout, 'Success! Registered @admin1:test.local (admin)');
    t.equal(await server.kernel.container.cradle.authApi.isServerAdmin('@admin1:test.local'), true);
    const login = await server.request('POST', '/_matrix/client/v3/login', {
      body: { type: 'm.login.password', user: 'admin1', password: 'pw-admin' },
    });
    t.equal(login.status, 200);
  });

  await t.test('interactive answers from stdin, --url override: not an admin', async (t) => {
    const r = await axon(
      ['register-user', '-c', configPath, '--url', server.baseUrl, '-u', 'plain'],
      'pw-plain\nno\n',
    );
    t.equal(r.code, 0, `exit code (stderr: ${r.stderr.trim()})`);
    t.match(r.stderr, 'Make admin [no]');
    t.equal(await server.kernel.container.cradle.authApi.isServerAdmin('@plain:test.local'), false);
    t.equal(await server.kernel.container.cradle.authApi.userExists('@plain:test.local'), true);
  });

  await t.test('a taken name fails with the server error', async (t) => {
    const r = await axon(['register-user', '-c', configPath, '-u', 'plain', '-p', 'x', '--no-admin']);
    t.equal(r.code, 1);
    t.match(r.stderr, 'M_USER_IN_USE');
  });
});

void t.test('axon hash-password prints an Argon2id hash of the password on stdin', async (t) => {
  const r = await axon(['hash-password'], 'correct horse\n');
  t.equal(r.code, 0, `exit code (stderr: ${r.stderr.trim()})`);
  const hash = r.stdout.trim();
  t.match(hash, /^\$argon2id\$v=19\$/);
  t.equal(await new PasswordHasher().verify('correct horse', hash), true);
});
