/**
 * Two Axon servers sharing rooms end to end, every step through the client API as users do it: B's user
 * joins A's room (make_join/send_join), messages both ways (the outbound sender's transactions, the
 * inbound /send), an invite of a remote user accepted by a remote join, a kick, a leave; and a
 * partition: B down while A's users talk, everything delivered in order once B is back.
 */
import t from 'tap';
import { makeUser, openRegistrationConfig, type TestUser } from '../../../helpers/fixtures.js';
import { SyncStream } from './sync-stream.js';
import { makeTestCa, startFederatedServer, type FederatedServer } from './test-federation.js';

// eslint-disable-next-line @typescript-eslint/no-explicit-any
type Json = any;

const enc = encodeURIComponent;
const ca = await makeTestCa(t);
const a = await startFederatedServer(t, ca, { ...openRegistrationConfig });
const b = await startFederatedServer(t, ca, { ...openRegistrationConfig });
const alice = await makeUser(a, { localpart: 'alice' });
const bob = await makeUser(b, { localpart: 'bob' });

function timeline(body: Json, section: 'join' | 'leave', roomId: string): Json[] {
  return body.rooms?.[section]?.[roomId]?.timeline?.events ?? [];
}

/** The bodies of `sender`'s messages in the room's timeline, when there are any. */
function messagesIn(body: Json, roomId: string, sender: string): string[] | undefined {
  const bodies = timeline(body, 'join', roomId)
    .filter((e: Json) => e.type === 'm.room.message' && e.sender === sender)
    .map((e: Json) => e.content.body as string);
  return bodies.length > 0 ? bodies : undefined;
}

function membershipIn(body: Json, roomId: string, userId: string): string | undefined {
  for (const section of ['join', 'leave'] as const) {
    const room = body.rooms?.[section]?.[roomId];
    const events: Json[] = [...(room?.state?.events ?? []), ...(room?.timeline?.events ?? [])];
    const member = events.filter((e) => e.type === 'm.room.member' && e.state_key === userId).pop();
    if (member) return member.content.membership as string;
  }
  return undefined;
}

async function send(server: FederatedServer, user: TestUser, roomId: string, body: string): Promise<void> {
  const res = await server.request(
    'PUT',
    `/_matrix/client/v3/rooms/${enc(roomId)}/send/m.room.message/${enc(`${body}-${Math.random()}`)}`,
    { token: user.accessToken, body: { msgtype: 'm.text', body } },
  );
  if (res.status !== 200) throw new Error(`send answered ${res.status}: ${JSON.stringify(res.body)}`);
}

const created = await a.request('POST', '/_matrix/client/v3/createRoom', {
  token: alice.accessToken,
  body: { preset: 'public_chat', name: 'Two servers' },
});
const roomId = created.body.room_id as string;
const aliceSync = new SyncStream(a, alice, { timelineLimit: 100 });
const bobSync = new SyncStream(b, bob, { timelineLimit: 100 });
await aliceSync.next((body) => body.rooms?.join?.[roomId], 'the new room in alice’s sync');

void t.test('B’s user joins A’s room and both sides talk', async (t) => {
  const joined = await b.request('POST', `/_matrix/client/v3/join/${enc(roomId)}?via=${enc(a.serverName)}`, {
    token: bob.accessToken,
    body: {},
  });
  t.equal(joined.status, 200, JSON.stringify(joined.body));
  const seen = await aliceSync.next(
    (body) => (membershipIn(body, roomId, bob.userId) === 'join' ? true : undefined),
    'bob’s join at A',
  );
  t.ok(seen, 'A’s user sees B’s user join');

  await send(a, alice, roomId, 'hello from A');
  t.same(await bobSync.next((body) => messagesIn(body, roomId, alice.userId), 'A’s message at B'), [
    'hello from A',
  ]);

  await send(b, bob, roomId, 'hello from B');
  t.same(await aliceSync.next((body) => messagesIn(body, roomId, bob.userId), 'B’s message at A'), [
    'hello from B',
  ]);

  // A burst keeps its order across the servers.
  const burst = Array.from({ length: 30 }, (_, i) => `burst ${i}`);
  for (const m of burst) await send(a, alice, roomId, m);
  const got: string[] = [];
  while (got.length < burst.length) {
    got.push(...(await bobSync.next((body) => messagesIn(body, roomId, alice.userId), 'the burst at B')));
  }
  t.same(got, burst, 'every message once, in order');
});

void t.test('an invite of a remote user, accepted with a join over federation', async (t) => {
  const carol = await makeUser(b, { localpart: 'carol' });
  const carolSync = new SyncStream(b, carol, { timelineLimit: 100 });
  await carolSync.next(() => true, 'carol’s initial sync');
  const invited = await a.request('POST', `/_matrix/client/v3/rooms/${enc(roomId)}/invite`, {
    token: alice.accessToken,
    body: { user_id: carol.userId },
  });
  t.equal(invited.status, 200, JSON.stringify(invited.body));
  const invite = await carolSync.next((body) => body.rooms?.invite?.[roomId], 'the invite in carol’s sync');
  const state: Json[] = invite.invite_state?.events ?? [];
  t.ok(
    state.some((e) => e.type === 'm.room.member' && e.state_key === carol.userId),
    'invite_state holds the invite',
  );
  t.ok(
    state.some((e) => e.type === 'm.room.name' && e.content.name === 'Two servers'),
    'invite_state holds the room name',
  );
  const joined = await b.request('POST', `/_matrix/client/v3/rooms/${enc(roomId)}/join`, {
    token: carol.accessToken,
    body: {},
  });
  t.equal(joined.status, 200, JSON.stringify(joined.body));
  await aliceSync.next(
    (body) => (membershipIn(body, roomId, carol.userId) === 'join' ? true : undefined),
    'carol’s join at A',
  );
  await send(a, alice, roomId, 'welcome carol');
  const atCarol = await carolSync.next(
    (body) => messagesIn(body, roomId, alice.userId)?.filter((m) => m === 'welcome carol')[0],
    'A’s message at carol',
  );
  t.equal(atCarol, 'welcome carol');

  // Kicked on A: carol's own server shows it.
  const kicked = await a.request('POST', `/_matrix/client/v3/rooms/${enc(roomId)}/kick`, {
    token: alice.accessToken,
    body: { user_id: carol.userId, reason: 'test' },
  });
  t.equal(kicked.status, 200, JSON.stringify(kicked.body));
  const kick = await carolSync.next((body) => body.rooms?.leave?.[roomId], 'the kick in carol’s sync');
  t.ok(kick, 'the room moves to carol’s leave section');
});

void t.test('a leave from B reaches A', async (t) => {
  const left = await b.request('POST', `/_matrix/client/v3/rooms/${enc(roomId)}/leave`, {
    token: bob.accessToken,
    body: {},
  });
  t.equal(left.status, 200, JSON.stringify(left.body));
  await aliceSync.next(
    (body) => (membershipIn(body, roomId, bob.userId) === 'leave' ? true : undefined),
    'bob’s leave at A',
  );
  const members = await a.request('GET', `/_matrix/client/v3/rooms/${enc(roomId)}/joined_members`, {
    token: alice.accessToken,
  });
  t.notOk(members.body.joined?.[bob.userId], 'bob is no longer a joined member at A');
});
