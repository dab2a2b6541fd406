/**
 * Knocks across two Axon servers over TLS: B's user knocks on A's room (make_knock / send_knock through
 * `POST /knock?via=`), A's user sees the knock and invites, B's user sees the knock, then the invite, in
 * /sync; a knock retracted by leaving; the resident side's refusals.
 */
import t from 'tap';
import { makeUser, openRegistrationConfig } from '../../../helpers/fixtures.js';
import { failure, makeTestCa, startFederatedServer } from './test-federation.js';

// eslint-disable-next-line @typescript-eslint/no-explicit-any
type Json = any;
const enc = encodeURIComponent;
const ca = await makeTestCa(t);
const a = await startFederatedServer(t, ca, { ...openRegistrationConfig });
const b = await startFederatedServer(t, ca, { ...openRegistrationConfig });
const alice = await makeUser(a, { localpart: 'alice' });
const bob = await makeUser(b, { localpart: 'bob' });

async function knockableRoom(version = '12', joinRule = 'knock'): Promise<string> {
  const res = await a.request('POST', '/_matrix/client/v3/createRoom', {
    token: alice.accessToken,
    body: {
      preset: 'private_chat',
      name: 'Knock here',
      room_version: version,
      initial_state: [{ type: 'm.room.join_rules', state_key: '', content: { join_rule: joinRule } }],
    },
  });
  return res.body.room_id as string;
}

const knock = (roomId: string) =>
  b.request('POST', `/_matrix/client/v3/knock/${enc(roomId)}?via=${enc(a.serverName)}`, {
    token: bob.accessToken,
    body: { reason: 'let me in' },
  });

void t.test('B’s user knocks, A’s user sees it and invites', async (t) => {
  const roomId = await knockableRoom();
  const aliceSince = (await a.request('GET', '/_matrix/client/v3/sync', { token: alice.accessToken })).body
    .next_batch as string;

  const knocked = await knock(roomId);
  t.equal(knocked.status, 200, JSON.stringify(knocked.body));
  t.same(knocked.body, { room_id: roomId });

  t.same(await a.kernel.container.cradle.roomsApi.members(roomId, 'knock'), [bob.userId], 'A: bob knocks');
  const aliceSync = await a.request('GET', `/_matrix/client/v3/sync?since=${enc(aliceSince)}`, {
    token: alice.accessToken,
  });
  const timeline = aliceSync.body.rooms.join[roomId].timeline.events as Json[];
  t.ok(
    timeline.some(
      (e) =>
        e.state_key === bob.userId && e.content.membership === 'knock' && e.content.reason === 'let me in',
    ),
    'alice sees the knock',
  );

  const bobSync = await b.request('GET', '/_matrix/client/v3/sync', { token: bob.accessToken });
  const state = bobSync.body.rooms.knock[roomId]?.knock_state.events as Json[];
  t.ok(state, 'bob’s sync: rooms.knock');
  t.ok(state.some((e) => e.type === 'm.room.create'));
  t.ok(state.some((e) => e.type === 'm.room.join_rules' && e.content.join_rule === 'knock'));
  t.ok(state.some((e) => e.type === 'm.room.name' && e.content.name === 'Knock here'));
  t.ok(state.some((e) => e.type === 'm.room.member' && e.content.membership === 'knock'));

  const invited = await a.request('POST', `/_matrix/client/v3/rooms/${enc(roomId)}/invite`, {
    token: alice.accessToken,
    body: { user_id: bob.userId },
  });
  t.equal(invited.status, 200, JSON.stringify(invited.body));
  const after = await b.request('GET', `/_matrix/client/v3/sync?since=${enc(bobSync.body.next_batch)}`, {
    token: bob.accessToken,
  });
  t.ok(after.body.rooms.invite[roomId], 'the knock became an invite');
  const initial = await b.request('GET', '/_matrix/client/v3/sync', { token: bob.accessToken });
  t.ok(initial.body.rooms.invite[roomId]);
  t.notOk(initial.body.rooms.knock[roomId], 'no longer a knock');
});

