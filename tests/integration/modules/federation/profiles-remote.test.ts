/**
 * Profiles of another server's users: A's client asks A for B's user, A asks B with
 * `/query/profile` (whole profile and per field); an unknown remote user is 404 M_NOT_FOUND; an unreachable
 * server is 502, never a 500.
 */
import t from 'tap';
import { makeUser, openRegistrationConfig } from '../../../helpers/fixtures.js';
import { freePort, makeTestCa, startFederatedServer } from './test-federation.js';

const enc = encodeURIComponent;
const ca = await makeTestCa(t);
const a = await startFederatedServer(t, ca, { ...openRegistrationConfig });
const b = await startFederatedServer(t, ca, { ...openRegistrationConfig });
const alice = await makeUser(a, { localpart: 'alice' });
const bob = await makeUser(b, { localpart: 'bob' });

const set = await b.request('PUT', `/_matrix/client/v3/profile/${enc(bob.userId)}/displayname`, {
  token: bob.accessToken,
  body: { displayname: 'Bob of B' },
});
if (set.status !== 200) throw new Error(`PUT displayname answered ${set.status}`);
await b.request('PUT', `/_matrix/client/v3/profile/${enc(bob.userId)}/avatar_url`, {
  token: bob.accessToken,
  body: { avatar_url: 'mxc://b/avatar' },
});

void t.test("A's user reads B's user's profile through A", async (t) => {
  const whole = await a.request('GET', `/_matrix/client/v3/profile/${enc(bob.userId)}`, {
    token: alice.accessToken,
  });
  t.equal(whole.status, 200, JSON.stringify(whole.body));
  t.same(whole.body, { displayname: 'Bob of B', avatar_url: 'mxc://b/avatar' });

  const name = await a.request('GET', `/_matrix/client/v3/profile/${enc(bob.userId)}/displayname`);
  t.equal(name.status, 200, 'no token needed by default');
  t.same(name.body, { displayname: 'Bob of B' });
  const avatar = await a.request('GET', `/_matrix/client/v3/profile/${enc(bob.userId)}/avatar_url`);
  t.same(avatar.body, { avatar_url: 'mxc://b/avatar' });
});

void t.test('an unknown remote user is 404 M_NOT_FOUND', async (t) => {
  const ghost = `@ghost:${b.serverName}`;
  const whole = await a.request('GET', `/_matrix/client/v3/profile/${enc(ghost)}`);
  t.equal(whole.status, 404);
  t.equal(whole.body.errcode, 'M_NOT_FOUND');
  const field = await a.request('GET', `/_matrix/client/v3/profile/${enc(ghost)}/displayname`);
  t.equal(field.status, 404);
  t.equal(field.body.errcode, 'M_NOT_FOUND');
});

void t.test('an unreachable server is 502, not 500', async (t) => {
  const nobody = `@x:localhost:${await freePort()}`;
  const res = await a.request('GET', `/_matrix/client/v3/profile/${enc(nobody)}`);
  t.equal(res.status, 502, JSON.stringify(res.body));
  t.equal(res.body.errcode, 'M_UNKNOWN');
});

void t.test('an invalid user id is 400', async (t) => {
  const res = await a.request('GET', `/_matrix/client/v3/profile/${enc('not-a-user')}`);
  t.equal(res.status, 400);
  t.equal(res.body.errcode, 'M_INVALID_PARAM');
});
