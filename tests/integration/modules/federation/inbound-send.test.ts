/**
 * Inbound `PUT /_matrix/federation/v1/send/{txnId}` between two Axon servers over TLS: the test plays B
 * (which has no outbound room code yet), signing requests with B's client and events with B's real key, so
 * A fetches B's keys over TLS. What A's local user sees in /sync is the check.
 */
import t from 'tap';
import type { FederationRequestError } from '../../../../modules/federation/api.js';
import { makeUser, openRegistrationConfig } from '../../../helpers/fixtures.js';
import { canonicalJson } from '../../../../core/protocol/canonical-json.js';
import { signJson } from '../../../../core/protocol/signing.js';
import { formatXMatrix } from '../../../../modules/federation/services/x-matrix.js';
import { headAt, joinFrom, remoteEvent } from './remote-events.js';
import { makeTestCa, rawFederationRequest, startFederatedServer } from './test-federation.js';

const ca = await makeTestCa(t);
const a = await startFederatedServer(t, ca, { ...openRegistrationConfig });
const b = await startFederatedServer(t, ca);
const aCradle = a.kernel.container.cradle;
const alice = await makeUser(a, { localpart: 'alice' });
const bob = `@bob:${b.serverName}`;

const created = await a.request('POST', '/_matrix/client/v3/createRoom', {
  token: alice.accessToken,
  body: { preset: 'public_chat' },
});
const roomId = created.body.room_id as string;

let txnCounter = 0;
/** B sends a transaction to A. */
function send(body: unknown, txnId = `txn${++txnCounter}`): Promise<unknown> {
  return b.kernel.container.cradle.federationClient.request({
    method: 'PUT',
    destination: a.serverName,
    path: `/_matrix/federation/v1/send/${txnId}`,
    body,
  });
}
const txn = (pdus: unknown[], edus: unknown[] = []): Record<string, unknown> => ({
  origin: b.serverName,
  origin_server_ts: Date.now(),
  pdus,
  edus,
});

async function timelineOfAlice(): Promise<{ event_id: string; content: Record<string, unknown> }[]> {
  const sync = await a.request('GET', '/_matrix/client/v3/sync', { token: alice.accessToken });
  return sync.body.rooms?.join?.[roomId]?.timeline?.events ?? [];
}

void t.test('a join and a message from B reach A’s user; a replayed txn is idempotent', async (t) => {
  const join = await remoteEvent(a, b, roomId, {
    sender: bob,
    type: 'm.room.member',
    state_key: bob,
    content: { membership: 'join' },
  });
  t.same(await send(txn([join.pdu]), 'join-1'), { pdus: { [join.eventId]: {} } });
  const hello = await remoteEvent(a, b, roomId, {
    sender: bob,
    type: 'm.room.message',
    content: { msgtype: 'm.text', body: 'hello from B' },
  });
  const response = await send(txn([hello.pdu]), 'hello-1');
  t.same(response, { pdus: { [hello.eventId]: {} } });
  const seen = await timelineOfAlice();
  t.ok(
    seen.some((e) => e.event_id === hello.eventId && e.content['body'] === 'hello from B'),
    'the message is in alice’s /sync',
  );

  const before = await aCradle.db('rooms_events').count({ n: '*' }).first();
  const other = await remoteEvent(a, b, roomId, {
    sender: bob,
    type: 'm.room.message',
    content: { body: 'never processed' },
  });
  t.same(await send(txn([other.pdu]), 'hello-1'), response, 'same txn id: the first answer');
  const after = await aCradle.db('rooms_events').count({ n: '*' }).first();
  t.same(after, before, 'nothing new stored');
});

void t.test('a transaction of 50 chained messages in one room', async (t) => {
  const base = await headAt(a, roomId);
  const pdus: unknown[] = [];
  const ids: string[] = [];
  let prev = base.prevEvents;
  for (let i = 0; i < 50; i++) {
    const e = await remoteEvent(
      a,
      b,
      roomId,
      { sender: bob, type: 'm.room.message', content: { msgtype: 'm.text', body: `n${i}` } },
      { ...base, prevEvents: prev, depth: base.depth + i },
    );
    pdus.push(e.pdu);
    ids.push(e.eventId);
    prev = [e.eventId];
  }
  const started = process.hrtime.bigint();
  const answer = (await send(txn(pdus))) as { pdus: Record<string, unknown> };
  const ms = Number(process.hrtime.bigint() - started) / 1e6;
  t.comment(`PUT /send of 50 PDUs (one room, signed request, keys cached): ${ms.toFixed(1)} ms`);
  t.same(Object.keys(answer.pdus).sort(), [...ids].sort());
  t.ok(
    Object.values(answer.pdus).every((r) => JSON.stringify(r) === '{}'),
    'all accepted',
  );
  t.same((await headAt(a, roomId)).prevEvents, [ids[49]], 'the last is the forward extremity');
});

