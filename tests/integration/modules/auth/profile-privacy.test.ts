/**
 * Synapse's profile privacy keys: require_auth_for_profile_requests (GET /profile needs a token) and
 * limit_profile_requests_to_users_who_share_rooms (only users sharing a joined room, and oneself).
 */
import t from 'tap';
import { adminRegistrationConfig, makeUser, openRegistrationConfig } from '../../../helpers/fixtures.js';
import { startServer } from '../../../helpers/start-server.js';

void t.test('require_auth_for_profile_requests: profile reads need an access token', async (t) => {
  const open = await startServer(t, { config: openRegistrationConfig });
  const a = await makeUser(open, { localpart: 'alice' });
  t.equal(
    (await open.request('GET', `/_matrix/client/v3/profile/${a.userId}`)).status,
    200,
    'off: anyone reads',
  );
  await open.stop();

  const server = await startServer(t, {
    config: { ...openRegistrationConfig, require_auth_for_profile_requests: true },
  });
  const alice = await makeUser(server, { localpart: 'alice' });
  for (const path of [
    `/_matrix/client/v3/profile/${alice.userId}`,
    `/_matrix/client/v3/profile/${alice.userId}/displayname`,
  ]) {
    const anonymous = await server.request('GET', path);
    t.equal(anonymous.status, 401, path);
    t.equal(anonymous.body.errcode, 'M_MISSING_TOKEN');
    t.equal((await server.request('GET', path, { token: alice.accessToken })).status, 200);
  }
});

void t.test('limit_profile_requests_to_users_who_share_rooms', async (t) => {
  const server = await startServer(t, {
    config: { ...openRegistrationConfig, limit_profile_requests_to_users_who_share_rooms: true },
  });
  const alice = await makeUser(server, { localpart: 'alice' });
  const bob = await makeUser(server, { localpart: 'bob' });
  const profile = (token: string, userId: string, field = '') =>
    server.request('GET', `/_matrix/client/v3/profile/${userId}${field}`, { token });

  t.equal((await profile(alice.accessToken, alice.userId)).status, 200, 'one’s own profile');
  const refused = await profile(alice.accessToken, bob.userId);
  t.equal(refused.status, 403);
  t.equal(refused.body.errcode, 'M_FORBIDDEN');
  t.equal((await profile(alice.accessToken, bob.userId, '/displayname')).status, 403, 'per field too');

  const room = await server.request('POST', '/_matrix/client/v3/createRoom', {
    token: alice.accessToken,
    body: { preset: 'public_chat' },
  });
  const roomId = room.body.room_id as string;
  t.equal((await profile(alice.accessToken, bob.userId)).status, 403, 'alone in a room is no shared room');
  await server.request('POST', `/_matrix/client/v3/rooms/${roomId}/join`, {
    token: bob.accessToken,
    body: {},
  });
  const shared = await profile(alice.accessToken, bob.userId);
  t.equal(shared.status, 200, 'sharing a room');
  t.equal(shared.body.displayname, 'bob');
  await server.request('POST', `/_matrix/client/v3/rooms/${roomId}/leave`, {
    token: bob.accessToken,
    body: {},
  });
  t.equal((await profile(alice.accessToken, bob.userId)).status, 403, 'after bob left');
  t.equal(
    (await server.request('GET', `/_matrix/client/v3/profile/${bob.userId}`)).status,
    200,
    'unauthenticated reads are not limited (as Synapse)',
  );
});

void t.test('enable_set_displayname / enable_set_avatar_url: false', async (t) => {
  const server = await startServer(t, {
    config: {
      ...openRegistrationConfig,
      ...adminRegistrationConfig,
      enable_set_displayname: false,
      enable_set_avatar_url: false,
    },
  });
  const alice = await makeUser(server, { localpart: 'alice' }); // registration sets displayname "alice"
  const admin = await makeUser(server, { localpart: 'admin', admin: true });
  const put = (token: string, field: string, value: string) =>
    server.request('PUT', `/_matrix/client/v3/profile/${alice.userId}/${field}`, {
      token,
      body: { [field]: value },
    });

  const refused = await put(alice.accessToken, 'displayname', 'Alice');
  t.equal(refused.status, 400);
  t.same(refused.body, { errcode: 'M_FORBIDDEN', error: 'Changing display name is disabled on this server' });
  t.equal(
    (await put(alice.accessToken, 'avatar_url', 'mxc://test.local/a')).status,
    200,
    'an empty avatar may be set once',
  );
  const again = await put(alice.accessToken, 'avatar_url', 'mxc://test.local/b');
  t.same(again.body, { errcode: 'M_FORBIDDEN', error: 'Changing avatar is disabled on this server' });
  const deleted = await server.request('DELETE', `/_matrix/client/v3/profile/${alice.userId}/displayname`, {
    token: alice.accessToken,
  });
  t.equal(deleted.status, 400, 'nor deleted');
  t.equal((await put(admin.accessToken, 'displayname', 'Alice')).status, 200, 'a server admin still may');
  t.equal((await put(alice.accessToken, 'm.tz', 'Europe/Paris')).status, 200, 'other fields are not locked');

  const caps = await server.request('GET', '/_matrix/client/v3/capabilities', { token: alice.accessToken });
  t.match(caps.body.capabilities, {
    'm.set_displayname': { enabled: false },
    'm.set_avatar_url': { enabled: false },
  });
});
