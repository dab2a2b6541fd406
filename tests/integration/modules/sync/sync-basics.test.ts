import t from 'tap';
import { startServer, type TestServer } from '../../../helpers/start-server.js';
import { withAllDatabases } from '../../../helpers/with-all-databases.js';
import { makeUser, openRegistrationConfig } from '../../../helpers/fixtures.js';

const ALICE = '@alice:test.local';

function sync(server: TestServer, token: string, params: Record<string, string> = {}) {
  const q = new URLSearchParams(params);
  return server.request('GET', `/_matrix/client/v3/sync?${q.toString()}`, { token });
}

void withAllDatabases(t, async (t, database) => {
  const server = await startServer(t, { database, config: { ...openRegistrationConfig } });
  const alice = (await makeUser(server, { localpart: 'alice' })).accessToken;
  const bob = (await makeUser(server, { localpart: 'bob' })).accessToken;
  const putData = (type: string, body: unknown, token = alice, user = ALICE) =>
    server.request('PUT', `/_matrix/client/v3/user/${encodeURIComponent(user)}/account_data/${type}`, {
      token,
      body,
    });

  await t.test('an initial sync answers with a next_batch and valid empty sections', async (t) => {
    const res = await sync(server, alice);
    t.equal(res.status, 200);
    t.match(res.body.next_batch, /^s\d+/);
    t.same(res.body.rooms, { join: {}, invite: {}, leave: {}, knock: {} });
  });

  await t.test('sync requires an access token', async (t) => {
    const res = await server.request('GET', '/_matrix/client/v3/sync');
    t.same([res.status, res.body.errcode], [401, 'M_MISSING_TOKEN']);
  });

  await t.test('a malformed since is 400', async (t) => {
    const res = await sync(server, alice, { since: 'garbage' });
    t.same([res.status, res.body.errcode], [400, 'M_INVALID_PARAM']);
  });

  await t.test('global account data: all of it initially, then only changes', async (t) => {
    await putData('org.example.a', { a: 1 });
    const initial = await sync(server, alice);
    // m.push_rules is account data too (from the push-rules module); this test is about the events put here.
    const own = (events: { type: string }[]) => events.filter((e) => e.type !== 'm.push_rules');
    t.same(own(initial.body.account_data.events), [{ type: 'org.example.a', content: { a: 1 } }]);
    const quiet = await sync(server, alice, { since: initial.body.next_batch });
    t.notOk(quiet.body.account_data, 'nothing changed');
    t.equal(quiet.body.next_batch, initial.body.next_batch, 'an empty sync keeps the token');
    await putData('org.example.b', { b: 2 });
    const inc = await sync(server, alice, { since: initial.body.next_batch });
    t.same(inc.body.account_data.events, [{ type: 'org.example.b', content: { b: 2 } }]);
    const bobs = await sync(server, bob);
    t.same(own(bobs.body.account_data?.events ?? []), [], "another user's account data is not in my sync");
  });

  await t.test('the timeout returns an empty but valid response', async (t) => {
    const since = (await sync(server, alice)).body.next_batch;
    const started = Date.now();
    const res = await sync(server, alice, { since, timeout: '300' });
    const took = Date.now() - started;
    t.ok(took >= 250, `waited ${took} ms`);
    t.equal(res.status, 200);
    t.equal(res.body.next_batch, since);
    t.same(res.body.rooms, { join: {}, invite: {}, leave: {}, knock: {} });
  });

  await t.test('a long-poll wakes on account data within the timeout', async (t) => {
    const since = (await sync(server, alice)).body.next_batch;
    const started = Date.now();
    const poll = sync(server, alice, { since, timeout: '10000' });
    setTimeout(() => void putData('org.example.wake', { w: 1 }), 100);
    const res = await poll;
    t.ok(Date.now() - started < 5000);
    t.same(res.body.account_data.events, [{ type: 'org.example.wake', content: { w: 1 } }]);
  });

  await t.test("another user's change does not wake my long-poll", async (t) => {
    const since = (await sync(server, bob)).body.next_batch;
    const poll = sync(server, bob, { since, timeout: '400' });
    setTimeout(() => void putData('org.example.other', { x: 1 }), 50);
    const res = await poll;
    t.notOk(res.body.account_data);
  });

  await t.test('the token is valid on another server process sharing the database', async (t) => {
    const since = (await sync(server, alice)).body.next_batch;
    const second = await startServer(t, { database, config: { ...openRegistrationConfig } });
    await second.request(
      'PUT',
      `/_matrix/client/v3/user/${encodeURIComponent(ALICE)}/account_data/org.example.restart`,
      {
        token: alice,
        body: { r: 1 },
      },
    );
    const res = await sync(second, alice, { since });
    t.same(res.body.account_data.events, [{ type: 'org.example.restart', content: { r: 1 } }]);
  });

  await t.test('filters: upload, read back, use by id', async (t) => {
    const base = `/_matrix/client/v3/user/${encodeURIComponent(ALICE)}/filter`;
    const created = await server.request('POST', base, {
      token: alice,
      body: { account_data: { types: ['org.example.a'] }, event_fields: ['type'] },
    });
    t.equal(created.status, 200);
    t.type(created.body.filter_id, 'string');
    const read = await server.request('GET', `${base}/${created.body.filter_id}`, { token: alice });
    t.same(read.body, { account_data: { types: ['org.example.a'] }, event_fields: ['type'] });
    const res = await sync(server, alice, { filter: created.body.filter_id });
    t.same(res.body.account_data.events, [{ type: 'org.example.a' }], 'types and event_fields applied');
  });

  await t.test("filters: another user's filter is 403, an unknown id 404, a bad filter 400", async (t) => {
    const base = `/_matrix/client/v3/user/${encodeURIComponent(ALICE)}/filter`;
    const created = await server.request('POST', base, { token: alice, body: {} });
    t.equal((await server.request('GET', `${base}/${created.body.filter_id}`, { token: bob })).status, 403);
    t.equal((await server.request('POST', base, { token: bob, body: {} })).status, 403);
    t.equal((await server.request('GET', `${base}/999999`, { token: alice })).status, 404);
    const bad = await server.request('POST', base, {
      token: alice,
      body: { room: { timeline: { limit: 'x' } } },
    });
    t.same([bad.status, bad.body.errcode], [400, 'M_BAD_JSON']);
    const bobFilterUse = await sync(server, bob, { filter: created.body.filter_id });
    t.equal(bobFilterUse.status, 404, 'a filter id of another user is unknown to me');
  });

  await t.test('inline JSON filters, with wildcards and not_types', async (t) => {
    const res = await sync(server, alice, {
      filter: JSON.stringify({ account_data: { types: ['org.example.*'], not_types: ['org.example.b'] } }),
    });
    const types = res.body.account_data.events.map((e: { type: string }) => e.type).sort();
    t.same(types, ['org.example.a', 'org.example.other', 'org.example.restart', 'org.example.wake']);
    const bad = await sync(server, alice, { filter: '{not json' });
    t.equal(bad.status, 400);
  });

  await t.test('account_data limit keeps the newest', async (t) => {
    const res = await sync(server, alice, { filter: JSON.stringify({ account_data: { limit: 1 } }) });
    t.equal(res.body.account_data.events.length, 1);
  });
});
