/**
 * Another server's room directory: with allow_public_rooms_over_federation on B, A's user lists B's public
 * rooms with `server=B` (GET, and the filtered POST), the federation endpoints answer a signed request with
 * the client API's shapes, and rooms created with `m.federate: false` stay off the list.
 */
import t from 'tap';
import { makeUser, openRegistrationConfig } from '../../../helpers/fixtures.js';
import { makeTestCa, rawFederationRequest, startFederatedServer } from './test-federation.js';

const ca = await makeTestCa(t);
const a = await startFederatedServer(t, ca, { ...openRegistrationConfig });
const b = await startFederatedServer(t, ca, {
  ...openRegistrationConfig,
  allow_public_rooms_over_federation: true,
});
const alice = await makeUser(a, { localpart: 'alice' });
const bob = await makeUser(b, { localpart: 'bob' });

async function createRoom(body: Record<string, unknown>): Promise<string> {
  const res = await b.request('POST', '/_matrix/client/v3/createRoom', { token: bob.accessToken, body });
  if (res.status !== 200) throw new Error(`createRoom answered ${res.status}: ${JSON.stringify(res.body)}`);
  return res.body.room_id as string;
}
const lounge = await createRoom({
  preset: 'public_chat',
  visibility: 'public',
  name: 'Lounge',
  topic: 'chat',
});
const garden = await createRoom({ preset: 'public_chat', visibility: 'public', name: 'Garden' });
await createRoom({
  preset: 'public_chat',
  visibility: 'public',
  name: 'Local only',
  creation_content: { 'm.federate': false },
});

void t.test("A's user lists B's directory with server=B", async (t) => {
  const res = await a.request('GET', `/_matrix/client/v3/publicRooms?server=${b.serverName}`, {
    token: alice.accessToken,
  });
  t.equal(res.status, 200, JSON.stringify(res.body));
  const ids = res.body.chunk.map((r: { room_id: string }) => r.room_id).sort();
  t.same(ids, [lounge, garden].sort(), 'both rooms, not the one that does not federate');
  const loungeChunk = res.body.chunk.find((r: { room_id: string }) => r.room_id === lounge);
  t.match(loungeChunk, { name: 'Lounge', topic: 'chat', num_joined_members: 1, join_rule: 'public' });
  t.equal(res.body.total_room_count_estimate, 2);

  const page = await a.request('GET', `/_matrix/client/v3/publicRooms?server=${b.serverName}&limit=1`, {
    token: alice.accessToken,
  });
  t.equal(page.body.chunk.length, 1);
  t.type(page.body.next_batch, 'string', 'paginated by B');
});

void t.test('the filtered POST is asked of B', async (t) => {
  const res = await a.request('POST', `/_matrix/client/v3/publicRooms?server=${b.serverName}`, {
    token: alice.accessToken,
    body: { filter: { generic_search_term: 'gard' } },
  });
  t.equal(res.status, 200, JSON.stringify(res.body));
  t.same(
    res.body.chunk.map((r: { room_id: string }) => r.room_id),
    [garden],
  );
});

void t.test('asking another server needs an access token; a bad server name is 400', async (t) => {
  const anonymous = await a.request('GET', `/_matrix/client/v3/publicRooms?server=${b.serverName}`);
  t.equal(anonymous.status, 401);
  t.equal(anonymous.body.errcode, 'M_MISSING_TOKEN');
  const bad = await a.request('GET', '/_matrix/client/v3/publicRooms?server=bad%20name', {
    token: alice.accessToken,
  });
  t.equal(bad.status, 400);
  t.equal(bad.body.errcode, 'M_INVALID_PARAM');
});

void t.test('the federation endpoint needs X-Matrix', async (t) => {
  const res = await rawFederationRequest(ca, b.federationPort, 'GET', '/_matrix/federation/v1/publicRooms');
  t.equal(res.status, 401);
  t.equal(res.body.errcode, 'M_UNAUTHORIZED');
});

void t.test('an unreachable server is 502', async (t) => {
  const res = await a.request('GET', '/_matrix/client/v3/publicRooms?server=localhost:1', {
    token: alice.accessToken,
  });
  t.equal(res.status, 502, JSON.stringify(res.body));
  t.equal(res.body.errcode, 'M_UNKNOWN');
});
