import t from 'tap';
import { withAllDatabases } from '../../../helpers/with-all-databases.js';
import { startServer } from '../../../helpers/start-server.js';
import {
  ephemeralModules,
  enc,
  startEphemeralServer,
  type SyncBody,
} from '../typing/ephemeral-test-server.js';
import { openRegistrationConfig } from '../../../helpers/fixtures.js';

const presenceOf = (body: SyncBody, userId: string) =>
  (body.presence?.events ?? []).find((e: { sender: string }) => e.sender === userId);

void t.test('presence over HTTP', async (t) => {
  await withAllDatabases(t, async (t, database) => {
    const server = await startEphemeralServer(t, { database });
    const alice = await server.user('alice');
    const bob = await server.user('bob');
    const eve = await server.user('eve');
    await server.room(alice, [bob]);
    const status = (userId: string) => `/_matrix/client/v3/presence/${enc(userId)}/status`;

    await t.test('PUT own status, GET it back (self and room-mate)', async (t) => {
      const put = await server.call('PUT', status(alice.userId), alice, {
        presence: 'online',
        status_msg: 'here',
      });
      t.equal(put.status, 200);
      t.same(put.body, {});
      for (const who of [alice, bob]) {
        const got = await server.call('GET', status(alice.userId), who);
        t.equal(got.status, 200);
        t.match(got.body, {
          presence: 'online',
          status_msg: 'here',
          currently_active: true,
          last_active_ago: Number,
        });
      }
    });

    await t.test('setting someone else’s presence is 403; a stranger may not read it', async (t) => {
      t.equal((await server.call('PUT', status(bob.userId), alice, { presence: 'online' })).status, 403);
      const stranger = await server.call('GET', status(alice.userId), eve);
      t.equal(stranger.status, 403);
      t.equal(stranger.body.errcode, 'M_FORBIDDEN');
    });

    await t.test('a bad presence value is 400', async (t) => {
      t.equal((await server.call('PUT', status(alice.userId), alice, { presence: 'busy' })).status, 400);
      t.equal((await server.call('PUT', status(alice.userId), alice, {})).status, 400);
    });

    await t.test('a room-mate’s change reaches an open sync; strangers get none', async (t) => {
      const since = (await server.sync(bob)).body.next_batch as string;
      const eveSince = (await server.sync(eve)).body.next_batch as string;
      const waiting = server.syncUntil(bob, since, (body) => presenceOf(body, alice.userId));
      await server.call('PUT', status(alice.userId), alice, { presence: 'unavailable', status_msg: 'brb' });
      const { value } = await waiting;
      t.match(value, { type: 'm.presence', content: { presence: 'unavailable', status_msg: 'brb' } });
      const eveSync = await server.sync(eve, eveSince);
      t.notOk(presenceOf(eveSync.body, alice.userId));
    });

    await t.test('syncing with set_presence=online makes an offline user online', async (t) => {
      await server.call('PUT', status(bob.userId), bob, { presence: 'offline' });
      await server.call('GET', '/_matrix/client/v3/sync?timeout=0&set_presence=offline', bob);
      t.equal((await server.call('GET', status(bob.userId), bob)).body.presence, 'offline');
      await server.call('GET', '/_matrix/client/v3/sync?timeout=0', bob);
      t.equal((await server.call('GET', status(bob.userId), bob)).body.presence, 'online');
    });
  });
});

void t.test('presence is off unless switched on', async (t) => {
  const server = await startServer(t, { modules: ephemeralModules, config: { ...openRegistrationConfig } });
  const res = await server.request('GET', '/_matrix/client/v3/presence/%40a%3Atest.local/status');
  t.equal(res.status, 404);
  t.equal(res.body.errcode, 'M_UNRECOGNIZED');
});

void t.test('presence.enabled: false ignores updates and keeps presence out of sync', async (t) => {
  const server = await startEphemeralServer(t, { config: { presence: { enabled: false } } });
  const alice = await server.user('alice');
  await server.call('PUT', `/_matrix/client/v3/presence/${enc(alice.userId)}/status`, alice, {
    presence: 'online',
  });
  const got = await server.call('GET', `/_matrix/client/v3/presence/${enc(alice.userId)}/status`, alice);
  t.same(got.body, { presence: 'offline' });
  const sync = await server.sync(alice);
  t.same(sync.body.presence?.events ?? [], []);
});
