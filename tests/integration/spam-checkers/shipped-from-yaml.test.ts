/**
 * The four shipped spam checkers, declared in a real homeserver.yaml as an operator would, loaded at boot
 * and consulted through the server's registry over HTTP (the probe endpoint stands in for the rooms and
 * auth call sites until those modules wire them).
 */
import t from 'tap';
import { bootFromYaml, SERVER_NAME } from '../../helpers/plugin-fixtures/boot-from-yaml.js';
import { fakeBackends, fakeBackendsModule } from '../../helpers/plugin-fixtures/probe-module.js';

const CHECK = '/_matrix/client/v3/x.plugin_probe/check';
const alice = `@alice:${SERVER_NAME}`;
const fresh = `@fresh:${SERVER_NAME}`;

void t.test(
  'the shipped spam checkers load from homeserver.yaml and refuse at their call sites',
  async (t) => {
    const backends = fakeBackends(SERVER_NAME);
    backends.users.set(alice, { createdAt: Date.now() - 24 * 3600_000 });
    backends.users.set(fresh, { createdAt: Date.now() });
    backends.joined.set(alice, ['!a:plugins.test']);
    const server = await bootFromYaml(
      t,
      `plugins:
  - module: ./spam-checkers/registration-guard
    config:
      blocked_username_patterns: ['^admin']
      shadow_ban_username_patterns: ['bot\\d+$']
  - module: ./spam-checkers/keyword-filter
    config: { blocked_words: [casino], errcode: ORG_EXAMPLE_BLOCKED, error: No casinos here }
  - module: ./spam-checkers/invite-guard
    config: { blocked_servers: [spam.example], require_shared_room: true }
  - module: ./spam-checkers/new-account-limiter
    config: { minutes: 30 }`,
      { modules: [fakeBackendsModule(backends)] },
    );
    const loaded = server.logs.find((l) => l['msg'] === 'plugins loaded');
    t.same(loaded?.['plugins'], [
      'registration-guard',
      'keyword-filter',
      'invite-guard',
      'new-account-limiter',
    ]);

    const event = (sender: string, body: string) => ({
      event: {
        type: 'm.room.message',
        sender,
        room_id: '!a:plugins.test',
        content: { msgtype: 'm.text', body },
      },
    });
    const blocked = await server.request('POST', `${CHECK}/checkEventForSpam`, {
      body: event(alice, 'casino night'),
    });
    t.equal(blocked.status, 403);
    t.same(blocked.body, { errcode: 'ORG_EXAMPLE_BLOCKED', error: 'No casinos here' });
    const clean = await server.request('POST', `${CHECK}/checkEventForSpam`, {
      body: event(alice, 'book club'),
    });
    t.equal(clean.status, 200);
    const link = await server.request('POST', `${CHECK}/checkEventForSpam`, {
      body: event(fresh, 'https://x.example'),
    });
    t.equal(link.status, 403, 'a fresh account may not send links');
    t.match(link.body.error, /New accounts cannot send links/);

    const inviteFromSpam = await server.request('POST', `${CHECK}/userMayInvite`, {
      body: { inviter: '@x:spam.example', invitee: alice, roomId: '!r:spam.example' },
    });
    t.equal(inviteFromSpam.status, 403);
    const strangers = await server.request('POST', `${CHECK}/userMayInvite`, {
      body: { inviter: alice, invitee: fresh, roomId: '!a:plugins.test' },
    });
    t.equal(strangers.status, 403, 'users sharing no room may not invite each other');
    backends.joined.set(fresh, ['!a:plugins.test']);
    const friends = await server.request('POST', `${CHECK}/userMayInvite`, {
      body: { inviter: alice, invitee: fresh, roomId: '!b:plugins.test' },
    });
    t.equal(friends.status, 200);

    const createRoom = await server.request('POST', `${CHECK}/userMayCreateRoom`, {
      body: { userId: fresh, request: {} },
    });
    t.equal(createRoom.status, 403);

    const registration = async (username: string): Promise<unknown> =>
      (await server.request('POST', '/_matrix/client/v3/x.plugin_probe/registration', { body: { username } }))
        .body.verdict;
    t.equal(await registration('administrator'), 'DENY');
    t.equal(await registration('bot42'), 'SHADOW_BAN');
    t.equal(await registration('alice'), 'ALLOW');
  },
);
