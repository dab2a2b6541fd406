/**
 * Every room version, end to end over the client API: create (v1–2 mint `$opaque:server` event ids and
 * reference `[id, {sha256}]` pairs, v3 hashes in standard base64, v4+ URL-safe, v12 derives the room id
 * from the create event), join, send, set state, read back, redact; and every event the server made
 * passes the checks another server runs on receipt.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import t, { type Test } from 'tap';
import { referenceHashOf } from '../../../../core/protocol/event-builder.js';
import type { PduJson } from '../../../../core/protocol/pdu.js';
import { checkPduOnReceipt } from '../../../../core/protocol/pdu-receipt.js';
import type { VerifyKeyLookup } from '../../../../core/protocol/pdu-signatures.js';
import { isValidEventId, isValidRoomId } from '../../../../core/protocol/identifiers.js';
import { getRoomVersion, ROOM_VERSIONS } from '../../../../core/protocol/room-versions.js';
import { makeUser, openRegistrationConfig, type TestUser } from '../../../helpers/fixtures.js';
import { startServer, type TestServer } from '../../../helpers/start-server.js';
import { withAllDatabasesConcurrently } from '../../../helpers/with-all-databases.js';

/**
 * Every event of the room, in federation format, passes the receipt checks another server would run
 * (format, signatures with the server's key, content hash: only a redacted message fails it), and in
 * v1–2 every `[id, {sha256}]` reference carries the referenced event's reference hash.
 */
async function checkAsReceived(
  t: Test,
  server: TestServer,
  viewer: TestUser,
  roomId: string,
  id: string,
  minEvents: number,
): Promise<void> {
  const { roomsApi, signingKey, serverName } = server.kernel.container.cradle;
  const ownKey: VerifyKeyLookup = {
    getVerifyKey: (server, keyId) =>
      server === serverName && keyId === signingKey.keyId
        ? { publicKey: signingKey.publicKey, validUntilTs: Date.now() + 3_600_000 }
        : undefined,
  };
  const version = getRoomVersion(id)!;
  const upTo = await roomsApi.currentStreamPosition();
  const slice = await roomsApi.timeline(viewer.userId, roomId, { after: 0, upTo, limit: 100, withPdu: true });
  const pdus = new Map<string, PduJson>();
  for (const { pdu: federationEvent } of slice.events) {
    // The federation format names each event; v3+ PDUs carry no event_id, v11+ no top-level redacts.
    const { event_id: eventId, unsigned: _unsigned, ...pdu } = federationEvent;
    if (version.eventIdFormat === 'v1') (pdu as PduJson).event_id = eventId;
    if (version.redactsInContent) delete (pdu as PduJson).redacts;
    const verdict = await checkPduOnReceipt({ pdu, roomVersion: version, keys: ownKey, roomId });
    t.ok(verdict.accepted, `v${id} ${pdu.type} passes the receipt checks`);
    if (!verdict.accepted) continue;
    t.equal(verdict.eventId, eventId, `v${id} ${pdu.type}: the id is what another server computes`);
    t.equal(verdict.redacted, pdu.type === 'm.room.message' && Object.keys(pdu.content).length === 0);
    pdus.set(eventId, pdu);
  }
  t.ok(pdus.size >= minEvents, `v${id}: the whole room was read (${pdus.size} events)`);
  if (!version.eventReferencesAreTuples) return;
  for (const pdu of pdus.values()) {
    for (const ref of [...pdu.prev_events, ...pdu.auth_events]) {
      t.ok(Array.isArray(ref), `v${id} references are pairs`);
      if (!Array.isArray(ref)) continue;
      const target = pdus.get(ref[0]);
      t.ok(target, `v${id} the referenced event is in the room`);
      if (target) t.equal(ref[1].sha256, referenceHashOf(target, version), `v${id} reference hash`);
    }
  }
}

