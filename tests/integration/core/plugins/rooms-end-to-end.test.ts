/**
 * Plugins at the rooms module's call sites, end to end: shipped spam checkers declared in a real
 * homeserver.yaml refuse `send`, state, `createRoom`, `invite` and `join` with their own errors.
 * Skipped, saying so, until the rooms module is among the built-in modules.
 */
import t from 'tap';
import { builtinModules } from '../../../../modules/index.js';
import { bootFromYaml, type YamlServer } from '../../../helpers/plugin-fixtures/boot-from-yaml.js';

const AUTH_KEYS = `enable_registration: true
enable_registration_without_verification: true
rc_registration: { per_second: 1000, burst_count: 1000 }
rc_login:
  address: { per_second: 1000, burst_count: 1000 }
  account: { per_second: 1000, burst_count: 1000 }
  failed_attempts: { per_second: 1000, burst_count: 1000 }
rc_message: { per_second: 1000, burst_count: 1000 }
rc_joins:
  local: { per_second: 1000, burst_count: 1000 }
  remote: { per_second: 1000, burst_count: 1000 }
rc_invites:
  per_room: { per_second: 1000, burst_count: 1000 }
  per_user: { per_second: 1000, burst_count: 1000 }`;

const roomsMissing = builtinModules.some((m) => m.name === 'rooms')
  ? undefined
  : 'the rooms module is not built in yet; skipping the rooms call-site tests';

interface User {
  readonly userId: string;
  readonly token: string;
}

async function user(server: YamlServer, localpart: string): Promise<User> {
  const body = { username: localpart, password: `pw-${localpart}-123` };
  const challenge = await server.request('POST', '/_matrix/client/v3/register', { body });
  const done = await server.request('POST', '/_matrix/client/v3/register', {
    body: { ...body, auth: { type: 'm.login.dummy', session: challenge.body.session } },
  });
  if (done.status !== 200) throw new Error(`registration failed: ${done.text}`);
  return { userId: done.body.user_id, token: done.body.access_token };
}

let txn = 0;
const send = (server: YamlServer, who: User, roomId: string, body: string) =>
  server.request(
    'PUT',
    `/_matrix/client/v3/rooms/${encodeURIComponent(roomId)}/send/m.room.message/t${++txn}`,
    {
      token: who.token,
      body: { msgtype: 'm.text', body },
    },
  );

async function createRoom(
  server: YamlServer,
  who: User,
  body: Record<string, unknown> = {},
): Promise<string> {
  const r = await server.request('POST', '/_matrix/client/v3/createRoom', { token: who.token, body });
  if (r.status !== 200) throw new Error(`createRoom failed: ${r.status} ${r.text}`);
  return r.body.room_id as string;
}

void t.test(
  'keyword-filter and invite-guard at the rooms call sites',
  { skip: roomsMissing ?? false },
  async (t) => {
    const server = await bootFromYaml(
      t,
      `${AUTH_KEYS}
plugins:
  - module: ./spam-checkers/keyword-filter
    config: { blocked_words: [casino], errcode: ORG_EXAMPLE_BLOCKED, error: No casinos here }
  - module: ./spam-checkers/invite-guard
    config: { require_shared_room: true, exempt_admins: false }`,
    );
    const alice = await user(server, 'alice');
    const bob = await user(server, 'bob');
    const roomId = await createRoom(server, alice, { preset: 'public_chat' });

    await t.test(
      'a message with a blocked word fails with the checker error; a clean one is sent',
      async (t) => {
        const blocked = await send(server, alice, roomId, 'casino night!');
        t.equal(blocked.status, 403);
        t.same(blocked.body, { errcode: 'ORG_EXAMPLE_BLOCKED', error: 'No casinos here' });
        const clean = await send(server, alice, roomId, 'book club tonight');
        t.equal(clean.status, 200);
        t.type(clean.body.event_id, 'string');
      },
    );

    await t.test('a state event with a blocked word fails', async (t) => {
      const r = await server.request(
        'PUT',
        `/_matrix/client/v3/rooms/${encodeURIComponent(roomId)}/state/m.room.topic/`,
        {
          token: alice.token,
          body: { topic: 'the best casino in town' },
        },
      );
      t.equal(r.status, 403);
      t.equal(r.body.errcode, 'ORG_EXAMPLE_BLOCKED');
    });

    await t.test('a room named with a blocked word is not created', async (t) => {
      const r = await server.request('POST', '/_matrix/client/v3/createRoom', {
        token: alice.token,
        body: { name: 'Casino Royale' },
      });
      t.equal(r.status, 403);
      t.equal(r.body.errcode, 'ORG_EXAMPLE_BLOCKED');
    });

    await t.test(
      'an invite between users sharing no room fails; after sharing one it succeeds',
      async (t) => {
        const privateRoom = await createRoom(server, alice);
        const invite = () =>
          server.request('POST', `/_matrix/client/v3/rooms/${encodeURIComponent(privateRoom)}/invite`, {
            token: alice.token,
            body: { user_id: bob.userId },
          });
        const refused = await invite();
        t.equal(refused.status, 403);
        t.same(refused.body, { errcode: 'M_FORBIDDEN', error: 'You may not invite this user.' });
        const join = await server.request('POST', `/_matrix/client/v3/join/${encodeURIComponent(roomId)}`, {
          token: bob.token,
          body: {},
        });
        t.equal(join.status, 200, 'bob joins the public room alice is in');
        t.equal((await invite()).status, 200);
      },
    );
  },
);

void t.test('new-account-limiter at the rooms call sites', { skip: roomsMissing ?? false }, async (t) => {
  const server = await bootFromYaml(
    t,
    `${AUTH_KEYS}
plugins:
  - module: ./spam-checkers/new-account-limiter
    config: { minutes: 60, block_room_creation: false }`,
  );
  const alice = await user(server, 'alice');
  const fresh = await user(server, 'fresh');
  const publicRoom = await createRoom(server, alice, { preset: 'public_chat' });

  const join = await server.request('POST', `/_matrix/client/v3/join/${encodeURIComponent(publicRoom)}`, {
    token: fresh.token,
    body: {},
  });
  t.equal(join.status, 403, 'a fresh account may not join a public room uninvited');
  t.match(join.body.error, /New accounts cannot join public rooms/);

  const own = await createRoom(server, fresh);
  const link = await send(server, fresh, own, 'visit https://spam.example');
  t.equal(link.status, 403, 'nor send links');
  t.equal((await send(server, fresh, own, 'hello')).status, 200, 'but may talk');
});
