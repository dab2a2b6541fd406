import { createHmac } from 'node:crypto';
import t from 'tap';
import { startServer } from '../../../helpers/start-server.js';
import { withAllDatabases } from '../../../helpers/with-all-databases.js';
import {
  adminRegistrationConfig,
  makeUser,
  openRegistrationConfig,
  TEST_SHARED_SECRET,
} from '../../../helpers/fixtures.js';

const profile = (userId: string, key?: string): string =>
  `/_matrix/client/v3/profile/${encodeURIComponent(userId)}${key ? `/${encodeURIComponent(key)}` : ''}`;

void t.test('profiles on every engine', async (t) => {
  await withAllDatabases(t, async (t, database) => {
    const server = await startServer(t, { database, config: { ...openRegistrationConfig } });
    const alice = await makeUser(server, { localpart: 'alice' });
    const bob = await makeUser(server, { localpart: 'bob' });
    const changes: unknown[] = [];
    server.kernel.container.cradle.authApi.onProfileChanged(
      async (c) => void changes.push({ field: c.field, value: c.value }),
    );

    await t.test('set, get and delete fields (displayname, avatar_url, m.tz, custom)', async (t) => {
      for (const [key, value] of [
        ['displayname', 'Alice Margatroid'],
        ['avatar_url', 'mxc://matrix.org/SDGdghriugerRg'],
        ['m.tz', 'Europe/London'],
        ['m.example_field', 'custom_value'],
        ['com.example.obj', { nested: [1, 2] }],
      ] as const) {
        const r = await server.request('PUT', profile(alice.userId, key), {
          token: alice.accessToken,
          body: { [key]: value },
        });
        t.equal(r.status, 200, key);
        t.same((await server.request('GET', profile(alice.userId, key))).body, { [key]: value }, key);
      }
      const all = await server.request('GET', profile(alice.userId));
      t.same(all.body, {
        avatar_url: 'mxc://matrix.org/SDGdghriugerRg',
        'com.example.obj': { nested: [1, 2] },
        displayname: 'Alice Margatroid',
        'm.example_field': 'custom_value',
        'm.tz': 'Europe/London',
      });
      const del = await server.request('DELETE', profile(alice.userId, 'm.tz'), { token: alice.accessToken });
      t.equal(del.status, 200);
      t.equal((await server.request('GET', profile(alice.userId, 'm.tz'))).status, 404);
      const again = await server.request('DELETE', profile(alice.userId, 'm.tz'), {
        token: alice.accessToken,
      });
      t.equal(again.status, 200, 'deleting a missing field is fine');
      t.same(changes.slice(0, 2), [
        { field: 'displayname', value: 'Alice Margatroid' },
        { field: 'avatar_url', value: 'mxc://matrix.org/SDGdghriugerRg' },
      ]);
      t.same(changes.at(-1), { field: 'm.tz', value: undefined }, 'listeners hear deletions');
    });

    await t.test('errors', async (t) => {
      const other = await server.request('PUT', profile(alice.userId, 'displayname'), {
        token: bob.accessToken,
        body: { displayname: 'pwned' },
      });
      t.equal(other.status, 403);
      const noToken = await server.request('PUT', profile(alice.userId, 'displayname'), {
        body: { displayname: 'x' },
      });
      t.equal(noToken.body.errcode, 'M_MISSING_TOKEN');
      const badKey = await server.request('PUT', profile(alice.userId, 'Bad Key'), {
        token: alice.accessToken,
        body: { 'Bad Key': 1 },
      });
      t.equal(badKey.body.errcode, 'M_INVALID_PARAM');
      const longKey = `com.example.${'k'.repeat(250)}`;
      const tooLongKey = await server.request('PUT', profile(alice.userId, longKey), {
        token: alice.accessToken,
        body: { [longKey]: 1 },
      });
      t.equal(tooLongKey.body.errcode, 'M_KEY_TOO_LARGE');
      const missing = await server.request('PUT', profile(alice.userId, 'displayname'), {
        token: alice.accessToken,
        body: { other: 1 },
      });
      t.equal(missing.body.errcode, 'M_MISSING_PARAM');
      const notString = await server.request('PUT', profile(alice.userId, 'displayname'), {
        token: alice.accessToken,
        body: { displayname: 5 },
      });
      t.equal(notString.status, 400);
      const huge = await server.request('PUT', profile(alice.userId, 'com.example.big'), {
        token: alice.accessToken,
        body: { 'com.example.big': 'x'.repeat(70 * 1024) },
      });
      t.equal(huge.body.errcode, 'M_PROFILE_TOO_LARGE');
      t.equal((await server.request('GET', profile('@nobody:test.local'))).status, 404);
      t.equal((await server.request('GET', profile(alice.userId, 'com.example.unset'))).status, 404);
      const remote = await server.request('PUT', profile('@x:elsewhere', 'displayname'), {
        token: alice.accessToken,
        body: { displayname: 'x' },
      });
      t.equal(remote.status, 403);
    });
  });
});

