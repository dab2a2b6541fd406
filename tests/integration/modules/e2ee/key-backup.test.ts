/** Server-side key backups over HTTP on both engines. */
import t from 'tap';
import { withAllDatabases } from '../../../helpers/with-all-databases.js';
import { makeUser, type TestUser } from '../../../helpers/fixtures.js';
import { startE2eeServer } from './e2ee-fixtures.js';

const ALGORITHM = 'm.megolm_backup.v1.curve25519-aes-sha2';
const AUTH_DATA = {
  public_key: 'abcdefg',
  signatures: { '@alice:example.org': { 'ed25519:deviceid': 'signature' } },
};
const ROOM = '!room:example.org';

function session(overrides: Record<string, unknown> = {}) {
  return {
    first_message_index: 1,
    forwarded_count: 0,
    is_verified: false,
    session_data: { ephemeral: 'base64+ephemeral+key', ciphertext: 'base64+ciphertext', mac: 'base64+mac' },
    ...overrides,
  };
}

void withAllDatabases(t, async (t, database) => {
  const server = await startE2eeServer(t, database);
  const call = (user: TestUser, method: string, path: string, body?: unknown) =>
    server.request(method, `/_matrix/client/v3/room_keys/${path}`, {
      token: user.accessToken,
      ...(body !== undefined ? { body } : {}),
    });
  const create = async (user: TestUser) =>
    (await call(user, 'POST', 'version', { algorithm: ALGORITHM, auth_data: AUTH_DATA })).body
      .version as string;

  await t.test('no backup: GET version is 404', async (t) => {
    const user = await makeUser(server);
    const res = await call(user, 'GET', 'version');
    t.same([res.status, res.body.errcode], [404, 'M_NOT_FOUND']);
  });

  await t.test('create, read current and by version, with count and etag', async (t) => {
    const user = await makeUser(server);
    const v1 = await create(user);
    t.equal(v1, '1');
    const v2 = await create(user);
    t.equal(v2, '2', 'versions increase');
    const current = await call(user, 'GET', 'version');
    t.same(current.body, { algorithm: ALGORITHM, auth_data: AUTH_DATA, version: '2', count: 0, etag: '0' });
    const first = await call(user, 'GET', 'version/1');
    t.equal(first.body.version, '1');
    const other = await makeUser(server);
    t.equal((await call(other, 'GET', 'version/1')).status, 404, "another user's backup is invisible");
    t.equal((await call(user, 'GET', 'version/nope')).status, 404);
  });

  await t.test('an unknown algorithm is refused', async (t) => {
    const user = await makeUser(server);
    const res = await call(user, 'POST', 'version', { algorithm: 'org.example.nope', auth_data: {} });
    t.same([res.status, res.body.errcode], [400, 'M_INVALID_PARAM']);
  });

  await t.test('update changes auth_data only; algorithm and version must match', async (t) => {
    const user = await makeUser(server);
    const v = await create(user);
    const newAuth = { public_key: 'hijklmn' };
    const ok = await call(user, 'PUT', `version/${v}`, {
      algorithm: ALGORITHM,
      auth_data: newAuth,
      version: v,
    });
    t.same([ok.status, ok.body], [200, {}]);
    t.same((await call(user, 'GET', `version/${v}`)).body.auth_data, newAuth);
    const wrongAlg = await call(user, 'PUT', `version/${v}`, { algorithm: 'm.other', auth_data: newAuth });
    t.same([wrongAlg.status, wrongAlg.body.errcode], [400, 'M_INVALID_PARAM']);
    const wrongVersion = await call(user, 'PUT', `version/${v}`, {
      algorithm: ALGORITHM,
      auth_data: newAuth,
      version: '9',
    });
    t.same([wrongVersion.status, wrongVersion.body.errcode], [400, 'M_INVALID_PARAM']);
    const unknown = await call(user, 'PUT', 'version/42', { algorithm: ALGORITHM, auth_data: newAuth });
    t.same([unknown.status, unknown.body.errcode], [404, 'M_NOT_FOUND']);
  });

  await t.test(
    'delete removes the version and its keys; a second delete succeeds; unknown is 404',
    async (t) => {
      const user = await makeUser(server);
      const v = await create(user);
      await call(user, 'PUT', `keys/${ROOM}/s1?version=${v}`, session());
      t.same((await call(user, 'DELETE', `version/${v}`)).status, 200);
      t.equal((await call(user, 'GET', 'version')).status, 404, 'no current backup');
      t.equal((await call(user, 'GET', `keys?version=${v}`)).status, 404, 'its keys are gone with it');
      t.equal((await call(user, 'DELETE', `version/${v}`)).status, 200, 'deleting again is fine');
      t.equal((await call(user, 'DELETE', 'version/99')).status, 404);
      t.equal(await create(user), String(Number(v) + 1), 'a deleted version number is not reused');
    },
  );

  await t.test('store and read keys at all three levels', async (t) => {
    const user = await makeUser(server);
    const v = await create(user);
    const one = await call(user, 'PUT', `keys/${ROOM}/s1?version=${v}`, session());
    t.same(one.body, { etag: '1', count: 1 });
    const room = await call(user, 'PUT', `keys/${ROOM}?version=${v}`, { sessions: { s2: session() } });
    t.same(room.body, { etag: '2', count: 2 });
    const all = await call(user, 'PUT', `keys?version=${v}`, {
      rooms: { '!other:example.org': { sessions: { s3: session() } } },
    });
    t.same(all.body, { etag: '3', count: 3 });
    t.same((await call(user, 'GET', `keys/${ROOM}/s1?version=${v}`)).body, session());
    t.same(Object.keys((await call(user, 'GET', `keys/${ROOM}?version=${v}`)).body.sessions).sort(), [
      's1',
      's2',
    ]);
    const everything = (await call(user, 'GET', `keys?version=${v}`)).body;
    t.same(Object.keys(everything.rooms).sort(), ['!other:example.org', ROOM]);
    t.same((await call(user, 'GET', `keys/!empty:example.org?version=${v}`)).body, { sessions: {} });
    const missing = await call(user, 'GET', `keys/${ROOM}/nope?version=${v}`);
    t.same([missing.status, missing.body.errcode], [404, 'M_NOT_FOUND']);
    t.same((await call(user, 'GET', 'version')).body.count, 3);
  });

  await t.test(
    'replacement rules: verified wins, then lower first_message_index, then lower forwarded_count',
    async (t) => {
      const user = await makeUser(server);
      const v = await create(user);
      const put = (s: Record<string, unknown>) => call(user, 'PUT', `keys/${ROOM}/s?version=${v}`, s);
      const get = async () => (await call(user, 'GET', `keys/${ROOM}/s?version=${v}`)).body;
      await put(session({ is_verified: true, first_message_index: 5, forwarded_count: 3 }));
      const kept = await put(session({ is_verified: false, first_message_index: 0, forwarded_count: 0 }));
      t.equal((await get()).is_verified, true, 'an unverified key never replaces a verified one');
      t.equal(kept.body.etag, '1', 'nothing changed, the etag stays');
      await put(session({ is_verified: true, first_message_index: 2, forwarded_count: 9 }));
      t.equal((await get()).first_message_index, 2, 'a lower first_message_index replaces');
      await put(session({ is_verified: true, first_message_index: 3, forwarded_count: 0 }));
      t.equal((await get()).first_message_index, 2, 'a higher one does not');
      await put(session({ is_verified: true, first_message_index: 2, forwarded_count: 1 }));
      t.equal((await get()).forwarded_count, 1, 'at equal index, a lower forwarded_count replaces');
      await put(session({ is_verified: true, first_message_index: 2, forwarded_count: 4 }));
      t.equal((await get()).forwarded_count, 1, 'a higher forwarded_count does not');
      const v2 = await create(user);
      const fresh = await call(user, 'PUT', `keys/${ROOM}/s?version=${v2}`, session({ is_verified: false }));
      t.equal(fresh.body.count, 1, 'a new version starts empty');
    },
  );

  await t.test(
    'writing to an old version is M_WRONG_ROOM_KEYS_VERSION with the current version',
    async (t) => {
      const user = await makeUser(server);
      const old = await create(user);
      const current = await create(user);
      const res = await call(user, 'PUT', `keys/${ROOM}/s?version=${old}`, session());
      t.same(
        [res.status, res.body.errcode, res.body.current_version],
        [403, 'M_WRONG_ROOM_KEYS_VERSION', current],
      );
      const unknown = await call(user, 'PUT', `keys/${ROOM}/s?version=77`, session());
      t.same([unknown.status, unknown.body.errcode], [404, 'M_NOT_FOUND']);
      const noVersion = await call(user, 'PUT', `keys/${ROOM}/s`, session());
      t.same([noVersion.status, noVersion.body.errcode], [400, 'M_MISSING_PARAM']);
    },
  );

  await t.test('malformed key data is refused', async (t) => {
    const user = await makeUser(server);
    const v = await create(user);
    const res = await call(user, 'PUT', `keys/${ROOM}/s?version=${v}`, { first_message_index: 'one' });
    t.equal(res.status, 400);
  });

  await t.test('delete keys at all three levels, with etag and count', async (t) => {
    const user = await makeUser(server);
    const v = await create(user);
    await call(user, 'PUT', `keys?version=${v}`, {
      rooms: {
        [ROOM]: { sessions: { a: session(), b: session() } },
        '!r2:example.org': { sessions: { c: session() } },
        '!r3:example.org': { sessions: { d: session() } },
      },
    });
    const one = await call(user, 'DELETE', `keys/${ROOM}/a?version=${v}`);
    t.same(one.body, { etag: '2', count: 3 });
    const room = await call(user, 'DELETE', `keys/!r2:example.org?version=${v}`);
    t.same(room.body, { etag: '3', count: 2 });
    const all = await call(user, 'DELETE', `keys?version=${v}`);
    t.same(all.body, { etag: '4', count: 0 });
    t.same((await call(user, 'GET', `keys?version=${v}`)).body, { rooms: {} });
    t.equal((await call(user, 'DELETE', `keys?version=12`)).status, 404);
  });
});
