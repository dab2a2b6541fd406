import t from 'tap';
import { withAllDatabases } from '../../../helpers/with-all-databases.js';
import { enc, startEphemeralServer, type SyncBody } from '../typing/ephemeral-test-server.js';

const countsOf = (body: SyncBody, roomId: string) => body.rooms?.join?.[roomId]?.unread_notifications;
const threadFilter = enc(JSON.stringify({ room: { timeline: { unread_thread_notifications: true } } }));

void t.test('unread counts and GET /notifications', async (t) => {
  await withAllDatabases(t, async (t, database) => {
    const server = await startEphemeralServer(t, { database });
    const alice = await server.user('alice');
    const bob = await server.user('bob');
    const carol = await server.user('carol');
    const roomId = await server.room(alice, [bob, carol]);
    const receipt = (type: string, eventId: string) =>
      `/_matrix/client/v3/rooms/${enc(roomId)}/receipt/${type}/${enc(eventId)}`;

    await t.test('messages increment the counts of the other members, not the sender', async (t) => {
      await server.send(alice, roomId, { msgtype: 'm.text', body: 'one' });
      await server.send(alice, roomId, { msgtype: 'm.text', body: 'two' });
      t.same(countsOf((await server.sync(bob)).body, roomId), { notification_count: 2, highlight_count: 0 });
      t.same(countsOf((await server.sync(alice)).body, roomId), {
        notification_count: 0,
        highlight_count: 0,
      });
    });

    await t.test('a mention highlights', async (t) => {
      await server.send(alice, roomId, {
        msgtype: 'm.text',
        body: 'hey bob',
        'm.mentions': { user_ids: [bob.userId] },
      });
      t.same(countsOf((await server.sync(bob)).body, roomId), { notification_count: 3, highlight_count: 1 });
      t.same(countsOf((await server.sync(carol)).body, roomId), {
        notification_count: 3,
        highlight_count: 0,
      });
    });

    await t.test('notices do not count', async (t) => {
      await server.send(alice, roomId, { msgtype: 'm.notice', body: 'bot says' });
      t.equal(countsOf((await server.sync(carol)).body, roomId).notification_count, 3);
    });

    await t.test('GET /notifications lists them newest first, only=highlight filters', async (t) => {
      const all = await server.call('GET', '/_matrix/client/v3/notifications', bob);
      t.equal(all.status, 200);
      // The invite that brought bob in notified too (.m.rule.invite_for_me); his join then read it.
      t.equal(all.body.notifications.length, 4);
      t.match(all.body.notifications[3], {
        event: { type: 'm.room.member', content: { membership: 'invite' } },
      });
      t.match(all.body.notifications[0], {
        room_id: roomId,
        read: false,
        ts: Number,
        actions: ['notify', { set_tweak: 'sound', value: 'default' }, { set_tweak: 'highlight' }],
        event: { content: { body: 'hey bob' }, sender: alice.userId },
      });
      t.equal(all.body.notifications[0].event.room_id, undefined, 'events come without room_id');
      const highlights = await server.call('GET', '/_matrix/client/v3/notifications?only=highlight', bob);
      t.equal(highlights.body.notifications.length, 1);
      const page = await server.call('GET', '/_matrix/client/v3/notifications?limit=2', bob);
      t.equal(page.body.notifications.length, 2);
      t.type(page.body.next_token, 'string');
      const rest = await server.call(
        'GET',
        `/_matrix/client/v3/notifications?limit=2&from=${enc(page.body.next_token)}`,
        bob,
      );
      t.same(
        rest.body.notifications.map((n: { event: { content: { body?: string } } }) => n.event.content.body),
        ['one', undefined],
      );
      t.equal(rest.body.next_token, undefined);
      t.equal((await server.call('GET', '/_matrix/client/v3/notifications?limit=x', bob)).status, 400);
    });

    await t.test(
      'a read receipt clears the counts up to its event, and /notifications marks them read',
      async (t) => {
        const latest = (await server.call('GET', '/_matrix/client/v3/notifications?limit=1', bob)).body
          .notifications[0].event.event_id as string;
        const since = (await server.sync(bob)).body.next_batch as string;
        await server.call('POST', receipt('m.read', latest), bob, {});
        const { value } = await server.syncUntil(bob, since, (body) => countsOf(body, roomId));
        t.same(value, { notification_count: 0, highlight_count: 0 });
        const list = await server.call('GET', '/_matrix/client/v3/notifications', bob);
        t.ok(list.body.notifications.every((n: { read: boolean }) => n.read));
      },
    );

    await t.test('a private receipt clears the counts too', async (t) => {
      const eventId = await server.send(alice, roomId, { msgtype: 'm.text', body: 'again' });
      t.equal(countsOf((await server.sync(carol)).body, roomId).notification_count, 4);
      await server.call('POST', receipt('m.read.private', eventId), carol, {});
      t.same(countsOf((await server.sync(carol)).body, roomId), {
        notification_count: 0,
        highlight_count: 0,
      });
    });

    await t.test('one’s own message marks the room read', async (t) => {
      await server.send(alice, roomId, { msgtype: 'm.text', body: 'more' });
      t.equal(countsOf((await server.sync(carol)).body, roomId).notification_count, 1);
      await server.send(carol, roomId, { msgtype: 'm.text', body: 'reply' });
      t.equal(countsOf((await server.sync(carol)).body, roomId).notification_count, 0);
    });

    await t.test('thread messages count per thread; a threaded receipt clears only its thread', async (t) => {
      const root = await server.send(alice, roomId, { msgtype: 'm.text', body: 'root' });
      await server.send(carol, roomId, { msgtype: 'm.text', body: 'catch up' });
      const inThread = await server.send(alice, roomId, {
        msgtype: 'm.text',
        body: 'in thread',
        'm.relates_to': { rel_type: 'm.thread', event_id: root },
      });
      const sync = await server.call('GET', `/_matrix/client/v3/sync?filter=${threadFilter}`, carol);
      const room = sync.body.rooms.join[roomId];
      t.same(room.unread_notifications, { notification_count: 0, highlight_count: 0 });
      t.same(room.unread_thread_notifications, { [root]: { notification_count: 1, highlight_count: 0 } });
      await server.call('POST', receipt('m.read', inThread), carol, { thread_id: root });
      const after = await server.call('GET', `/_matrix/client/v3/sync?filter=${threadFilter}`, carol);
      t.same(after.body.rooms.join[roomId].unread_thread_notifications, {});
    });

    await t.test('a one-to-one room notifies with sound; the master rule silences everything', async (t) => {
      const dm = await server.room(alice, [bob]);
      await server.send(alice, dm, { msgtype: 'm.text', body: 'psst' });
      const n = (await server.call('GET', '/_matrix/client/v3/notifications?limit=1', bob)).body
        .notifications[0];
      t.same(n.actions, ['notify', { set_tweak: 'sound', value: 'default' }]);
      await server.call('PUT', '/_matrix/client/v3/pushrules/global/override/.m.rule.master/enabled', bob, {
        enabled: true,
      });
      await server.send(alice, dm, { msgtype: 'm.text', body: 'silence' });
      t.equal(countsOf((await server.sync(bob)).body, dm).notification_count, 1);
    });
  });
});
