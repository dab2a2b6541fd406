import t from 'tap';
import { withAllDatabases } from '../../../helpers/with-all-databases.js';
import { enc, startEphemeralServer } from './ephemeral-test-server.js';

void t.test('PUT /rooms/{roomId}/typing/{userId}', async (t) => {
  await withAllDatabases(t, async (t, database) => {
    const server = await startEphemeralServer(t, { database });
    const alice = await server.user('alice');
    const bob = await server.user('bob');
    const eve = await server.user('eve');
    const roomId = await server.room(alice, [bob]);
    const typingPath = (userId: string) => `/_matrix/client/v3/rooms/${enc(roomId)}/typing/${enc(userId)}`;

    await t.test('a member starts typing: 200 {}', async (t) => {
      const res = await server.call('PUT', typingPath(alice.userId), alice, { typing: true, timeout: 30000 });
      t.equal(res.status, 200);
      t.same(res.body, {});
    });

    await t.test('typing for someone else is 403', async (t) => {
      const res = await server.call('PUT', typingPath(bob.userId), alice, { typing: true, timeout: 1000 });
      t.equal(res.status, 403);
      t.equal(res.body.errcode, 'M_FORBIDDEN');
    });

    await t.test('typing in a room one is not joined to is 403', async (t) => {
      const res = await server.call('PUT', typingPath(eve.userId), eve, { typing: true, timeout: 1000 });
      t.equal(res.status, 403);
      t.equal(res.body.errcode, 'M_FORBIDDEN');
    });

    await t.test('a body without typing is 400 M_MISSING_PARAM; no token is 401', async (t) => {
      const res = await server.call('PUT', typingPath(alice.userId), alice, { timeout: 1000 });
      t.equal(res.status, 400);
      t.equal(res.body.errcode, 'M_MISSING_PARAM');
      const anon = await server.request('PUT', typingPath(alice.userId), { body: { typing: false } });
      t.equal(anon.status, 401);
    });

    await t.test('bob sees alice typing in /sync, then sees it expire', async (t) => {
      await server.call('PUT', typingPath(alice.userId), alice, { typing: true, timeout: 300 });
      const first = await server.call('GET', '/_matrix/client/v3/sync', bob);
      t.equal(first.status, 200);
      const ephemeral = first.body.rooms.join[roomId].ephemeral.events as {
        type: string;
        content: unknown;
      }[];
      t.same(
        ephemeral.find((e) => e.type === 'm.typing'),
        { type: 'm.typing', content: { user_ids: [alice.userId] } },
      );
      // A long-poll is woken by the expiry and carries the now-empty list.
      const { value } = await server.syncUntil(bob, first.body.next_batch as string, (body) =>
        (body.rooms?.join?.[roomId]?.ephemeral?.events ?? []).find(
          (e: { type: string }) => e.type === 'm.typing',
        ),
      );
      t.same(value, { type: 'm.typing', content: { user_ids: [] } });
    });

    await t.test('leaving the room stops typing there', async (t) => {
      await server.call('PUT', typingPath(bob.userId), bob, { typing: true, timeout: 30000 });
      const since = (await server.sync(alice)).body.next_batch as string;
      await server.call('POST', `/_matrix/client/v3/rooms/${enc(roomId)}/leave`, bob, {});
      const { value } = await server.syncUntil(alice, since, (body) =>
        (body.rooms?.join?.[roomId]?.ephemeral?.events ?? []).find(
          (e: { type: string }) => e.type === 'm.typing',
        ),
      );
      t.same(value, { type: 'm.typing', content: { user_ids: [] } });
    });
  });
});
