import t from 'tap';
import { withAllDatabases } from '../../../helpers/with-all-databases.js';
import { startRoomsServer } from '../rooms/rooms-test-server.js';

const C = '/_matrix/client/v3';
const list = (roomId: string) => `${C}/directory/list/room/${encodeURIComponent(roomId)}`;

void withAllDatabases(t, async (t, database) => {
  const server = await startRoomsServer(t, { database });
  const alice = await server.user('alice');
  const bob = await server.user('bob');
  const carol = await server.user('carol');

  const general = await server.createRoom(alice, {
    preset: 'public_chat',
    visibility: 'public',
    name: 'General Chat',
    topic: 'Everything goes',
    room_alias_name: 'general',
  });
  t.equal((await server.call(bob, 'POST', server.room(general, '/join'), {})).status, 200);
  const cheese = await server.createRoom(bob, {
    preset: 'public_chat',
    visibility: 'public',
    name: 'Cheese',
    topic: 'Tasty tasty CHEESE',
  });
  const space = await server.createRoom(carol, {
    preset: 'public_chat',
    visibility: 'public',
    name: 'A space',
    creation_content: { type: 'm.space' },
  });
  const hidden = await server.createRoom(alice, { preset: 'public_chat', name: 'Unlisted' });

  await t.test('GET /publicRooms without auth lists published rooms, most joined first', async (t) => {
    const res = await server.call(undefined, 'GET', `${C}/publicRooms`);
    t.equal(res.status, 200);
    t.equal(res.body.total_room_count_estimate, 3);
    t.same(
      res.body.chunk.map((c: { room_id: string }) => c.room_id),
      [general, ...[cheese, space].sort()],
    );
    const first = res.body.chunk[0];
    t.match(first, {
      room_id: general,
      name: 'General Chat',
      topic: 'Everything goes',
      canonical_alias: '#general:test.local',
      num_joined_members: 2,
      world_readable: false,
      guest_can_join: false,
      join_rule: 'public',
    });
    t.equal(res.body.chunk.find((c: { room_id: string }) => c.room_id === space).room_type, 'm.space');
    t.notOk(res.body.chunk.some((c: { room_id: string }) => c.room_id === hidden));
  });

  await t.test('limit and since paginate with opaque tokens', async (t) => {
    const page1 = await server.call(undefined, 'GET', `${C}/publicRooms?limit=2`);
    t.equal(page1.body.chunk.length, 2);
    t.type(page1.body.next_batch, 'string');
    t.notOk(page1.body.prev_batch);
    const page2 = await server.call(
      undefined,
      'GET',
      `${C}/publicRooms?limit=2&since=${encodeURIComponent(page1.body.next_batch)}`,
    );
    t.equal(page2.body.chunk.length, 1);
    t.notOk(page2.body.next_batch);
    t.type(page2.body.prev_batch, 'string');
    const ids = [...page1.body.chunk, ...page2.body.chunk].map((c: { room_id: string }) => c.room_id);
    t.equal(new Set(ids).size, 3);
    const bad = await server.call(undefined, 'GET', `${C}/publicRooms?since=garbage`);
    t.equal(bad.status, 400);
    t.equal(bad.body.errcode, 'M_INVALID_PARAM');
  });

  await t.test('POST /publicRooms filters by search term and room type, needs auth', async (t) => {
    const unauth = await server.call(undefined, 'POST', `${C}/publicRooms`, {});
    t.equal(unauth.status, 401);
    const search = await server.call(carol, 'POST', `${C}/publicRooms`, {
      filter: { generic_search_term: 'cheese' },
    });
    t.same(
      search.body.chunk.map((c: { room_id: string }) => c.room_id),
      [cheese],
    );
    const byAlias = await server.call(carol, 'POST', `${C}/publicRooms`, {
      filter: { generic_search_term: 'GENERAL:test' },
    });
    t.same(
      byAlias.body.chunk.map((c: { room_id: string }) => c.room_id),
      [general],
    );
    const spaces = await server.call(carol, 'POST', `${C}/publicRooms`, {
      filter: { room_types: ['m.space'] },
    });
    t.same(
      spaces.body.chunk.map((c: { room_id: string }) => c.room_id),
      [space],
    );
    const plain = await server.call(carol, 'POST', `${C}/publicRooms`, {
      filter: { room_types: [null] },
      include_all_networks: true,
    });
    t.equal(plain.body.chunk.length, 2);
    const bridged = await server.call(carol, 'POST', `${C}/publicRooms`, { third_party_instance_id: 'irc' });
    t.same(bridged.body.chunk, []);
    const limited = await server.call(carol, 'POST', `${C}/publicRooms`, { limit: 1 });
    t.equal(limited.body.chunk.length, 1);
    t.equal(limited.body.total_room_count_estimate, 3);
    const badBody = await server.call(carol, 'POST', `${C}/publicRooms`, { limit: 'x' });
    t.equal(badBody.status, 400);
  });

  await t.test('GET/PUT /directory/list/room: visibility, power needed', async (t) => {
    t.same((await server.call(undefined, 'GET', list(hidden))).body, { visibility: 'private' });
    t.same((await server.call(undefined, 'GET', list(general))).body, { visibility: 'public' });
    t.equal((await server.call(bob, 'POST', server.room(hidden, '/join'), {})).status, 200);
    const byBob = await server.call(bob, 'PUT', list(hidden), { visibility: 'public' });
    t.equal(byBob.status, 403);
    t.equal(byBob.body.errcode, 'M_FORBIDDEN');
    t.equal((await server.call(alice, 'PUT', list(hidden), { visibility: 'public' })).status, 200);
    t.same((await server.call(undefined, 'GET', list(hidden))).body, { visibility: 'public' });
    const listed = await server.call(undefined, 'GET', `${C}/publicRooms`);
    t.ok(listed.body.chunk.some((c: { room_id: string }) => c.room_id === hidden));
    t.equal((await server.call(alice, 'PUT', list(hidden), { visibility: 'private' })).status, 200);
    t.same((await server.call(undefined, 'GET', list(hidden))).body, { visibility: 'private' });
    const unknown = await server.call(undefined, 'GET', list('!nope:test.local'));
    t.equal(unknown.status, 404);
    t.equal(unknown.body.errcode, 'M_NOT_FOUND');
    t.equal(
      (await server.call(alice, 'PUT', list('!nope:test.local'), { visibility: 'public' })).status,
      404,
    );
    const badValue = await server.call(alice, 'PUT', list(hidden), { visibility: 'secret' });
    t.equal(badValue.status, 400);
  });
});
