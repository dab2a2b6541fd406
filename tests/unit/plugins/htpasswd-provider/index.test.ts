import { mkdtemp, rm, writeFile, rename } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import bcrypt from 'bcryptjs';
import sodium from 'sodium-native';
import t, { type Test } from 'tap';
import htpasswd from '../../../../plugins/htpasswd-provider/index.js';
import { hashKind, parseUsersFile } from '../../../../plugins/htpasswd-provider/users-file.js';
import { FAKE_SERVER, registerWithFakeApi } from '../../../helpers/plugin-fixtures/fake-plugin-api.js';

/**
 * An Argon2id hash in the format `axon hash-password` writes (libsodium crypto_pwhash_str), at the minimum
 * cost: a verification reads the cost from the hash, and the last test checks a real `hash-password` hash.
 */
function argon2id(password: string): string {
  const out = Buffer.alloc(sodium.crypto_pwhash_STRBYTES);
  sodium.crypto_pwhash_str(
    out,
    Buffer.from(password),
    sodium.crypto_pwhash_OPSLIMIT_MIN,
    sodium.crypto_pwhash_MEMLIMIT_MIN,
  );
  return out.toString('utf8').replace(/\0+$/, '');
}

const ALICE_HASH = argon2id('wonderland');
const BOB_HASH = bcrypt.hashSync('builder', 4);
const CAROL_HASH = bcrypt.hashSync('php', 4).replace(/^\$2b\$/, '$2y$');

async function usersFile(t: Test, text: string): Promise<{ dir: string; path: string }> {
  const dir = await mkdtemp(join(tmpdir(), 'axon-htpasswd-'));
  t.teardown(() => rm(dir, { recursive: true, force: true }));
  await writeFile(join(dir, 'users.htpasswd'), text);
  return { dir, path: join(dir, 'users.htpasswd') };
}

const login = (localpart: string, password: string) => ({
  user: `@${localpart}:${FAKE_SERVER}`,
  loginType: 'm.login.password',
  fields: { password },
});

void t.test('Argon2id (as axon hash-password writes) and bcrypt $2b$/$2y$ hashes log in', async (t) => {
  const { dir } = await usersFile(
    t,
    `# users\nalice:${ALICE_HASH}\n\n@bob:${FAKE_SERVER}:${BOB_HASH}\ncarol:${CAROL_HASH}\n`,
  );
  const { passwordProviders } = await registerWithFakeApi(
    htpasswd,
    { file: 'users.htpasswd' },
    { configDir: dir },
  );
  t.same(await passwordProviders.checkAuth(login('alice', 'wonderland')), {
    userId: `@alice:${FAKE_SERVER}`,
  });
  t.same(await passwordProviders.checkAuth(login('bob', 'builder')), { userId: `@bob:${FAKE_SERVER}` });
  t.same(await passwordProviders.checkAuth(login('carol', 'php')), { userId: `@carol:${FAKE_SERVER}` });
});

void t.test('a wrong password, an unknown user or another server is not accepted', async (t) => {
  const { dir } = await usersFile(t, `alice:${ALICE_HASH}\nbob:${BOB_HASH}\n`);
  const { passwordProviders } = await registerWithFakeApi(
    htpasswd,
    { file: 'users.htpasswd' },
    { configDir: dir },
  );
  t.equal(await passwordProviders.checkAuth(login('alice', 'looking-glass')), null);
  t.equal(await passwordProviders.checkAuth(login('bob', 'wonderland')), null);
  t.equal(await passwordProviders.checkAuth(login('dave', 'x')), null);
  t.equal(
    await passwordProviders.checkAuth({
      user: '@alice:elsewhere.org',
      loginType: 'm.login.password',
      fields: { password: 'wonderland' },
    }),
    null,
  );
});

void t.test('the account is created on the first login, once', async (t) => {
  const { dir } = await usersFile(t, `alice:${ALICE_HASH}\n`);
  const { passwordProviders, backends, logs } = await registerWithFakeApi(
    htpasswd,
    { file: 'users.htpasswd' },
    { configDir: dir },
  );
  t.equal(backends.users.has(`@alice:${FAKE_SERVER}`), false);
  await passwordProviders.checkAuth(login('alice', 'wonderland'));
  t.equal(backends.users.has(`@alice:${FAKE_SERVER}`), true);
  await passwordProviders.checkAuth(login('alice', 'wonderland'));
  t.equal(logs.filter((l) => /created the account/.test(String(l['msg']))).length, 1);
});

