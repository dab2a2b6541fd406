/**
 * The spec's validity rules for a replacement (client-server "Event replacements", "Validity of replacement
 * events") as the bundled `m.replace` shows them, one rule per case: another room, another type, a state key
 * on either side, and an encrypted edit (valid without a visible `m.new_content`, which sits in the
 * ciphertext). Then bundling under lazy-loading filters (/messages, /sync): the bundle is the same with and
 * without. A page served again (the bundle cache) follows new edits, redactions and thread replies. Both
 * engines. (Same sender, no `m.new_content`, an edit of an edit, a redacted edit and a redacted
 * original are in bundled-aggregations.test.ts.)
 */
import t from 'tap';
import { withAllDatabases } from '../../../helpers/with-all-databases.js';
import { startRoomsServer, type RoomsTestServer, type TestUser } from '../rooms/rooms-test-server.js';

// Test bodies read arbitrary JSON.
/* eslint-disable @typescript-eslint/no-explicit-any */
type Json = any;

let txn = 0;
const enc = encodeURIComponent;

async function sendContent(
  server: RoomsTestServer,
  user: TestUser,
  roomId: string,
  content: Record<string, unknown>,
  type = 'm.room.message',
): Promise<string> {
  const res = await server.call(user, 'PUT', server.room(roomId, `/send/${type}/ev${++txn}`), content);
  if (res.status !== 200) throw new Error(`send failed: ${res.status} ${res.text}`);
  return res.body.event_id as string;
}

function edit(target: string, body: string): Record<string, unknown> {
  return {
    msgtype: 'm.text',
    body: `* ${body}`,
    'm.new_content': { msgtype: 'm.text', body },
    'm.relates_to': { rel_type: 'm.replace', event_id: target },
  };
}

const replaceOf = (e: Json): Json => e?.unsigned?.['m.relations']?.['m.replace'];

