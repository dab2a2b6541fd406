import t from 'tap';
import { startServer, type TestServer } from '../../../helpers/start-server.js';
import { withAllDatabasesConcurrently } from '../../../helpers/with-all-databases.js';
import { login, makeUser, openRegistrationConfig } from '../../../helpers/fixtures.js';

const ALICE = '@alice:test.local';
const BOB = '@bob:test.local';

function sync(server: TestServer, token: string, since?: string, timeout = 0) {
  const q = new URLSearchParams({ timeout: String(timeout) });
  if (since) q.set('since', since);
  return server.request('GET', `/_matrix/client/v3/sync?${q.toString()}`, { token });
}

function send(server: TestServer, token: string, txn: string, messages: unknown) {
  return server.request('PUT', `/_matrix/client/v3/sendToDevice/m.test/${txn}`, {
    token,
    body: { messages },
  });
}

void withAllDatabasesConcurrently(t, async (t, database) => {
  const server = await startServer(t, { database, config: { ...openRegistrationConfig } });
  const alice = (await makeUser(server, { localpart: 'alice', deviceId: 'A1' })).accessToken;
  const bobUser = await makeUser(server, { localpart: 'bob', deviceId: 'B1' });
  const bob1 = bobUser.accessToken;
  const bob2 = (await login(server, bobUser, { device_id: 'B2' })).accessToken;

  await t.test(
    'delivered exactly once: acknowledged by the next since, redelivered for a repeated since',
    async (t) => {
      const t0 = (await sync(server, bob1)).body.next_batch;
      const res = await send(server, alice, 'txn1', { [BOB]: { B1: { n: 1 } } });
      t.same([res.status, res.body], [200, {}]);
      const first = await sync(server, bob1, t0);
      t.same(first.body.to_device.events, [{ sender: ALICE, type: 'm.test', content: { n: 1 } }]);
      const again = await sync(server, bob1, t0);
      t.same(
        again.body.to_device?.events,
        [{ sender: ALICE, type: 'm.test', content: { n: 1 } }],
        'repeat since: redelivered',
      );
      const acked = await sync(server, bob1, first.body.next_batch);
      t.notOk(acked.body.to_device, 'next since: nothing new');
      const old = await sync(server, bob1, t0);
      t.notOk(old.body.to_device, 'acknowledged messages are deleted');
    },
  );

  await t.test('a repeated transaction id sends nothing more', async (t) => {
    const t0 = (await sync(server, bob1)).body.next_batch;
    await send(server, alice, 'dup', { [BOB]: { B1: { n: 2 } } });
    await send(server, alice, 'dup', { [BOB]: { B1: { n: 2 } } });
    const res = await sync(server, bob1, t0);
    t.equal(res.body.to_device.events.length, 1);
  });

  await t.test('* reaches every device of the user, each once', async (t) => {
    const b1 = (await sync(server, bob1)).body.next_batch;
    const b2 = (await sync(server, bob2)).body.next_batch;
    await send(server, alice, 'star', { [BOB]: { '*': { all: true } } });
    t.same((await sync(server, bob1, b1)).body.to_device.events[0].content, { all: true });
    t.same((await sync(server, bob2, b2)).body.to_device.events[0].content, { all: true });
  });

  await t.test('messages for another device stay with that device', async (t) => {
    const b2 = (await sync(server, bob2)).body.next_batch;
    await send(server, alice, 'only1', { [BOB]: { B1: { only: 1 } } });
    t.notOk((await sync(server, bob2, b2)).body.to_device);
  });

  await t.test('an initial sync delivers what is pending', async (t) => {
    const carol = (await makeUser(server, { localpart: 'carol', deviceId: 'C1' })).accessToken;
    await send(server, alice, 'carol', { '@carol:test.local': { C1: { hi: 1 } } });
    const res = await sync(server, carol);
    t.same(res.body.to_device.events[0].content, { hi: 1 });
  });

  await t.test('at most 100 per sync; the rest follows', async (t) => {
    const dave = (await makeUser(server, { localpart: 'dave', deviceId: 'D1' })).accessToken;
    const d0 = (await sync(server, dave)).body.next_batch;
    for (let i = 0; i < 105; i++)
      await send(server, alice, `many${i}`, { '@dave:test.local': { D1: { i } } });
    const first = await sync(server, dave, d0);
    t.equal(first.body.to_device.events.length, 100);
    const second = await sync(server, dave, first.body.next_batch);
    t.same(
      second.body.to_device.events.map((e: { content: { i: number } }) => e.content.i),
      [100, 101, 102, 103, 104],
    );
  });

  await t.test("a deleted device's queue is dropped", async (t) => {
    const erin = await makeUser(server, { localpart: 'erin', deviceId: 'E1' });
    await send(server, alice, 'erin', { [erin.userId]: { E1: { bye: 1 } } });
    const store = server.kernel.container.cradle.toDeviceStore;
    t.equal((await store.pending(erin.userId, 'E1', 0, 1e9, 100)).length, 1);
    const out = await server.request('POST', '/_matrix/client/v3/logout', {
      token: erin.accessToken,
      body: {},
    });
    t.equal(out.status, 200);
    t.same(await store.pending(erin.userId, 'E1', 0, 1e9, 100), []);
  });

  await t.test('a long-poll wakes when a message arrives', async (t) => {
    const b1 = (await sync(server, bob1)).body.next_batch;
    const started = Date.now();
    const poll = sync(server, bob1, b1, 10_000);
    setTimeout(() => void send(server, alice, 'wake', { [BOB]: { B1: { wake: 1 } } }), 100);
    const res = await poll;
    t.ok(Date.now() - started < 5000, 'returned long before the timeout');
    t.same(res.body.to_device.events[0].content, { wake: 1 });
  });
});
