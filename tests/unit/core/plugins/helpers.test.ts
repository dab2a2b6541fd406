import { asValue } from 'awilix';
import t from 'tap';
import { createAxonContainer } from '../../../../core/container.js';
import { createPluginHelpers } from '../../../../core/plugins/helpers.js';
import { fakeBackends } from '../../../helpers/plugin-fixtures/probe-module.js';

const SERVER = 'example.org';

void t.test('with the auth and rooms modules off, helpers answer false, empty and null', async (t) => {
  const helpers = createPluginHelpers(createAxonContainer(), SERVER);
  t.equal(helpers.serverName, SERVER);
  t.equal(await helpers.userExists('@a:example.org'), false);
  t.equal(await helpers.isServerAdmin('@a:example.org'), false);
  t.equal(await helpers.getUserCreatedAt('@a:example.org'), null);
  t.same(await helpers.getRoomState('!r:example.org'), []);
  t.same(await helpers.getJoinedRooms('@a:example.org'), []);
  await t.rejects(helpers.registerUser('a'), { message: /the auth module is switched off/ });
});

void t.test(
  'helpers resolve authApi and roomsApi from the container when called, not when created',
  async (t) => {
    const container = createAxonContainer();
    const helpers = createPluginHelpers(container, SERVER);
    const backends = fakeBackends(SERVER);
    container.register('authApi', asValue(backends.auth));
    container.register('roomsApi', asValue(backends.rooms));
    backends.users.set('@admin:example.org', { admin: true, createdAt: 1000 });
    backends.joined.set('@admin:example.org', ['!r:example.org']);
    t.equal(await helpers.userExists('@admin:example.org'), true);
    t.equal(await helpers.isServerAdmin('@admin:example.org'), true);
    t.equal(await helpers.getUserCreatedAt('@admin:example.org'), 1000);
    t.same(await helpers.getJoinedRooms('@admin:example.org'), ['!r:example.org']);
    t.equal(await helpers.registerUser('new', { displayName: 'New' }), '@new:example.org');
    t.equal(backends.users.get('@new:example.org')?.displayName, 'New');
  },
);

void t.test('remote users are never local users, admins or accounts with a creation time', async (t) => {
  const container = createAxonContainer();
  const backends = fakeBackends(SERVER);
  backends.users.set('@a:elsewhere.org', { admin: true, createdAt: 1 });
  container.register('authApi', asValue(backends.auth));
  const helpers = createPluginHelpers(container, SERVER);
  t.equal(await helpers.userExists('@a:elsewhere.org'), false);
  t.equal(await helpers.isServerAdmin('@a:elsewhere.org'), false);
  t.equal(await helpers.getUserCreatedAt('@a:elsewhere.org'), null);
});

void t.test('helpers cannot be changed by a plugin', async (t) => {
  const helpers = createPluginHelpers(createAxonContainer(), SERVER);
  t.throws(() => {
    (helpers as { serverName: string }).serverName = 'evil.org';
  });
});

void t.test(
  'room state comes as entries whether roomsApi answers with events or a (type, state_key) map',
  async (t) => {
    const container = createAxonContainer();
    const helpers = createPluginHelpers(container, SERVER);
    const asMap = new Map([
      ['m.room.join_rules\u0000', { join_rule: 'public' }],
      ['m.room.member\u0000@a:example.org', { membership: 'join' }],
    ]);
    container.register(
      'roomsApi',
      asValue({
        getRoomState: async (roomId: string) =>
          roomId === '!map:example.org' ? asMap : [{ type: 'm.room.name', content: { name: 'N' } }],
        getJoinedRooms: async () => [],
      }),
    );
    t.same(await helpers.getRoomState('!map:example.org'), [
      { type: 'm.room.join_rules', state_key: '', content: { join_rule: 'public' } },
      { type: 'm.room.member', state_key: '@a:example.org', content: { membership: 'join' } },
    ]);
    t.same(await helpers.getRoomState('!events:example.org'), [
      { type: 'm.room.name', state_key: '', content: { name: 'N' } },
    ]);
  },
);