void t.test('validity of replacements, and bundles under lazy loading', async (t) => {
  await withAllDatabases(t, async (t, database) => {
    const server = await startRoomsServer(t, { database });
    const alice = await server.user('alice');
    const bob = await server.user('bob');
    const roomId = await server.createRoom(alice, { preset: 'public_chat' });
    const otherRoom = await server.createRoom(alice, { preset: 'public_chat' });
    await server.call(bob, 'POST', server.room(roomId, '/join'), {});
    const replaceSeenBy = async (eventId: string): Promise<Json> => {
      const res = await server.call(bob, 'GET', server.room(roomId, `/event/${eventId}`));
      t.equal(res.status, 200);
      return replaceOf(res.body);
    };

    await t.test('an edit sent in another room is ignored', async (t) => {
      const original = await server.send(alice, roomId, 'here');
      await sendContent(server, alice, otherRoom, edit(original, 'from elsewhere'));
      t.notOk(await replaceSeenBy(original));
    });

    await t.test('an edit of another type is ignored', async (t) => {
      const original = await server.send(alice, roomId, 'a message');
      await sendContent(server, alice, roomId, edit(original, 'as a note'), 'org.example.note');
      t.notOk(await replaceSeenBy(original));
      const valid = await sendContent(server, alice, roomId, {
        ...edit(original, 'an emote now'),
        msgtype: 'm.emote',
      });
      t.equal((await replaceSeenBy(original))?.event_id, valid, 'another msgtype is fine');
    });

    await t.test('no state key on either side', async (t) => {
      const original = await server.send(alice, roomId, 'plain');
      const stateEdit = await server.call(
        alice,
        'PUT',
        server.room(roomId, '/state/m.room.message/edit-as-state'),
        edit(original, 'as state'),
      );
      t.equal(stateEdit.status, 200);
      t.notOk(await replaceSeenBy(original), 'a state event does not replace a message');

      const topic = await server.call(alice, 'PUT', server.room(roomId, '/state/m.room.topic/'), {
        topic: 'first topic',
      });
      t.equal(topic.status, 200);
      const topicId = topic.body.event_id as string;
      await sendContent(
        server,
        alice,
        roomId,
        {
          topic: '* second topic',
          'm.new_content': { topic: 'second topic' },
          'm.relates_to': { rel_type: 'm.replace', event_id: topicId },
        },
        'm.room.topic',
      );
      t.notOk(await replaceSeenBy(topicId), 'a state event is not edited');
    });

    await t.test('an encrypted edit of an encrypted original is bundled', async (t) => {
      const megolm = (ciphertext: string) => ({
        algorithm: 'm.megolm.v1.aes-sha2',
        sender_key: 'sender-curve25519',
        device_id: alice.deviceId,
        session_id: 'session',
        ciphertext,
      });
      const original = await sendContent(server, alice, roomId, megolm('AAAA'), 'm.room.encrypted');
      const encryptedEdit = await sendContent(
        server,
        alice,
        roomId,
        { ...megolm('BBBB'), 'm.relates_to': { rel_type: 'm.replace', event_id: original } },
        'm.room.encrypted',
      );
      const bundled = await replaceSeenBy(original);
      t.equal(bundled?.event_id, encryptedEdit, 'm.new_content is in the ciphertext');
      t.equal(bundled?.content?.ciphertext, 'BBBB', 'the edit in full');
    });

    await t.test('a page served again follows new edits, redactions and thread replies', async (t) => {
      const original = await server.send(alice, roomId, 'cached original');
      const root = await server.send(alice, roomId, 'cached root');
      const page = async (): Promise<Json[]> => {
        const res = await server.call(bob, 'GET', server.room(roomId, '/messages?dir=b&limit=20'));
        t.equal(res.status, 200);
        return res.body.chunk as Json[];
      };
      const bundleOf = async (id: string): Promise<Json> =>
        (await page()).find((e) => e.event_id === id)?.unsigned?.['m.relations'];
      t.notOk(await bundleOf(original), 'nothing yet (and now remembered)');
      t.notOk(await bundleOf(original), 'nothing, again');
      const first = await sendContent(server, alice, roomId, edit(original, 'first'));
      t.equal((await bundleOf(original))?.['m.replace']?.event_id, first, 'a new edit shows');
      const second = await sendContent(server, alice, roomId, edit(original, 'second'));
      await new Promise((r) => setTimeout(r, 2));
      t.equal((await bundleOf(original))?.['m.replace']?.event_id, second, 'and the next');
      const red = await server.call(alice, 'PUT', server.room(roomId, `/redact/${second}/evr${++txn}`), {});
      t.equal(red.status, 200);
      t.equal((await bundleOf(original))?.['m.replace']?.event_id, first, 'a redacted edit falls back');
      await sendContent(server, bob, roomId, {
        msgtype: 'm.text',
        body: 'in thread',
        'm.relates_to': { rel_type: 'm.thread', event_id: root },
      });
      t.equal((await bundleOf(root))?.['m.thread']?.count, 1, 'a thread reply shows');
      await sendContent(server, bob, roomId, {
        msgtype: 'm.text',
        body: 'in thread again',
        'm.relates_to': { rel_type: 'm.thread', event_id: root },
      });
      t.equal((await bundleOf(root))?.['m.thread']?.count, 2, 'and counts');
    });

    await t.test('lazy-loading filters keep the bundles', async (t) => {
      const original = await server.send(alice, roomId, 'lazy original');
      const latest = await sendContent(server, alice, roomId, edit(original, 'lazy edited'));
      await server.send(bob, roomId, 'bob speaks');

      const filter = enc(JSON.stringify({ lazy_load_members: true }));
      const page = await server.call(
        bob,
        'GET',
        server.room(roomId, `/messages?dir=b&limit=5&filter=${filter}`),
      );
      t.equal(page.status, 200);
      const inPage = (page.body.chunk as Json[]).find((e) => e.event_id === original);
      t.equal(replaceOf(inPage)?.event_id, latest, '/messages with lazy_load_members');
      t.ok(
        (page.body.state as Json[]).some((e) => e.type === 'm.room.member' && e.state_key === alice.userId),
        'and the senders’ members alongside',
      );

      const syncFilter = enc(
        JSON.stringify({ room: { state: { lazy_load_members: true }, timeline: { limit: 5 } } }),
      );
      const sync = await server.call(bob, 'GET', `/_matrix/client/v3/sync?filter=${syncFilter}`);
      t.equal(sync.status, 200);
      const room = sync.body.rooms.join[roomId];
      const inSync = (room.timeline.events as Json[]).find((e) => e.event_id === original);
      t.equal(replaceOf(inSync)?.event_id, latest, '/sync with lazy_load_members');
      t.equal(replaceOf(inSync)?.content?.['m.new_content']?.body, 'lazy edited');
    });
  });
});
