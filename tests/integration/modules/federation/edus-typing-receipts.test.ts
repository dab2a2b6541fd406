/**
 * Typing notifications and read receipts between two Axon servers (server-server API "Typing
 * Notifications", "Receipts"): B's user joins A's room through the client API, then each side types, stops
 * and sends a read receipt, and the other side's user sees it in /sync `ephemeral`. Last, a transaction
 * signed by B with malformed and foreign EDUs beside a valid PDU: the PDU is accepted, the bad EDUs dropped.
 */
import t from 'tap';
import { makeUser, openRegistrationConfig, type TestUser } from '../../../helpers/fixtures.js';
import { remoteEvent } from './remote-events.js';
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

function ephemeral(body: Json, roomId: string, type: string): Json[] {
  const events: Json[] = body.rooms?.join?.[roomId]?.ephemeral?.events ?? [];
  return events.filter((e) => e.type === type);
}

/** The typing list of the room when the sync carries one. */
function typingIn(body: Json, roomId: string): string[] | undefined {
  return ephemeral(body, roomId, 'm.typing').pop()?.content.user_ids as string[] | undefined;
}

/** `userId`'s m.read receipt on `eventId` when the sync carries it. */
function readReceipt(body: Json, roomId: string, eventId: string, userId: string): Json {
  for (const e of ephemeral(body, roomId, 'm.receipt')) {
    const receipt = e.content[eventId]?.['m.read']?.[userId];
    if (receipt) return receipt;
  }
  return undefined;
}

async function call(
  server: FederatedServer,
  user: TestUser,
  method: 'PUT' | 'POST',
  path: string,
  body: Json,
) {
  const res = await server.request(method, path, { token: user.accessToken, body });
  if (res.status !== 200) throw new Error(`${path} answered ${res.status}: ${JSON.stringify(res.body)}`);
  return res.body;
}

const created = await call(a, alice, 'POST', '/_matrix/client/v3/createRoom', { preset: 'public_chat' });
const roomId = created.room_id as string;
const aliceSync = new SyncStream(a, alice, { timeoutMs: 15_000 });
const bobSync = new SyncStream(b, bob, { timeoutMs: 15_000 });
await aliceSync.next((body) => body.rooms?.join?.[roomId], 'the new room in alice’s sync');
await call(b, bob, 'POST', `/_matrix/client/v3/join/${enc(roomId)}?via=${enc(a.serverName)}`, {});
await bobSync.next((body) => body.rooms?.join?.[roomId], 'the room in bob’s sync');
await aliceSync.next((body) => body.rooms?.join?.[roomId], 'bob’s join in alice’s sync');

const typing = (server: FederatedServer, user: TestUser, on: boolean) =>
  call(server, user, 'PUT', `/_matrix/client/v3/rooms/${enc(roomId)}/typing/${enc(user.userId)}`, {
    typing: on,
    timeout: 20_000,
  });
const message = async (server: FederatedServer, user: TestUser, body: string): Promise<string> =>
  (
    await call(
      server,
      user,
      'PUT',
      `/_matrix/client/v3/rooms/${enc(roomId)}/send/m.room.message/${Math.random()}`,
      {
        msgtype: 'm.text',
        body,
      },
    )
  ).event_id as string;

void t.test('A’s user types, stops and reads; B’s user sees each', async (t) => {
  await typing(a, alice, true);
  await bobSync.next(
    (body) => (typingIn(body, roomId)?.includes(alice.userId) ? true : undefined),
    'alice typing',
  );
  await typing(a, alice, false);
  const after = await bobSync.next((body) => {
    const list = typingIn(body, roomId);
    return list && !list.includes(alice.userId) ? list : undefined;
  }, 'alice stopped typing');
  t.same(after, [], 'the typing list is cleared at B');

  const eventId = await message(a, alice, 'read me');
  await bobSync.next(
    (body) => (body.rooms?.join?.[roomId]?.timeline?.events.length ? true : undefined),
    'the message',
  );
  // A private receipt first: it must never leave A (B would store it before the public one that follows).
  await call(
    a,
    alice,
    'POST',
    `/_matrix/client/v3/rooms/${enc(roomId)}/receipt/m.read.private/${enc(eventId)}`,
    {},
  );
  await call(a, alice, 'POST', `/_matrix/client/v3/rooms/${enc(roomId)}/receipt/m.read/${enc(eventId)}`, {});
  const receipt = await bobSync.next(
    (body) => readReceipt(body, roomId, eventId, alice.userId),
    'alice’s receipt',
  );
  t.type(receipt.ts, 'number', 'with the ts alice’s server gave it');
  const stored = await b.kernel.container.cradle.receiptsStore.forUser(roomId, alice.userId);
  t.same(
    stored.map((r) => [r.receiptType, r.eventId]),
    [['m.read', eventId]],
    'stored at B; the private receipt never came',
  );
});

