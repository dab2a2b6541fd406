import t from 'tap';
import { startServer } from '../../../helpers/start-server.js';
import { withAllDatabases } from '../../../helpers/with-all-databases.js';
import { makeUser, openRegistrationConfig } from '../../../helpers/fixtures.js';

const ALICE = '@alice:test.local';
const BOB = '@bob:test.local';
const ROOM = '!room:test.local';

void withAllDatabases(t, async (t, database) => {
  const server = await startServer(t, { database, config: { ...openRegistrationConfig } });
  const alice = (await makeUser(server, { localpart: 'alice' })).accessToken;
  const bob = (await makeUser(server, { localpart: 'bob' })).accessToken;
  const base = `/_matrix/client/v3/user/${encodeURIComponent(ALICE)}`;

  await t.test('global account data round-trips and overwrites', async (t) => {
    t.equal(
      (await server.request('GET', `${base}/account_data/org.example.cfg`, { token: alice })).status,
      404,
    );
    let res = await server.request('PUT', `${base}/account_data/org.example.cfg`, {
      token: alice,
      body: { a: 1 },
    });
    t.same([res.status, res.body], [200, {}]);
    await server.request('PUT', `${base}/account_data/org.example.cfg`, { token: alice, body: { a: 2 } });
    res = await server.request('GET', `${base}/account_data/org.example.cfg`, { token: alice });
    t.same(res.body, { a: 2 });
  });

  await t.test('room account data is separate from global account data', async (t) => {
    const path = `${base}/rooms/${encodeURIComponent(ROOM)}/account_data/org.example.cfg`;
    await server.request('PUT', path, { token: alice, body: { room: true } });
    t.same((await server.request('GET', path, { token: alice })).body, { room: true });
    t.same((await server.request('GET', `${base}/account_data/org.example.cfg`, { token: alice })).body, {
      a: 2,
    });
  });

  await t.test("another user's account data is forbidden", async (t) => {
    const res = await server.request('GET', `${base}/account_data/org.example.cfg`, { token: bob });
    t.same([res.status, res.body.errcode], [403, 'M_FORBIDDEN']);
    const put = await server.request('PUT', `${base}/account_data/x`, { token: bob, body: {} });
    t.equal(put.status, 403);
  });

  await t.test('server-controlled types answer 405 M_BAD_JSON', async (t) => {
    const res = await server.request('PUT', `${base}/account_data/m.push_rules`, { token: alice, body: {} });
    t.same([res.status, res.body.errcode], [405, 'M_BAD_JSON']);
    const fr = `${base}/rooms/${encodeURIComponent(ROOM)}/account_data/m.fully_read`;
    t.equal((await server.request('PUT', fr, { token: alice, body: { event_id: '$x' } })).status, 405);
  });

  await t.test('an invalid room id answers 400 M_INVALID_PARAM', async (t) => {
    const res = await server.request('GET', `${base}/rooms/not-a-room/account_data/x`, { token: alice });
    t.same([res.status, res.body.errcode], [400, 'M_INVALID_PARAM']);
  });

  await t.test('a non-object body is rejected', async (t) => {
    const res = await server.request('PUT', `${base}/account_data/x`, { token: alice, body: [1] });
    t.equal(res.status, 400);
  });

  await t.test('tags: put, list, delete', async (t) => {
    const tags = `${base}/rooms/${encodeURIComponent(ROOM)}/tags`;
    t.same((await server.request('GET', tags, { token: alice })).body, { tags: {} });
    await server.request('PUT', `${tags}/u.work`, { token: alice, body: { order: 0.5 } });
    await server.request('PUT', `${tags}/m.favourite`, { token: alice, body: {} });
    t.same((await server.request('GET', tags, { token: alice })).body, {
      tags: { 'u.work': { order: 0.5 }, 'm.favourite': {} },
    });
    const del = await server.request('DELETE', `${tags}/u.work`, { token: alice });
    t.same([del.status, del.body], [200, {}]);
    t.same((await server.request('GET', tags, { token: alice })).body, { tags: { 'm.favourite': {} } });
    const tagEvent = await server.request(
      'GET',
      `${base}/rooms/${encodeURIComponent(ROOM)}/account_data/m.tag`,
      {
        token: alice,
      },
    );
    t.same(tagEvent.body, { tags: { 'm.favourite': {} } }, 'tags live in m.tag room account data');
  });

  await t.test('a tag order outside [0, 1] is rejected', async (t) => {
    const res = await server.request('PUT', `${base}/rooms/${encodeURIComponent(ROOM)}/tags/u.x`, {
      token: alice,
      body: { order: 2 },
    });
    t.equal(res.status, 400);
  });

  await t.test('m.ignored_user_list is validated and read by the API', async (t) => {
    const path = `${base}/account_data/m.ignored_user_list`;
    t.equal((await server.request('PUT', path, { token: alice, body: { ignored_users: [] } })).status, 400);
    const self = await server.request('PUT', path, {
      token: alice,
      body: { ignored_users: { [ALICE]: {} } },
    });
    t.equal(self.status, 400, 'cannot ignore yourself');
    await server.request('PUT', path, { token: alice, body: { ignored_users: { [BOB]: {} } } });
    const ignored = await server.kernel.container.cradle.accountDataApi.ignoredUsers(ALICE);
    t.same([...ignored], [BOB]);
  });
});
