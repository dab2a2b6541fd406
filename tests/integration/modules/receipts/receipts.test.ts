import t from 'tap';
import { withAllDatabases } from '../../../helpers/with-all-databases.js';
import { enc, startEphemeralServer, type SyncBody } from '../typing/ephemeral-test-server.js';

const receiptOf = (body: SyncBody, roomId: string) =>
  (body.rooms?.join?.[roomId]?.ephemeral?.events ?? []).find(
    (e: { type: string }) => e.type === 'm.receipt',
  ) as
    | { content: Record<string, Record<string, Record<string, { ts: number; thread_id?: string }>>> }
    | undefined;

void t.test('receipts and read markers over HTTP', async (t) => {
  await withAllDatabases(t, async (t, database) => {
    const server = await startEphemeralServer(t, { database });
    const alice = await server.user('alice');
    const bob = await server.user('bob');
    const eve = await server.user('eve');
    const roomId = await server.room(alice, [bob]);
    const first = await server.send(alice, roomId, { msgtype: 'm.text', body: 'one' });
    const second = await server.send(alice, roomId, { msgtype: 'm.text', body: 'two' });
    const receipt = (type: string, eventId: string) =>
      `/_matrix/client/v3/rooms/${enc(roomId)}/receipt/${type}/${enc(eventId)}`;

    await t.test('m.read: 200 {} and every member sees it in /sync', async (t) => {
      const res = await server.call('POST', receipt('m.read', first), bob, {});
      t.equal(res.status, 200);
      t.same(res.body, {});
      const sync = await server.sync(alice);
      t.match(receiptOf(sync.body, roomId)?.content, {
        [first]: { 'm.read': { [bob.userId]: { ts: Number } } },
      });
    });

    await t.test('a private receipt is seen by its owner only', async (t) => {
      const res = await server.call('POST', receipt('m.read.private', second), bob, {});
      t.equal(res.status, 200);
      const mine = receiptOf((await server.sync(bob)).body, roomId)?.content;
      t.ok(mine?.[second]?.['m.read.private']?.[bob.userId], 'bob sees his private receipt');
      const theirs = receiptOf((await server.sync(alice)).body, roomId)?.content ?? {};
      t.notOk(JSON.stringify(theirs).includes('m.read.private'), 'alice does not');
    });

    await t.test('an incremental sync delivers a new receipt to another user in real time', async (t) => {
      const since = (await server.sync(alice)).body.next_batch as string;
      const waiting = server.syncUntil(alice, since, (body) => receiptOf(body, roomId));
      await server.call('POST', receipt('m.read', second), bob, {});
      const { value } = await waiting;
      t.same(Object.keys(value.content), [second], 'only the change');
    });

    await t.test('a threaded receipt carries thread_id', async (t) => {
      const res = await server.call('POST', receipt('m.read', second), alice, { thread_id: 'main' });
      t.equal(res.status, 200);
      const content = receiptOf((await server.sync(bob)).body, roomId)?.content;
      t.equal(content?.[second]?.['m.read']?.[alice.userId]?.thread_id, 'main');
    });

    await t.test(
      'errors: empty thread_id 400, unknown type 400, unknown event 404, not joined 403',
      async (t) => {
        const empty = await server.call('POST', receipt('m.read', first), bob, { thread_id: '' });
        t.equal(empty.status, 400);
        t.equal(empty.body.errcode, 'M_INVALID_PARAM');
        t.equal((await server.call('POST', receipt('m.seen', first), bob, {})).status, 400);
        t.equal((await server.call('POST', receipt('m.read', '$nope'), bob, {})).status, 404);
        const stranger = await server.call('POST', receipt('m.read', first), eve, {});
        t.equal(stranger.status, 403);
        t.equal(stranger.body.errcode, 'M_FORBIDDEN');
      },
    );

    await t.test('read_markers sets m.fully_read (room account data) and the read receipt', async (t) => {
      const res = await server.call('POST', `/_matrix/client/v3/rooms/${enc(roomId)}/read_markers`, alice, {
        'm.fully_read': second,
        'm.read': second,
      });
      t.equal(res.status, 200);
      const sync = await server.sync(alice);
      const accountData = sync.body.rooms.join[roomId].account_data.events as {
        type: string;
        content: unknown;
      }[];
      t.same(
        accountData.find((e) => e.type === 'm.fully_read'),
        { type: 'm.fully_read', content: { event_id: second } },
      );
      t.ok(receiptOf(sync.body, roomId)?.content[second]?.['m.read']?.[alice.userId]);
    });

    await t.test('receipt type m.fully_read is the read marker', async (t) => {
      const res = await server.call('POST', receipt('m.fully_read', first), bob, {});
      t.equal(res.status, 200);
      const got = await server.call(
        'GET',
        `/_matrix/client/v3/user/${enc(bob.userId)}/rooms/${enc(roomId)}/account_data/m.fully_read`,
        bob,
      );
      t.same(got.body, { event_id: first });
    });
  });
});