void t.test('B’s user types, stops and reads a threaded receipt; A’s user sees each', async (t) => {
  await typing(b, bob, true);
  await aliceSync.next(
    (body) => (typingIn(body, roomId)?.includes(bob.userId) ? true : undefined),
    'bob typing',
  );
  await typing(b, bob, false);
  await aliceSync.next(
    (body) => (typingIn(body, roomId)?.includes(bob.userId) === false ? true : undefined),
    'bob stopped typing',
  );

  const eventId = await message(a, alice, 'read me too');
  await bobSync.next(
    (body) =>
      body.rooms?.join?.[roomId]?.timeline?.events.some((e: Json) => e.event_id === eventId)
        ? true
        : undefined,
    'the second message at B',
  );
  await call(b, bob, 'POST', `/_matrix/client/v3/rooms/${enc(roomId)}/receipt/m.read/${enc(eventId)}`, {
    thread_id: 'main',
  });
  const receipt = await aliceSync.next(
    (body) => readReceipt(body, roomId, eventId, bob.userId),
    'bob’s receipt',
  );
  t.equal(receipt.thread_id, 'main', 'the thread id travels');
});

void t.test('malformed and foreign EDUs are dropped; the PDUs of the transaction are taken', async (t) => {
  const hello = await remoteEvent(a, b, roomId, {
    sender: bob.userId,
    type: 'm.room.message',
    content: { msgtype: 'm.text', body: 'beside bad EDUs' },
  });
  const before = await a.kernel.container.cradle.receiptsStore.forUser(roomId, alice.userId);
  const edus = [
    { edu_type: 'm.typing', content: 'not an object' },
    { edu_type: 'm.typing', content: { room_id: roomId, user_id: bob.userId, typing: 'yes' } },
    // A's own user, claimed by B.
    { edu_type: 'm.typing', content: { room_id: roomId, user_id: alice.userId, typing: true } },
    { edu_type: 'm.receipt', content: [1, 2] },
    { edu_type: 'm.receipt', content: { [roomId]: { 'm.read': { [bob.userId]: { event_ids: 'x' } } } } },
    {
      edu_type: 'm.receipt',
      content: {
        [roomId]: { 'm.read': { [alice.userId]: { event_ids: [hello.eventId], data: { ts: 1 } } } },
      },
    },
    // The valid one, with a short timeout: bob types at A, then stops by himself.
    { edu_type: 'm.typing', content: { room_id: roomId, user_id: bob.userId, typing: true, timeout: 300 } },
  ];
  const answer = await b.kernel.container.cradle.federationClient.request({
    method: 'PUT',
    destination: a.serverName,
    path: `/_matrix/federation/v1/send/edus-${Date.now()}`,
    body: { origin: b.serverName, origin_server_ts: Date.now(), pdus: [hello.pdu], edus },
  });
  t.same(answer, { pdus: { [hello.eventId]: {} } }, 'the PDU is accepted');
  const seen = await aliceSync.next((body) => {
    const events: Json[] = body.rooms?.join?.[roomId]?.timeline?.events ?? [];
    return events.some((e) => e.event_id === hello.eventId) ? typingIn(body, roomId) : undefined;
  }, 'the message from the transaction');
  t.same(seen, [bob.userId], 'only the valid typing EDU counted');
  await aliceSync.next(
    (body) => (typingIn(body, roomId)?.includes(bob.userId) === false ? true : undefined),
    'bob’s typing expiring after the EDU’s timeout',
  );
  t.same(
    await a.kernel.container.cradle.receiptsStore.forUser(roomId, alice.userId),
    before,
    'no receipt of A’s user taken from B',
  );
});
