/**
 * The receive pipeline (modules/rooms/services/federated-event-receiver.ts) on both engines, with a room
 * created locally and hand-built PDUs from a remote server whose key the test's lookup knows: a remote
 * join and message, a bad signature, a bad content hash, an unauthorised event, a soft-failed event,
 * missing prev_events and a replay.
 */
import t from 'tap';
import { asValue } from 'awilix';
import { createAxonContainer, type Cradle } from '../../../../../core/container.js';
import { createLogger } from '../../../../../core/logger.js';
import { InProcessNotifier } from '../../../../../core/notifier/in-process.js';
import { SpamCheckerRegistry } from '../../../../../core/plugins/registry/spam-checker.js';
import { authEventsSelection } from '../../../../../core/protocol/auth-events-selection.js';
import { buildEvent } from '../../../../../core/protocol/event-builder.js';
import type { JsonObject, PduJson } from '../../../../../core/protocol/pdu.js';
import type { VerifyKeyLookup } from '../../../../../core/protocol/pdu-signatures.js';
import { generateSigningKey } from '../../../../../core/protocol/signing-key.js';
import { openDatabase } from '../../../../../core/storage/database.js';
import { migrateToLatest } from '../../../../../core/storage/migrate.js';
import rooms from '../../../../../modules/rooms/index.js';
import { withAllDatabases } from '../../../../helpers/with-all-databases.js';

const REMOTE = 'remote.test';
const remoteKey = generateSigningKey();
const keys: VerifyKeyLookup = {
  getVerifyKey: (server, keyId) =>
    server === REMOTE && keyId === remoteKey.keyId
      ? { publicKey: remoteKey.publicKey, validUntilTs: Date.now() + 86_400_000 }
      : undefined,
};

/** A PDU of the remote server on the room's current head (or on `prev`), auth events chosen from the head. */
async function remoteEvent(
  c: Cradle,
  roomId: string,
  draft: { sender: string; type: string; state_key?: string; content: JsonObject },
  prev?: { eventIds: string[]; depth: number },
): Promise<{ eventId: string; pdu: PduJson }> {
  const head = (await c.roomsHeads.get(roomId))!;
  const auth = authEventsSelection(draft, head.version)
    .map((k) => head.state.get(k)?.eventId)
    .filter((id): id is string => id !== undefined);
  const built = buildEvent({
    roomVersion: head.version,
    serverName: REMOTE,
    key: remoteKey,
    partial: {
      room_id: roomId,
      ...draft,
      prev_events: prev?.eventIds ?? head.extremities,
      auth_events: auth,
      depth: prev?.depth ?? head.maxDepth + 1,
    },
  });
  return { eventId: built.eventId, pdu: built.pdu };
}