void t.test('every room version: create, join, send, state, read, redact', async (t) => {
  const server = await startServer(t, { config: { ...openRegistrationConfig } });
  const alice = await makeUser(server, { localpart: 'alice' });
  const bob = await makeUser(server, { localpart: 'bob' });
  const call = (user: TestUser, method: string, path: string, body?: unknown) =>
    server.request(method, path, { token: user.accessToken, body });
  const room = (roomId: string, rest: string) =>
    `/_matrix/client/v3/rooms/${encodeURIComponent(roomId)}${rest}`;
  let txn = 0;

  const versions = [...ROOM_VERSIONS.keys()];
  t.same(versions, ['1', '2', '3', '4', '5', '6', '7', '8', '9', '10', '11', '12']);
  for (const id of versions) {
    await t.test(`room version ${id}`, async (t) => {
      const version = getRoomVersion(id)!;
      const created = await call(alice, 'POST', '/_matrix/client/v3/createRoom', {
        room_version: id,
        preset: 'public_chat',
        name: `room v${id}`,
      });
      t.equal(created.status, 200, `createRoom: ${created.text}`);
      if (created.status !== 200) return;
      const roomId = created.body.room_id as string;
      t.ok(isValidRoomId(roomId, version), `room id ${roomId} has the v${id} form`);

      const create = await call(alice, 'GET', room(roomId, '/state/m.room.create'));
      t.equal(create.status, 200);
      t.equal(create.body.room_version, id);

      const joined = await call(bob, 'POST', room(roomId, '/join'), {});
      t.equal(joined.status, 200, `join: ${joined.text}`);

      const sent = await call(alice, 'PUT', room(roomId, `/send/m.room.message/t${++txn}`), {
        msgtype: 'm.text',
        body: `hello v${id}`,
      });
      t.equal(sent.status, 200, `send: ${sent.text}`);
      const messageId = sent.body.event_id as string;
      t.ok(isValidEventId(messageId, version), `event id ${messageId} has the v${id} form`);
      if (version.eventIdFormat === 'v1') t.match(messageId, /:test\.local$/, 'v1–2 ids carry the server');

      const reply = await call(bob, 'PUT', room(roomId, `/send/m.room.message/t${++txn}`), {
        msgtype: 'm.text',
        body: `reply v${id}`,
      });
      t.equal(reply.status, 200, `bob's send: ${reply.text}`);

      const topic = await call(alice, 'PUT', room(roomId, '/state/m.room.topic'), { topic: `topic v${id}` });
      t.equal(topic.status, 200, `set state: ${topic.text}`);
      const readTopic = await call(bob, 'GET', room(roomId, '/state/m.room.topic'));
      t.same(readTopic.body, { topic: `topic v${id}` });

      const event = await call(bob, 'GET', room(roomId, `/event/${encodeURIComponent(messageId)}`));
      t.equal(event.status, 200, `get event: ${event.text}`);
      t.equal(event.body.event_id, messageId);
      t.equal(event.body.content.body, `hello v${id}`);

      const messages = await call(bob, 'GET', room(roomId, '/messages?dir=b&limit=50'));
      t.equal(messages.status, 200, `messages: ${messages.text}`);
      const chunk = messages.body.chunk as { event_id: string; type: string; content: { body?: string } }[];
      t.same(
        chunk.filter((e) => e.type === 'm.room.message').map((e) => e.content.body),
        [`reply v${id}`, `hello v${id}`],
      );
      t.ok(
        chunk.some((e) => e.type === 'm.room.create'),
        'back to the create event',
      );
      t.ok(chunk.some((e) => e.type === 'm.room.topic' && e.event_id === topic.body.event_id));

      const redaction = await call(
        alice,
        'PUT',
        room(roomId, `/redact/${encodeURIComponent(messageId)}/r${++txn}`),
        {
          reason: 'test',
        },
      );
      t.equal(redaction.status, 200, `redact: ${redaction.text}`);
      t.ok(isValidEventId(redaction.body.event_id as string, version));
      const redacted = await call(bob, 'GET', room(roomId, `/event/${encodeURIComponent(messageId)}`));
      t.same(redacted.body.content, {}, 'the message is redacted');
      t.equal(redacted.body.unsigned?.redacted_because?.event_id, redaction.body.event_id);

      await checkAsReceived(t, server, alice, roomId, id, 8);

      const state = await call(bob, 'GET', room(roomId, '/state'));
      t.equal(state.status, 200);
      const members = (state.body as { type: string; state_key: string; content: { membership?: string } }[])
        .filter((e) => e.type === 'm.room.member')
        .map((e) => [e.state_key, e.content.membership]);
      t.same(
        new Map(members as [string, string][]),
        new Map([
          [alice.userId, 'join'],
          [bob.userId, 'join'],
        ]),
      );
    });
  }
});

void t.test('v1–2 rooms keep building on their events after a restart (hashes read back)', async (t) => {
  await withAllDatabasesConcurrently(t, async (t, database) => {
    const keyDir = await mkdtemp(join(tmpdir(), 'axon-key-'));
    t.teardown(() => rm(keyDir, { recursive: true, force: true }));
    const config = { ...openRegistrationConfig, signing_key_path: join(keyDir, 'signing.key') };
    const first = await startServer(t, { database, config });
    const alice = await makeUser(first, { localpart: 'alice' });
    const rooms = new Map<string, string>();
    for (const id of ['1', '2', '12']) {
      const created = await first.request('POST', '/_matrix/client/v3/createRoom', {
        token: alice.accessToken,
        body: { room_version: id },
      });
      t.equal(created.status, 200, created.text);
      rooms.set(id, created.body.room_id as string);
    }
    await first.stop();

    const second = await startServer(t, { database, config });
    for (const [id, roomId] of rooms) {
      const path = `/_matrix/client/v3/rooms/${encodeURIComponent(roomId)}`;
      const sent = await second.request('PUT', `${path}/send/m.room.message/after-restart`, {
        token: alice.accessToken,
        body: { msgtype: 'm.text', body: 'still here' },
      });
      t.equal(sent.status, 200, `v${id} send after restart: ${sent.text}`);
      const topic = await second.request('PUT', `${path}/state/m.room.topic`, {
        token: alice.accessToken,
        body: { topic: 'after restart' },
      });
      t.equal(topic.status, 200, `v${id} state after restart: ${topic.text}`);
      await checkAsReceived(t, second, alice, roomId, id, 7);
    }
  });
});