function mac(
  nonce: string,
  user: string,
  password: string,
  admin: boolean,
  secret = TEST_SHARED_SECRET,
): string {
  return createHmac('sha1', secret)
    .update(`${nonce}\0${user}\0${password}\0${admin ? 'admin' : 'notadmin'}`)
    .digest('hex');
}

void t.test('shared-secret admin registration (Synapse API)', async (t) => {
  await withAllDatabases(t, async (t, database) => {
    const server = await startServer(t, { database, config: { ...adminRegistrationConfig } });
    const path = '/_synapse/admin/v1/register';

    await t.test('nonce + HMAC registers an admin with a session', async (t) => {
      const { body } = await server.request('GET', path);
      t.match(body.nonce, /^[0-9a-f]{128}$/);
      const r = await server.request('POST', path, {
        body: {
          nonce: body.nonce,
          username: 'Root',
          password: 'pw',
          admin: true,
          mac: mac(body.nonce, 'Root', 'pw', true),
        },
      });
      t.equal(r.status, 200);
      t.equal(r.body.user_id, '@root:test.local');
      t.type(r.body.access_token, 'string');
      t.equal(await server.kernel.container.cradle.authApi.isServerAdmin('@root:test.local'), true);
      const reuse = await server.request('POST', path, {
        body: {
          nonce: body.nonce,
          username: 'other',
          password: 'pw',
          admin: false,
          mac: mac(body.nonce, 'other', 'pw', false),
        },
      });
      t.equal(reuse.status, 400, 'a nonce is single-use');
      t.match(reuse.body.error, 'unrecognised nonce');
    });

    await t.test('a wrong MAC is 403; a missing one 400', async (t) => {
      const { body } = await server.request('GET', path);
      const wrong = await server.request('POST', path, {
        body: {
          nonce: body.nonce,
          username: 'eve',
          password: 'pw',
          admin: true,
          mac: mac(body.nonce, 'eve', 'pw', false),
        },
      });
      t.equal(wrong.status, 403);
      t.match(wrong.body.error, 'HMAC incorrect');
      const { body: b2 } = await server.request('GET', path);
      const none = await server.request('POST', path, {
        body: { nonce: b2.nonce, username: 'eve', password: 'pw' },
      });
      t.equal(none.status, 400);
    });

    await t.test('registration tokens admin API is admin-only', async (t) => {
      const admin = await makeUser(server, { localpart: 'boss', admin: true });
      const { body } = await server.request('GET', path);
      const plain = await server.request('POST', path, {
        body: {
          nonce: body.nonce,
          username: 'pleb',
          password: 'pw',
          admin: false,
          mac: mac(body.nonce, 'pleb', 'pw', false),
        },
      });
      const tokens = '/_synapse/admin/v1/registration_tokens';
      t.equal((await server.request('GET', tokens, { token: plain.body.access_token })).status, 403);
      const gen = await server.request('POST', `${tokens}/new`, {
        token: admin.accessToken,
        body: { length: 10 },
      });
      t.match(gen.body.token, /^[A-Za-z0-9._~-]{10}$/);
      const expiring = await server.request('POST', `${tokens}/new`, {
        token: admin.accessToken,
        body: { token: 'later', expiry_time: Date.now() + 60_000, uses_allowed: 3 },
      });
      t.equal(expiring.body.uses_allowed, 3);
      const dup = await server.request('POST', `${tokens}/new`, {
        token: admin.accessToken,
        body: { token: 'later' },
      });
      t.equal(dup.body.errcode, 'M_INVALID_PARAM');
      const bad = await server.request('POST', `${tokens}/new`, {
        token: admin.accessToken,
        body: { token: 'no spaces' },
      });
      t.equal(bad.body.errcode, 'M_INVALID_PARAM');
      const past = await server.request('POST', `${tokens}/new`, {
        token: admin.accessToken,
        body: { expiry_time: 1 },
      });
      t.equal(past.body.errcode, 'M_INVALID_PARAM');
      const list = await server.request('GET', tokens, { token: admin.accessToken });
      t.equal(list.body.registration_tokens.length, 2);
      const updated = await server.request('PUT', `${tokens}/later`, {
        token: admin.accessToken,
        body: { uses_allowed: 0, expiry_time: null },
      });
      t.same(updated.body, { token: 'later', uses_allowed: 0, pending: 0, completed: 0, expiry_time: null });
      const valid = await server.request('GET', `${tokens}?valid=true`, { token: admin.accessToken });
      t.same(
        valid.body.registration_tokens.map((x: { token: string }) => x.token),
        [gen.body.token],
      );
      t.equal((await server.request('DELETE', `${tokens}/later`, { token: admin.accessToken })).status, 200);
      t.equal((await server.request('GET', `${tokens}/later`, { token: admin.accessToken })).status, 404);
      t.equal((await server.request('DELETE', `${tokens}/later`, { token: admin.accessToken })).status, 404);
    });
  });
});

void t.test('shared-secret registration is off without registration_shared_secret', async (t) => {
  const server = await startServer(t);
  const r = await server.request('GET', '/_synapse/admin/v1/register');
  t.equal(r.status, 400);
  t.match(r.body.error, 'not enabled');
});