void t.test('bad signature, bad hash, unauthorised sender, origin mismatch', async (t) => {
  const forged = await remoteEvent(a, b, roomId, {
    sender: bob,
    type: 'm.room.message',
    content: { body: 'forged' },
  });
  const sig = forged.pdu.signatures[b.serverName]![b.signingKey.keyId]!;
  forged.pdu.signatures[b.serverName]![b.signingKey.keyId] = (sig[0] === 'A' ? 'B' : 'A') + sig.slice(1);
  const forgedAnswer = (await send(txn([forged.pdu]))) as { pdus: Record<string, { error?: string }> };
  t.match(forgedAnswer.pdus[forged.eventId], { error: /signature/ }, 'a per-PDU error');
  t.notOk(await aCradle.roomsEventStore.getEvent(forged.eventId), 'dropped');

  const tampered = await remoteEvent(a, b, roomId, {
    sender: bob,
    type: 'm.room.message',
    content: { msgtype: 'm.text', body: 'original' },
  });
  tampered.pdu.content = { msgtype: 'm.text', body: 'tampered' };
  t.same(await send(txn([tampered.pdu])), { pdus: { [tampered.eventId]: {} } });
  const inSync = (await timelineOfAlice()).find((e) => e.event_id === tampered.eventId);
  t.same(inSync?.content, {}, 'kept in its redacted form');

  const mallory = await remoteEvent(a, b, roomId, {
    sender: `@mallory:${b.serverName}`,
    type: 'm.room.message',
    content: { body: 'not joined' },
  });
  t.same(await send(txn([mallory.pdu])), { pdus: { [mallory.eventId]: {} } }, 'accepted for processing');
  const stored = await aCradle.roomsEventStore.getEvent(mallory.eventId);
  t.match(stored?.rejectedReason, /not joined/, 'stored rejected, with why');
  t.notOk(
    (await timelineOfAlice()).some((e) => e.event_id === mallory.eventId),
    'not in /sync',
  );

  const eve = await remoteEvent(a, b, roomId, {
    sender: '@eve:elsewhere.test',
    type: 'm.room.message',
    content: { body: 'relayed' },
  });
  const eveAnswer = (await send(txn([eve.pdu]))) as { pdus: Record<string, { error?: string }> };
  t.match(eveAnswer.pdus[eve.eventId], { error: /origin/ });
  t.notOk(await aCradle.roomsEventStore.getEvent(eve.eventId));
});

void t.test('an event the current state no longer allows is soft-failed', async (t) => {
  const beforeBan = await headAt(a, roomId);
  const ban = await a.request('POST', `/_matrix/client/v3/rooms/${encodeURIComponent(roomId)}/ban`, {
    token: alice.accessToken,
    body: { user_id: bob },
  });
  t.equal(ban.status, 200);
  const late = await remoteEvent(
    a,
    b,
    roomId,
    { sender: bob, type: 'm.room.message', content: { body: 'sent before B saw the ban' } },
    beforeBan,
  );
  t.same(await send(txn([late.pdu])), { pdus: { [late.eventId]: {} } });
  t.notOk(await aCradle.roomsEventStore.getEvent(late.eventId), 'not in the room’s timeline');
  t.match(await aCradle.roomsSoftFailedStore.get(late.eventId), { reason: /not joined/ }, 'kept aside');
  t.notOk(
    (await timelineOfAlice()).some((e) => e.event_id === late.eventId),
    'not in /sync',
  );
  t.notOk((await headAt(a, roomId)).prevEvents.includes(late.eventId), 'not a forward extremity');
});

void t.test('EDUs go to their registered handler; unknown types are ignored', async (t) => {
  const got: unknown[] = [];
  aCradle.federationHandlers.registerEduHandler('org.axon.test', async (edu) => {
    got.push(edu);
  });
  t.same(
    await send(
      txn(
        [],
        [
          { edu_type: 'org.axon.test', content: { n: 1 } },
          { edu_type: 'org.axon.unknown', content: {} },
        ],
      ),
    ),
    { pdus: {} },
  );
  t.same(got, [{ origin: b.serverName, content: { n: 1 } }]);
});

void t.test('malformed transactions: 400 M_BAD_JSON', async (t) => {
  const bad = async (body: unknown): Promise<FederationRequestError> => {
    try {
      await send(body);
    } catch (err) {
      return err as FederationRequestError;
    }
    throw new Error('accepted');
  };
  for (const body of [
    [],
    { pdus: 'x' },
    { origin: b.serverName },
    { pdus: new Array(51).fill({}) },
    { pdus: [], edus: new Array(101).fill({ edu_type: 'x', content: {} }) },
    { pdus: [], edus: [{ content: {} }] },
    { pdus: [], origin_server_ts: 'now' },
  ]) {
    const err = await bad(body);
    t.equal(err.status, 400, JSON.stringify(body).slice(0, 60));
    t.equal(err.errcode, 'M_BAD_JSON');
  }
  // PDUs that are not events of a known room are answered without crashing the transaction.
  const answer = (await send(txn([42, 'x', { room_id: '!unknown:x' }, { room_id: roomId, type: 3 }]))) as {
    pdus: Record<string, unknown>;
  };
  t.same(answer, { pdus: {} });
});

