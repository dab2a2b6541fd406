/**
 * allow_public_rooms_over_federation is false by default (as Synapse): B refuses the directory to A with
 * 403 M_FORBIDDEN, and A's client sees a 403 M_FORBIDDEN too (not a 500, not B's rooms).
 */
import t from 'tap';
import { makeUser, openRegistrationConfig } from '../../../helpers/fixtures.js';
import { makeTestCa, startFederatedServer } from './test-federation.js';

const ca = await makeTestCa(t);
const a = await startFederatedServer(t, ca, { ...openRegistrationConfig });
const b = await startFederatedServer(t, ca, { ...openRegistrationConfig });
const alice = await makeUser(a, { localpart: 'alice' });
const bob = await makeUser(b, { localpart: 'bob' });
const created = await b.request('POST', '/_matrix/client/v3/createRoom', {
  token: bob.accessToken,
  body: { preset: 'public_chat', visibility: 'public', name: 'Hidden from A' },
});
if (created.status !== 200) throw new Error(`createRoom answered ${created.status}`);

void t.test('GET and POST with server=B are refused with 403 M_FORBIDDEN', async (t) => {
  const get = await a.request('GET', `/_matrix/client/v3/publicRooms?server=${b.serverName}`, {
    token: alice.accessToken,
  });
  t.equal(get.status, 403, JSON.stringify(get.body));
  t.equal(get.body.errcode, 'M_FORBIDDEN');
  const post = await a.request('POST', `/_matrix/client/v3/publicRooms?server=${b.serverName}`, {
    token: alice.accessToken,
    body: { filter: { generic_search_term: 'hidden' } },
  });
  t.equal(post.status, 403, JSON.stringify(post.body));
  t.equal(post.body.errcode, 'M_FORBIDDEN');
});

void t.test("B's own clients still see the room", async (t) => {
  const res = await b.request('GET', '/_matrix/client/v3/publicRooms');
  t.equal(res.status, 200);
  t.equal(res.body.chunk.length, 1);
});