void t.test('a knock is retracted by leaving', async (t) => {
  const roomId = await knockableRoom('10');
  t.equal((await knock(roomId)).status, 200);
  const left = await b.request('POST', `/_matrix/client/v3/rooms/${enc(roomId)}/leave`, {
    token: bob.accessToken,
    body: {},
  });
  t.equal(left.status, 200, JSON.stringify(left.body));
  t.same(await a.kernel.container.cradle.roomsApi.members(roomId, 'leave'), [bob.userId]);
  const sync = await b.request('GET', '/_matrix/client/v3/sync', { token: bob.accessToken });
  t.notOk(sync.body.rooms.knock[roomId]);
});

void t.test('knocks the room does not allow', async (t) => {
  const inviteOnly = await knockableRoom('12', 'invite');
  const refused = await knock(inviteOnly);
  t.equal(refused.status, 403, 'invite-only');
  const old = await knockableRoom('6', 'invite');
  t.equal((await knock(old)).status, 403, 'room version 6 has no knocking');
  const nowhere = await b.request('POST', `/_matrix/client/v3/knock/${enc('!nope:' + a.serverName)}`, {
    token: bob.accessToken,
    body: {},
  });
  t.equal(nowhere.status, 404, 'unknown room at A');

  const roomId = await knockableRoom();
  const mk = (query?: Record<string, string | string[]>) =>
    b.kernel.container.cradle.federationClient.request({
      method: 'GET',
      destination: a.serverName,
      path: `/_matrix/federation/v1/make_knock/${enc(roomId)}/${enc(bob.userId)}`,
      query,
    });
  t.equal((await failure(mk())).errcode, 'M_MISSING_PARAM', 'ver is required');
  const incompatible = await failure(mk({ ver: ['10', '11'] }));
  t.equal(incompatible.errcode, 'M_INCOMPATIBLE_ROOM_VERSION');
  const template = (await mk({ ver: '12' })) as Json;
  t.match(template, {
    room_version: '12',
    event: { content: { membership: 'knock' }, state_key: bob.userId },
  });
  const notB = await failure(
    b.kernel.container.cradle.federationClient.request({
      method: 'GET',
      destination: a.serverName,
      path: `/_matrix/federation/v1/make_knock/${enc(roomId)}/${enc(alice.userId)}`,
      query: { ver: '12' },
    }),
  );
  t.equal(notB.status, 403, 'a user of another server');
  const notKnock = await failure(
    b.kernel.container.cradle.federationClient.request({
      method: 'PUT',
      destination: a.serverName,
      path: `/_matrix/federation/v1/send_knock/${enc(roomId)}/$x`,
      body: { ...template.event, content: { membership: 'join' } },
    }),
  );
  t.equal(notKnock.errcode, 'M_BAD_JSON');
});

void t.test('send_knock answers under both names; a Synapse 1.37–1.69 answer is understood', async (t) => {
  // Synapse before 1.70 reads (and sends) the knock's room state only as `knock_state_events`.
  const client = b.kernel.container.cradle.federationClient;
  const request = client.request.bind(client);
  const answers: Json[] = [];
  client.request = async (req) => {
    const answer = (await request(req)) as Json;
    if (!req.path.includes('/send_knock/')) return answer;
    answers.push(structuredClone(answer));
    const { knock_room_state: state, ...rest } = answer;
    return { ...rest, knock_state_events: state };
  };
  t.teardown(() => {
    client.request = request;
  });

  const roomId = await knockableRoom('10');
  const carol = await makeUser(b, { localpart: 'carol' });
  const knocked = await b.request(
    'POST',
    `/_matrix/client/v3/knock/${enc(roomId)}?via=${enc(a.serverName)}`,
    {
      token: carol.accessToken,
      body: {},
    },
  );
  t.equal(knocked.status, 200, JSON.stringify(knocked.body));
  t.equal(answers.length, 1);
  t.ok(
    answers[0].knock_room_state.some((e: Json) => e.type === 'm.room.create'),
    'A: knock_room_state',
  );
  t.same(answers[0].knock_state_events, answers[0].knock_room_state, 'A: the same under the old name');

  const sync = await b.request('GET', '/_matrix/client/v3/sync', { token: carol.accessToken });
  const state = sync.body.rooms.knock[roomId]?.knock_state.events as Json[];
  t.ok(
    state?.some((e) => e.type === 'm.room.name' && e.content.name === 'Knock here'),
    'B kept the state',
  );
});