void t.test('PDUs of a server the room’s ACL denies get a per-PDU error', async (t) => {
  const res = await a.request(
    'PUT',
    `/_matrix/client/v3/rooms/${encodeURIComponent(roomId)}/state/m.room.server_acl/`,
    // Both test servers are named localhost:PORT and ACLs ignore the port: deny everyone but A by IP.
    { token: alice.accessToken, body: { allow: ['127.0.0.1'], deny: ['localhost'] } },
  );
  t.equal(res.status, 200);
  const msg = await remoteEvent(a, b, roomId, {
    sender: bob,
    type: 'm.room.message',
    content: { body: 'acl' },
  });
  const answer = (await send(txn([msg.pdu]))) as { pdus: Record<string, { error?: string }> };
  t.match(answer.pdus[msg.eventId], { error: /server ACL/ });
  t.notOk(await aCradle.roomsEventStore.getEvent(msg.eventId));
});

void t.test('an integer beyond 2^53 in a v5 room’s PDU keeps its digits (lossless /send body)', async (t) => {
  const created5 = await a.request('POST', '/_matrix/client/v3/createRoom', {
    token: alice.accessToken,
    body: { preset: 'public_chat', room_version: '5' },
  });
  const room5 = created5.body.room_id as string;
  await joinFrom(a, b, room5, bob);
  const big = 12345678901234567890123n; // JSON.parse would make it 1.2345678901234568e22
  const msg = await remoteEvent(a, b, room5, {
    sender: bob,
    type: 'm.room.message',
    content: { msgtype: 'm.text', body: 'big', n: big as unknown as number },
  });
  // B's client writes JSON with JSON.stringify, which has no bigint: the request is made by hand.
  const path = '/_matrix/federation/v1/send/lossless-1';
  const content = { origin: b.serverName, origin_server_ts: Date.now(), pdus: [msg.pdu] };
  const signed = signJson(
    { method: 'PUT', uri: path, origin: b.serverName, destination: a.serverName, content },
    b.serverName,
    b.signingKey,
  );
  const res = await rawFederationRequest(
    ca,
    a.federationPort,
    'PUT',
    path,
    {
      'content-type': 'application/json',
      authorization: formatXMatrix({
        origin: b.serverName,
        destination: a.serverName,
        key: b.signingKey.keyId,
        sig: signed.signatures[b.serverName]![b.signingKey.keyId]!,
      }),
    },
    canonicalJson(content, { strict: false }),
  );
  t.equal(res.status, 200);
  t.same(res.body, { pdus: { [msg.eventId]: {} } }, 'the hash and signatures check out on every digit');
  const row = (await aCradle.db('rooms_events').where({ event_id: msg.eventId }).first()) as { json: string };
  t.match(row.json, /"n":12345678901234567890123\b/, 'stored with every digit');
  const sync = await a.request('GET', '/_matrix/client/v3/sync', { token: alice.accessToken });
  t.equal(sync.status, 200, '/sync serves it');
  const served = (sync.body.rooms.join[room5].timeline.events as { event_id: string }[]).some(
    (e) => e.event_id === msg.eventId,
  );
  t.ok(served, 'in alice’s timeline');
});

void t.test('federation bodies have their own limit: a 2 MiB transaction is accepted', async (t) => {
  const edu = { edu_type: 'org.axon.unknown', content: { filler: 'x'.repeat(2 * 1024 * 1024) } };
  t.same(await send(txn([], [edu])), { pdus: {} }, 'above the client API’s 1 MiB');
});

void t.test('answers to old transactions are pruned after a day', async (t) => {
  const now = Date.now();
  await aCradle.db('federation_inbound_txns').insert({
    origin: b.serverName,
    txn_id: 'ancient',
    response_json: '{"pdus":{}}',
    received_ts: now - 25 * 3_600_000,
  });
  t.same(await send(txn([]), 'fresh'), { pdus: {} });
  await aCradle.federationTransactions.pruneWhenDue(now + 3_600_000);
  const left: { txn_id: string }[] = await aCradle
    .db('federation_inbound_txns')
    .where({ origin: b.serverName })
    .select('txn_id');
  t.notOk(
    left.some((r) => r.txn_id === 'ancient'),
    'the day-old answer is gone',
  );
  t.ok(
    left.some((r) => r.txn_id === 'fresh'),
    'a recent one stays',
  );
});