void t.test('the receive pipeline', async (t) => {
  await withAllDatabases(t, async (t, database) => {
    const db = await openDatabase(database, process.cwd());
    t.teardown(() => db.destroy());
    const logger = createLogger('silent');
    await migrateToLatest(db, [rooms], logger);
    const container = createAxonContainer();
    const deps = {
      db,
      logger,
      serverName: 'x.test',
      signingKey: generateSigningKey(),
      notifier: new InProcessNotifier(),
      spamCheckers: new SpamCheckerRegistry({ logger }),
    };
    for (const [name, value] of Object.entries(deps)) container.register(name, asValue(value));
    container.register('authApi', asValue({ getProfile: () => Promise.resolve(undefined) }));
    rooms.register({ container, config: { default_room_version: '12' }, logger });
    const c = container.cradle;
    const api = c.roomsFederationApi;
    const alice = { userId: '@alice:x.test', deviceId: 'D' };
    const bob = `@bob:${REMOTE}`;
    const roomId = await c.roomsCreation.createRoom(alice, { preset: 'public_chat' });

    const join = await remoteEvent(c, roomId, {
      sender: bob,
      type: 'm.room.member',
      state_key: bob,
      content: { membership: 'join' },
    });
    const joined = await api.receivePdu({ pdu: join.pdu, keys });
    t.match(joined, { status: 'persisted', eventId: join.eventId, redacted: false });
    t.same(await c.roomsApi.members(roomId), ['@alice:x.test', bob].sort(), 'bob is a member');
    t.same((await c.roomsHeads.get(roomId))!.extremities, [join.eventId], 'the join is the extremity');

    t.match(await api.receivePdu({ pdu: join.pdu, keys }), { status: 'already_known' }, 'a replay');

    const hello = await remoteEvent(c, roomId, {
      sender: bob,
      type: 'm.room.message',
      content: { msgtype: 'm.text', body: 'hello' },
    });
    t.match(await api.receivePdu({ pdu: hello.pdu, keys }), { status: 'persisted' });
    t.match(await c.roomsApi.getEvent(hello.eventId), { content: { body: 'hello' }, sender: bob });

    // A bad signature: dropped, nothing stored.
    const forged = await remoteEvent(c, roomId, {
      sender: bob,
      type: 'm.room.message',
      content: { body: 'forged' },
    });
    const sigs = forged.pdu.signatures[REMOTE]!;
    const forgedPdu = {
      ...forged.pdu,
      signatures: { [REMOTE]: { [remoteKey.keyId]: 'A' + sigs[remoteKey.keyId]!.slice(1) } },
    };
    t.match(await api.receivePdu({ pdu: forgedPdu, keys }), { status: 'refused', code: 'signatures' });
    t.equal(await c.roomsEventStore.getEvent(forged.eventId), undefined);
    const unsigned = { ...forged.pdu, signatures: {} };
    t.match(await api.receivePdu({ pdu: unsigned, keys }), { status: 'refused', code: 'signatures' });

    // A bad content hash: the content is not signed (only its hash is), so the event is kept redacted.
    const tampered = await remoteEvent(c, roomId, {
      sender: bob,
      type: 'm.room.message',
      content: { msgtype: 'm.text', body: 'original' },
    });
    const tamperedPdu = { ...tampered.pdu, content: { msgtype: 'm.text', body: 'changed' } };
    t.match(await api.receivePdu({ pdu: tamperedPdu, keys }), {
      status: 'persisted',
      eventId: tampered.eventId,
      redacted: true,
    });
    t.same((await c.roomsEventStore.getEvent(tampered.eventId))!.pdu.content, {}, 'stored redacted');

    // Unauthorised: a remote user who never joined. Stored, rejected, with the rule's reason.
    const mallory = await remoteEvent(c, roomId, {
      sender: `@mallory:${REMOTE}`,
      type: 'm.room.message',
      content: { body: 'spam' },
    });
    const rejected = await api.receivePdu({ pdu: mallory.pdu, keys });
    t.match(rejected, { status: 'rejected', reason: /not joined|sender/ });
    const stored = await c.roomsEventStore.getEvent(mallory.eventId);
    t.match(stored?.rejectedReason, /sender/, 'stored with why');
    t.notOk((await c.roomsHeads.get(roomId))!.extremities.includes(mallory.eventId), 'not an extremity');

    // Missing prev_events: refused for now (no get_missing_events yet), nothing stored.
    const orphan = await remoteEvent(
      c,
      roomId,
      { sender: bob, type: 'm.room.message', content: { body: 'orphan' } },
      { eventIds: ['$' + 'A'.repeat(43)], depth: 100 },
    );
    t.match(await api.receivePdu({ pdu: orphan.pdu, keys }), {
      status: 'refused',
      code: 'missing_prev_events',
    });
    t.equal(await c.roomsEventStore.getEvent(orphan.eventId), undefined);

    // Soft failure: alice bans bob; bob, not knowing yet, sends on the event before the ban.
    const beforeBan = (await c.roomsHeads.get(roomId))!;
    const prevForBob = { eventIds: [...beforeBan.extremities], depth: beforeBan.maxDepth + 1 };
    await c.roomsMembership.moderate(alice, roomId, 'ban', bob);
    const late = await remoteEvent(
      c,
      roomId,
      { sender: bob, type: 'm.room.message', content: { body: 'too late' } },
      prevForBob,
    );
    // Its auth events must be the ones it was built on (bob's join), not the ban.
    t.match(await api.receivePdu({ pdu: { ...late.pdu }, keys }), { status: 'rejected' });
    const lateOnJoin = buildEvent({
      roomVersion: beforeBan.version,
      serverName: REMOTE,
      key: remoteKey,
      partial: {
        room_id: roomId,
        sender: bob,
        type: 'm.room.message',
        content: { body: 'too late, properly' },
        prev_events: prevForBob.eventIds,
        auth_events: authEventsSelection(
          { sender: bob, type: 'm.room.message', content: {} },
          beforeBan.version,
        )
          .map((k) => beforeBan.state.get(k)?.eventId)
          .filter((id): id is string => id !== undefined),
        depth: prevForBob.depth,
      },
    });
    const soft = await api.receivePdu({ pdu: lateOnJoin.pdu, keys });
    t.match(soft, { status: 'soft_failed', eventId: lateOnJoin.eventId, reason: /not joined/ });
    t.equal(await c.roomsEventStore.getEvent(lateOnJoin.eventId), undefined, 'not in the timeline');
    t.ok(await c.roomsSoftFailedStore.get(lateOnJoin.eventId), 'kept aside');
    t.notOk((await c.roomsHeads.get(roomId))!.extremities.includes(lateOnJoin.eventId));
    t.match(await api.receivePdu({ pdu: lateOnJoin.pdu, keys }), { status: 'already_known' });

    // A sender of another server than the origin, and a PDU of another room than the one expected.
    t.match(await api.receivePdu({ pdu: hello.pdu, keys, origin: 'other.test' }), {
      status: 'refused',
      code: 'origin_mismatch',
      eventId: hello.eventId,
    });
    t.match(await api.receivePdu({ pdu: hello.pdu, keys, origin: REMOTE }), { status: 'already_known' });
    const otherRoom = await c.roomsCreation.createRoom(alice, { preset: 'public_chat' });
    t.match(await api.receivePdu({ pdu: hello.pdu, keys, roomId: otherRoom }), {
      status: 'refused',
      code: 'format',
    });
    t.equal(await api.eventIdOf(hello.pdu), hello.eventId);
    t.equal(await api.eventIdOf({ room_id: roomId }), undefined);

    // Garbage and unknown rooms are refused, never thrown.
    t.match(await api.receivePdu({ pdu: 'nope', keys }), { status: 'refused', code: 'format' });
    t.match(await api.receivePdu({ pdu: { ...hello.pdu, room_id: '!nope:x.test' }, keys }), {
      status: 'refused',
      code: 'unknown_room',
    });
    t.match(await api.receivePdu({ pdu: { ...hello.pdu, depth: 'deep' }, keys }), {
      status: 'refused',
      code: 'format',
    });
  });
});
