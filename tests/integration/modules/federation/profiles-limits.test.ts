/**
 * Synapse's profile settings apply to remote users too: require_auth_for_profile_requests needs a token before
 * anything is asked; limit_profile_requests_to_users_who_share_rooms refuses a remote user the requester
 * shares no room with (403), and serves one it does.
 */
import t from 'tap';
import { makeUser, openRegistrationConfig } from '../../../helpers/fixtures.js';
import { makeTestCa, startFederatedServer } from './test-federation.js';

const enc = encodeURIComponent;
const ca = await makeTestCa(t);
const a = await startFederatedServer(t, ca, {
  ...openRegistrationConfig,
  require_auth_for_profile_requests: true,
  limit_profile_requests_to_users_who_share_rooms: true,
});
const b = await startFederatedServer(t, ca, { ...openRegistrationConfig });
const alice = await makeUser(a, { localpart: 'alice' });
const bob = await makeUser(b, { localpart: 'bob' });
await b.request('PUT', `/_matrix/client/v3/profile/${enc(bob.userId)}/displayname`, {
  token: bob.accessToken,
  body: { displayname: 'Bob' },
});
const path = `/_matrix/client/v3/profile/${enc(bob.userId)}`;

void t.test('require_auth_for_profile_requests: no token, 401', async (t) => {
  const res = await a.request('GET', path);
  t.equal(res.status, 401);
  t.equal(res.body.errcode, 'M_MISSING_TOKEN');
});

void t.test('limit_profile_requests_to_users_who_share_rooms', async (t) => {
  const refused = await a.request('GET', path, { token: alice.accessToken });
  t.equal(refused.status, 403, 'no shared room');
  t.equal(refused.body.errcode, 'M_FORBIDDEN');
  const field = await a.request('GET', `${path}/displayname`, { token: alice.accessToken });
  t.equal(field.status, 403);

  const created = await a.request('POST', '/_matrix/client/v3/createRoom', {
    token: alice.accessToken,
    body: { preset: 'public_chat' },
  });
  const roomId = created.body.room_id as string;
  const joined = await b.request(
    'POST',
    `/_matrix/client/v3/join/${enc(roomId)}?server_name=${a.serverName}`,
    {
      token: bob.accessToken,
      body: {},
    },
  );
  t.equal(joined.status, 200, JSON.stringify(joined.body));

  const served = await a.request('GET', path, { token: alice.accessToken });
  t.equal(served.status, 200, JSON.stringify(served.body));
  t.equal(served.body.displayname, 'Bob');
});
