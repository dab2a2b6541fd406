/**
 * Edits and push rules over HTTP (spec "Edits of events with mentions", push rule `.m.rule.suppress_edits`):
 * an edit does not notify again; the mentions inside `m.new_content` (the resolved mentions of the final
 * text) notify no one; only the top-level `m.mentions` of an edit (the users newly mentioned by this
 * revision) notify and highlight, through `.m.rule.is_user_mention` / `.m.rule.is_room_mention` which come
 * before `.m.rule.suppress_edits`. Checked on the /sync unread counts and GET /notifications, both engines.
 */
import t from 'tap';
import { withAllDatabases } from '../../../helpers/with-all-databases.js';
import { startRoomsServer, type RoomsTestServer, type TestUser } from '../rooms/rooms-test-server.js';

// Test bodies read arbitrary JSON.
/* eslint-disable @typescript-eslint/no-explicit-any */
type Json = any;

let txn = 0;

async function sendContent(
  server: RoomsTestServer,
  user: TestUser,
  roomId: string,
  content: Record<string, unknown>,
): Promise<string> {
  const res = await server.call(user, 'PUT', server.room(roomId, `/send/m.room.message/en${++txn}`), content);
  if (res.status !== 200) throw new Error(`send failed: ${res.status} ${res.text}`);
  return res.body.event_id as string;
}

function edit(
  target: string,
  body: string,
  mentions: { top?: Record<string, unknown>; inner?: Record<string, unknown> } = {},
): Record<string, unknown> {
  return {
    msgtype: 'm.text',
    body: `* ${body}`,
    ...(mentions.top ? { 'm.mentions': mentions.top } : {}),
    'm.new_content': { msgtype: 'm.text', body, ...(mentions.inner ? { 'm.mentions': mentions.inner } : {}) },
    'm.relates_to': { rel_type: 'm.replace', event_id: target },
  };
}

void t.test('edits and push notifications', async (t) => {
  await withAllDatabases(t, async (t, database) => {
    const server = await startRoomsServer(t, { database });
    const alice = await server.user('alice');
    const bob = await server.user('bob');
    const carol = await server.user('carol');
    const roomId = await server.createRoom(alice, { preset: 'public_chat' });
    for (const u of [bob, carol]) await server.call(u, 'POST', server.room(roomId, '/join'), {});

    const counts = async (user: TestUser): Promise<Json> => {
      const res = await server.call(user, 'GET', '/_matrix/client/v3/sync');
      return res.body.rooms?.join?.[roomId]?.unread_notifications;
    };

    const original = await sendContent(server, alice, roomId, {
      msgtype: 'm.text',
      body: 'hello carol',
      'm.mentions': { user_ids: [carol.userId] },
    });

    await t.test('the original notifies; an edit without new mentions does not', async (t) => {
      t.same(await counts(bob), { notification_count: 1, highlight_count: 0 });
      t.same(await counts(carol), { notification_count: 1, highlight_count: 1 });
      await sendContent(
        server,
        alice,
        roomId,
        edit(original, 'hello carol!', { inner: { user_ids: [carol.userId] } }),
      );
      t.same(await counts(bob), { notification_count: 1, highlight_count: 0 }, 'bob: unchanged');
      t.same(
        await counts(carol),
        { notification_count: 1, highlight_count: 1 },
        'carol: the mention kept in m.new_content does not notify again',
      );
    });

    await t.test('mentions inside m.new_content alone notify no one', async (t) => {
      await sendContent(
        server,
        alice,
        roomId,
        edit(original, 'hello carol and bob', {
          inner: { user_ids: [carol.userId, bob.userId], room: true },
        }),
      );
      t.same(await counts(bob), { notification_count: 1, highlight_count: 0 });
      t.same(await counts(carol), { notification_count: 1, highlight_count: 1 });
    });

    let mentionEdit = '';
    await t.test('a newly mentioned user (top-level m.mentions of the edit) is notified', async (t) => {
      mentionEdit = await sendContent(
        server,
        alice,
        roomId,
        edit(original, 'hello carol & bob', {
          top: { user_ids: [bob.userId] },
          inner: { user_ids: [carol.userId, bob.userId] },
        }),
      );
      t.same(await counts(bob), { notification_count: 2, highlight_count: 1 });
      t.same(await counts(carol), { notification_count: 1, highlight_count: 1 }, 'carol: not mentioned anew');
    });

    await t.test('GET /notifications: the original and the mentioning edit only', async (t) => {
      const res = await server.call(bob, 'GET', '/_matrix/client/v3/notifications');
      t.equal(res.status, 200);
      const ids = (res.body.notifications as Json[]).map((n) => n.event.event_id);
      t.same(ids.slice(0, 2), [mentionEdit, original]);
      t.equal(ids.length, 2);
      const first = res.body.notifications[0];
      t.same(first.actions, ['notify', { set_tweak: 'sound', value: 'default' }, { set_tweak: 'highlight' }]);
    });
  });
});
