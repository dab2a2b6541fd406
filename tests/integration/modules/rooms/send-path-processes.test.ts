/**
 * The send path's transaction, as it meets other writers: two Axon processes share one database, both send
 * into the same room and into rooms of their own, and a txn id is replayed after the process that
 * answered it is gone. (On SQLite messages commit in one call with stream orderings chosen by the process,
 * guarded in SQL: these are the cases the guards exist for.)
 */
import t from 'tap';
import { startServer, type TestServer } from '../../../helpers/start-server.js';
import { withAllDatabasesConcurrently } from '../../../helpers/with-all-databases.js';
import { makeUser, openRegistrationConfig } from '../../../helpers/fixtures.js';

void withAllDatabasesConcurrently(t, async (t, database) => {
  const first = await startServer(t, { database, config: { ...openRegistrationConfig } });
  const second = await startServer(t, { database, config: { ...openRegistrationConfig } });
  const alice = await makeUser(first, { localpart: 'alice' });
  const bob = await makeUser(first, { localpart: 'bob' });
  const createRoom = async (server: TestServer, token: string) =>
    (
      await server.request('POST', '/_matrix/client/v3/createRoom', {
        token,
        body: { preset: 'public_chat' },
      })
    ).body.room_id as string;
  const shared = await createRoom(first, alice.accessToken);
  t.equal(
    (
      await second.request('POST', `/_matrix/client/v3/join/${encodeURIComponent(shared)}`, {
        token: bob.accessToken,
        body: {},
      })
    ).status,
    200,
  );
  const own = await createRoom(second, bob.accessToken);
  const send = (server: TestServer, token: string, roomId: string, txn: string, body: string) =>
    server.request(
      'PUT',
      `/_matrix/client/v3/rooms/${encodeURIComponent(roomId)}/send/m.room.message/${txn}`,
      {
        token,
        body: { msgtype: 'm.text', body },
      },
    );

  await t.test(
    'both processes write, interleaved and at once: every message lands once, in one order',
    async (t) => {
      const sent: string[] = [];
      for (let i = 0; i < 10; i++) {
        // Sequential alternation: each process's idea of the newest stream ordering is stale every time.
        for (const [server, user, room] of [
          [first, alice, shared],
          [second, bob, shared],
          [second, bob, own],
          [first, alice, shared],
        ] as const) {
          const res = await send(server, user.accessToken, room, `seq-${sent.length}`, `m${sent.length}`);
          t.equal(res.status, 200, res.text);
          sent.push(res.body.event_id);
        }
      }
      const concurrent = await Promise.all(
        Array.from({ length: 20 }, (_, i) =>
          send(i % 2 ? first : second, (i % 2 ? alice : bob).accessToken, shared, `con-${i}`, `c${i}`),
        ),
      );
      for (const res of concurrent) t.equal(res.status, 200, res.text);
      const messages = await first.request(
        'GET',
        `/_matrix/client/v3/rooms/${encodeURIComponent(shared)}/messages?dir=b&limit=1000`,
        { token: alice.accessToken },
      );
      const ids = (messages.body.chunk as { event_id: string; type: string }[])
        .filter((e) => e.type === 'm.room.message')
        .map((e) => e.event_id);
      t.equal(new Set(ids).size, ids.length, 'no event twice');
      t.equal(ids.length, 30 + 20, 'every message of the shared room');
      const expectedShared = sent.filter((_, i) => i % 4 !== 2);
      t.same(
        ids.slice(20).reverse(),
        expectedShared,
        'the sequential ones in the order they were acknowledged',
      );
    },
  );

  await t.test('bodies with quotes and NUL round-trip; a NUL in a txn id is refused', async (t) => {
    const body = "it's ''quoted''; -- \u0000 and \\ and ?";
    const sent = await send(first, alice.accessToken, shared, 'quoted', body);
    t.equal(sent.status, 200);
    const read = await second.request(
      'GET',
      `/_matrix/client/v3/rooms/${encodeURIComponent(shared)}/event/${encodeURIComponent(sent.body.event_id)}`,
      { token: bob.accessToken },
    );
    t.equal(read.body.content?.body, body);
    const nul = await send(first, alice.accessToken, shared, 'a%00b', 'x');
    t.same([nul.status, nul.body.errcode], [400, 'M_INVALID_PARAM']);
  });

  await t.test('a txn id replayed on another process answers with the first event', async (t) => {
    const original = await send(first, alice.accessToken, shared, 'replayed', 'once');
    t.equal(original.status, 200);
    const replay = await send(second, alice.accessToken, shared, 'replayed', 'once');
    t.same([replay.status, replay.body.event_id], [200, original.body.event_id]);
    const again = await send(first, alice.accessToken, shared, 'replayed', 'once');
    t.equal(again.body.event_id, original.body.event_id);
  });

  await t.test("a sync on either process sees the other process's messages", async (t) => {
    const initial = await second.request('GET', '/_matrix/client/v3/sync', { token: bob.accessToken });
    const sent = await send(first, alice.accessToken, shared, 'seen-by-sync', 'hello from first');
    const later = await second.request(
      'GET',
      `/_matrix/client/v3/sync?since=${encodeURIComponent(initial.body.next_batch)}&timeout=250`,
      { token: bob.accessToken },
    );
    const events = (later.body.rooms?.join?.[shared]?.timeline?.events ?? []) as { event_id: string }[];
    t.ok(
      events.some((e) => e.event_id === sent.body.event_id),
      'the message arrives (at the latest when the long-poll times out)',
    );
  });
});
