/** Synapse's alias_creation_rules and room_list_publication_rules: first match decides, no match denies. */
import t from 'tap';
import { adminRegistrationConfig, makeUser, openRegistrationConfig } from '../../../helpers/fixtures.js';
import { startServer } from '../../../helpers/start-server.js';

const alias = (localpart: string): string => encodeURIComponent(`#${localpart}:test.local`);

void t.test('alias_creation_rules', async (t) => {
  const server = await startServer(t, {
    config: {
      ...openRegistrationConfig,
      ...adminRegistrationConfig,
      alias_creation_rules: [
        { user_id: '*bob*', action: 'deny' },
        { user_id: '*', alias: '#unofficial_*', action: 'allow' },
        { user_id: '@alice:test.local', action: 'allow' },
      ],
    },
  });
  const alice = await makeUser(server, { localpart: 'alice' });
  const bob = await makeUser(server, { localpart: 'bob' });
  const carol = await makeUser(server, { localpart: 'carol' });
  const admin = await makeUser(server, { localpart: 'admin', admin: true });
  const room = await server.request('POST', '/_matrix/client/v3/createRoom', {
    token: alice.accessToken,
    body: { preset: 'public_chat' },
  });
  const roomId = room.body.room_id as string;
  for (const u of [bob, carol])
    await server.request('POST', `/_matrix/client/v3/rooms/${roomId}/join`, {
      token: u.accessToken,
      body: {},
    });
  const put = (token: string, localpart: string) =>
    server.request('PUT', `/_matrix/client/v3/directory/room/${alias(localpart)}`, {
      token,
      body: { room_id: roomId },
    });

  t.equal((await put(alice.accessToken, 'official')).status, 200, 'alice: any alias');
  t.equal((await put(carol.accessToken, 'unofficial_carol')).status, 200, 'anyone: #unofficial_*');
  const refused = await put(carol.accessToken, 'carol');
  t.equal(refused.status, 403, 'no rule matches: denied');
  t.same(refused.body, { errcode: 'M_FORBIDDEN', error: 'Not allowed to create alias' });
  t.equal((await put(bob.accessToken, 'unofficial_bob')).status, 403, 'the first matching rule (deny) wins');
  t.equal((await put(admin.accessToken, 'admin')).status, 403, 'admins are bound too');

  const create = await server.request('POST', '/_matrix/client/v3/createRoom', {
    token: carol.accessToken,
    body: { room_alias_name: 'mine' },
  });
  t.equal(create.status, 403, 'createRoom with a refused room_alias_name');
  t.equal(
    (
      await server.request('POST', '/_matrix/client/v3/createRoom', {
        token: carol.accessToken,
        body: { room_alias_name: 'unofficial_room' },
      })
    ).status,
    200,
  );
});

void t.test('room_list_publication_rules', async (t) => {
  const server = await startServer(t, {
    config: {
      ...openRegistrationConfig,
      room_list_publication_rules: [
        { user_id: '@alice:test.local', action: 'allow' },
        { alias: '#public_*', action: 'allow' },
      ],
    },
  });
  const alice = await makeUser(server, { localpart: 'alice' });
  const bob = await makeUser(server, { localpart: 'bob' });
  const createRoom = async (token: string, body: Record<string, unknown>): Promise<string> => {
    const res = await server.request('POST', '/_matrix/client/v3/createRoom', { token, body });
    t.equal(res.status, 200);
    return res.body.room_id as string;
  };
  const listed = async (): Promise<string[]> =>
    ((await server.request('GET', '/_matrix/client/v3/publicRooms')).body.chunk as { room_id: string }[]).map(
      (r) => r.room_id,
    );

  const aliceRoom = await createRoom(alice.accessToken, { visibility: 'public' });
  const bobPlain = await createRoom(bob.accessToken, { visibility: 'public' });
  const bobAliased = await createRoom(bob.accessToken, {
    visibility: 'public',
    room_alias_name: 'public_bob',
  });
  t.same((await listed()).sort(), [aliceRoom, bobAliased].sort(), 'a refused room is created, not published');

  const publish = (token: string, roomId: string) =>
    server.request('PUT', `/_matrix/client/v3/directory/list/room/${roomId}`, {
      token,
      body: { visibility: 'public' },
    });
  const refused = await publish(bob.accessToken, bobPlain);
  t.equal(refused.status, 403);
  t.same(refused.body, { errcode: 'M_FORBIDDEN', error: 'Not allowed to publish room' });
  const aliasPut = await server.request('PUT', `/_matrix/client/v3/directory/room/${alias('public_two')}`, {
    token: bob.accessToken,
    body: { room_id: bobPlain },
  });
  t.equal(aliasPut.status, 200);
  t.equal((await publish(bob.accessToken, bobPlain)).status, 200, 'a matching local alias allows it');
});

void t.test('enable_room_list_search: false lists and publishes nothing', async (t) => {
  const server = await startServer(t, {
    config: { ...openRegistrationConfig, enable_room_list_search: false },
  });
  const alice = await makeUser(server, { localpart: 'alice' });
  const room = await server.request('POST', '/_matrix/client/v3/createRoom', {
    token: alice.accessToken,
    body: { visibility: 'public' },
  });
  t.equal(room.status, 200, 'a public createRoom still creates the room');
  t.same((await server.request('GET', '/_matrix/client/v3/publicRooms')).body, {
    chunk: [],
    total_room_count_estimate: 0,
  });
  const publish = await server.request('PUT', `/_matrix/client/v3/directory/list/room/${room.body.room_id}`, {
    token: alice.accessToken,
    body: { visibility: 'public' },
  });
  t.equal(publish.status, 403);
  const visibility = await server.request(
    'GET',
    `/_matrix/client/v3/directory/list/room/${room.body.room_id}`,
  );
  t.same(visibility.body, { visibility: 'private' }, 'not published');
});

void t.test('require_membership_for_aliases: false lets a non-member create an alias', async (t) => {
  for (const required of [true, false]) {
    const server = await startServer(t, {
      config: { ...openRegistrationConfig, require_membership_for_aliases: required },
    });
    const alice = await makeUser(server, { localpart: 'alice' });
    const bob = await makeUser(server, { localpart: 'bob' });
    const room = await server.request('POST', '/_matrix/client/v3/createRoom', {
      token: alice.accessToken,
      body: {},
    });
    const put = await server.request('PUT', `/_matrix/client/v3/directory/room/${alias('bobs')}`, {
      token: bob.accessToken,
      body: { room_id: room.body.room_id },
    });
    t.equal(put.status, required ? 403 : 200, `required: ${required}`);
    await server.stop();
  }
});