void t.test('with create_users off, only existing accounts log in', async (t) => {
  const { dir } = await usersFile(t, `alice:${ALICE_HASH}\n`);
  const { passwordProviders, backends } = await registerWithFakeApi(
    htpasswd,
    { file: 'users.htpasswd', create_users: false },
    { configDir: dir },
  );
  t.equal(await passwordProviders.checkAuth(login('alice', 'wonderland')), null);
  backends.users.set(`@alice:${FAKE_SERVER}`, {});
  t.same(await passwordProviders.checkAuth(login('alice', 'wonderland')), {
    userId: `@alice:${FAKE_SERVER}`,
  });
});

void t.test('the file is re-read when it changes', async (t) => {
  const { dir, path } = await usersFile(t, `alice:${ALICE_HASH}\n`);
  const { passwordProviders } = await registerWithFakeApi(
    htpasswd,
    { file: 'users.htpasswd' },
    { configDir: dir },
  );
  t.equal(await passwordProviders.checkAuth(login('bob', 'builder')), null);
  // Replaced atomically, as editors and deploy tools do.
  await writeFile(join(dir, 'next'), `bob:${BOB_HASH}\n`);
  await rename(join(dir, 'next'), path);
  t.same(await passwordProviders.checkAuth(login('bob', 'builder')), { userId: `@bob:${FAKE_SERVER}` });
  t.equal(await passwordProviders.checkAuth(login('alice', 'wonderland')), null, 'alice was removed');
});

void t.test('a file that disappears lets nobody in through it, and comes back when restored', async (t) => {
  const { dir, path } = await usersFile(t, `alice:${ALICE_HASH}\n`);
  const { passwordProviders, logs } = await registerWithFakeApi(
    htpasswd,
    { file: 'users.htpasswd' },
    { configDir: dir },
  );
  await rm(path);
  t.equal(await passwordProviders.checkAuth(login('alice', 'wonderland')), null);
  t.ok(logs.some((l) => l['level'] === 50 && /cannot read/.test(String(l['msg']))));
  await writeFile(path, `alice:${ALICE_HASH}\n`);
  t.same(await passwordProviders.checkAuth(login('alice', 'wonderland')), {
    userId: `@alice:${FAKE_SERVER}`,
  });
});

void t.test('a missing file at boot fails register()', async (t) => {
  const dir = await mkdtemp(join(tmpdir(), 'axon-htpasswd-'));
  t.teardown(() => rm(dir, { recursive: true, force: true }));
  await t.rejects(registerWithFakeApi(htpasswd, { file: 'nope' }, { configDir: dir }), {
    message: /cannot read the users file .*nope/,
  });
});

void t.test('unsupported and malformed lines are skipped with a warning naming the line', async (t) => {
  const parsed = parseUsersFile(
    `alice:{SHA}W6ph5Mm5Pz8GgiULbPgzG37mj9g=\nbob:$apr1$abc$def\njunk\n@carol:other.org:${BOB_HASH}\ndave:${BOB_HASH}\n`,
    FAKE_SERVER,
  );
  t.same([...parsed.users.keys()], ['dave']);
  t.same(parsed.skipped, [
    'line 1: alice has an unsupported hash (use Argon2 or bcrypt)',
    'line 2: bob has an unsupported hash (use Argon2 or bcrypt)',
    'line 3: not a user:hash line',
    'line 4: @carol:other.org is not a user of example.org',
  ]);
});

void t.test('full user ids with a port in the server name parse', async (t) => {
  const parsed = parseUsersFile(`@Eve:example.org:8448:${BOB_HASH}\n`, 'example.org:8448');
  t.same([...parsed.users.keys()], ['eve']);
});

void t.test('hash kinds', async (t) => {
  t.equal(hashKind(ALICE_HASH), 'argon2');
  t.equal(hashKind(BOB_HASH), 'bcrypt');
  t.equal(hashKind(CAROL_HASH), 'bcrypt');
  t.equal(hashKind('plaintext'), undefined);
});

void t.test('a hash printed by `axon hash-password` logs in', async (t) => {
  const { PasswordHasher } = await import('../../../../modules/auth/services/password-hasher.js');
  const hash = await new PasswordHasher().hash('correct horse');
  const { dir } = await usersFile(t, `erin:${hash}\n`);
  const { passwordProviders } = await registerWithFakeApi(
    htpasswd,
    { file: 'users.htpasswd' },
    { configDir: dir },
  );
  t.same(await passwordProviders.checkAuth(login('erin', 'correct horse')), {
    userId: `@erin:${FAKE_SERVER}`,
  });
  t.equal(await passwordProviders.checkAuth(login('erin', 'battery staple')), null);
});
