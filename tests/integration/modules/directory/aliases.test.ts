import t from 'tap';
import { withAllDatabases } from '../../../helpers/with-all-databases.js';
import { startRoomsServer } from '../rooms/rooms-test-server.js';

const alias = (name: string) =>
  `/_matrix/client/v3/directory/room/${encodeURIComponent(`#${name}:test.local`)}`;

void withAllDatabases(t, async (t, database) => {
  const server = await startRoomsServer(t, { database });
  const alice = await server.user('alice');
  const bob = await server.user('bob');
  const carol = await server.user('carol');

  await t.test('create, resolve, list and delete an alias', async (t) => {
    const roomId = await server.createRoom(alice, { preset: 'public_chat' });
    t.equal((await server.call(alice, 'PUT', alias('lobby'), { room_id: roomId })).status, 200);
    const got = await server.call(undefined, 'GET', alias('lobby'));
    t.same(got.body, { room_id: roomId, servers: ['test.local'] });
    const list = await server.call(alice, 'GET', server.room(roomId, '/aliases'));
    t.same(list.body, { aliases: ['#lobby:test.local'] });
    t.equal((await server.call(alice, 'DELETE', alias('lobby'))).status, 200);
    const gone = await server.call(alice, 'GET', alias('lobby'));
    t.equal(gone.status, 404);
    t.equal(gone.body.errcode, 'M_NOT_FOUND');
  });

  await t.test('a taken alias is 409; a foreign or malformed one 400', async (t) => {
    const roomId = await server.createRoom(alice);
    t.equal((await server.call(alice, 'PUT', alias('taken'), { room_id: roomId })).status, 200);
    const again = await server.call(alice, 'PUT', alias('taken'), { room_id: roomId });
    t.equal(again.status, 409);
    t.equal(again.body.errcode, 'M_UNKNOWN');
    const foreign = await server.call(
      alice,
      'PUT',
      `/_matrix/client/v3/directory/room/${encodeURIComponent('#x:elsewhere.org')}`,
      {
        room_id: roomId,
      },
    );
    t.equal(foreign.status, 400);
    t.equal(foreign.body.errcode, 'M_INVALID_PARAM');
    const bad = await server.call(alice, 'PUT', `/_matrix/client/v3/directory/room/nohash`, {
      room_id: roomId,
    });
    t.equal(bad.status, 400);
    const missing = await server.call(alice, 'PUT', alias('nobody'), {});
    t.equal(missing.status, 400);
    t.equal(missing.body.errcode, 'M_MISSING_PARAM');
  });

  await t.test('aliases for unknown rooms 404, for rooms one is not in 403', async (t) => {
    const unknown = await server.call(alice, 'PUT', alias('ghost'), { room_id: '!nope:test.local' });
    t.equal(unknown.status, 404);
    const roomId = await server.createRoom(alice);
    const outsider = await server.call(carol, 'PUT', alias('intruder'), { room_id: roomId });
    t.equal(outsider.status, 403);
    t.equal(outsider.body.errcode, 'M_FORBIDDEN');
  });

  await t.test('only the creator or a room admin may delete an alias', async (t) => {
    const roomId = await server.createRoom(alice, { preset: 'public_chat' });
    t.equal((await server.call(bob, 'POST', server.room(roomId, '/join'), {})).status, 200);
    t.equal((await server.call(carol, 'POST', server.room(roomId, '/join'), {})).status, 200);
    t.equal((await server.call(bob, 'PUT', alias('bobs'), { room_id: roomId })).status, 200);
    const byCarol = await server.call(carol, 'DELETE', alias('bobs'));
    t.equal(byCarol.status, 403);
    t.equal(byCarol.body.errcode, 'M_FORBIDDEN');
    // alice is the room's admin (power to send m.room.canonical_alias)
    t.equal((await server.call(alice, 'DELETE', alias('bobs'))).status, 200);
    t.equal((await server.call(bob, 'PUT', alias('bobs2'), { room_id: roomId })).status, 200);
    t.equal((await server.call(bob, 'DELETE', alias('bobs2'))).status, 200);
    t.equal((await server.call(alice, 'DELETE', alias('never'))).status, 404);
  });

  await t.test('GET /rooms/{id}/aliases: members or world_readable only', async (t) => {
    const roomId = await server.createRoom(alice);
    const res = await server.call(carol, 'GET', server.room(roomId, '/aliases'));
    t.equal(res.status, 403);
    const readable = await server.createRoom(alice, {
      initial_state: [
        { type: 'm.room.history_visibility', content: { history_visibility: 'world_readable' } },
      ],
    });
    t.equal((await server.call(alice, 'PUT', alias('readable'), { room_id: readable })).status, 200);
    t.same((await server.call(carol, 'GET', server.room(readable, '/aliases'))).body, {
      aliases: ['#readable:test.local'],
    });
  });

  await t.test('createRoom with room_alias_name, then /join/#alias', async (t) => {
    const res = await server.call(alice, 'POST', '/_matrix/client/v3/createRoom', {
      preset: 'public_chat',
      room_alias_name: 'town-square',
    });
    t.equal(res.status, 200);
    const roomId = res.body.room_id as string;
    const canonical = await server.call(alice, 'GET', server.room(roomId, '/state/m.room.canonical_alias/'));
    t.same(canonical.body, { alias: '#town-square:test.local' });
    t.equal((await server.call(undefined, 'GET', alias('town-square'))).body.room_id, roomId);
    const joined = await server.call(
      bob,
      'POST',
      `/_matrix/client/v3/join/${encodeURIComponent('#town-square:test.local')}`,
      {},
    );
    t.same(joined.body, { room_id: roomId });
    const again = await server.call(bob, 'POST', '/_matrix/client/v3/createRoom', {
      room_alias_name: 'town-square',
    });
    t.equal(again.status, 400);
    t.equal(again.body.errcode, 'M_ROOM_IN_USE');
    const invalid = await server.call(bob, 'POST', '/_matrix/client/v3/createRoom', {
      room_alias_name: 'a:b',
    });
    t.equal(invalid.status, 400);
    t.equal(invalid.body.errcode, 'M_INVALID_PARAM');
  });

  await t.test('deleting the canonical alias updates m.room.canonical_alias', async (t) => {
    const res = await server.call(alice, 'POST', '/_matrix/client/v3/createRoom', {
      room_alias_name: 'fleeting',
    });
    const roomId = res.body.room_id as string;
    t.equal((await server.call(alice, 'DELETE', alias('fleeting'))).status, 200);
    const canonical = await server.call(alice, 'GET', server.room(roomId, '/state/m.room.canonical_alias/'));
    t.same(canonical.body, {});
  });

  await t.test('canonical alias validation: local aliases must point at the room', async (t) => {
    const aliases = server.kernel.container.cradle.directoryAliasService;
    const failure = (p: Promise<void>) =>
      p.then(
        () => 'accepted',
        (err: unknown) => err,
      );
    const mine = await server.createRoom(alice, { room_alias_name: 'canon-mine' });
    const other = await server.createRoom(alice, { room_alias_name: 'canon-other' });
    await aliases.validateCanonicalAlias(mine, { alias: '#canon-mine:test.local' });
    await aliases.validateCanonicalAlias(mine, { alt_aliases: ['#anything:elsewhere.org'] });
    await aliases.validateCanonicalAlias(mine, {});
    t.match(await failure(aliases.validateCanonicalAlias(mine, { alias: '#canon-other:test.local' })), {
      status: 400,
      errcode: 'M_BAD_ALIAS',
    });
    t.match(await failure(aliases.validateCanonicalAlias(other, { alt_aliases: ['#unknown:test.local'] })), {
      errcode: 'M_BAD_ALIAS',
    });
    t.match(await failure(aliases.validateCanonicalAlias(mine, { alias: 'not-an-alias' })), {
      status: 400,
      errcode: 'M_INVALID_PARAM',
    });
    t.match(await failure(aliases.validateCanonicalAlias(mine, { alt_aliases: 'nope' })), {
      errcode: 'M_INVALID_PARAM',
    });
  });

  await t.test('PUT m.room.canonical_alias is validated over HTTP', async (t) => {
    const mine = await server.createRoom(alice, { room_alias_name: 'http-canon-mine' });
    await server.createRoom(alice, { room_alias_name: 'http-canon-other' });
    const path = `/_matrix/client/v3/rooms/${encodeURIComponent(mine)}/state/m.room.canonical_alias`;
    const bad = await server.call(alice, 'PUT', path, { alias: '#http-canon-other:test.local' });
    t.equal(bad.status, 400);
    t.equal(bad.body.errcode, 'M_BAD_ALIAS');
    const good = await server.call(alice, 'PUT', path, { alias: '#http-canon-mine:test.local' });
    t.equal(good.status, 200);
  });

  await t.test('aliases follow an upgraded room', async (t) => {
    const res = await server.call(alice, 'POST', '/_matrix/client/v3/createRoom', {
      room_alias_name: 'mover',
      visibility: 'public',
    });
    const oldRoom = res.body.room_id as string;
    const up = await server.call(alice, 'POST', server.room(oldRoom, '/upgrade'), { new_version: '11' });
    t.equal(up.status, 200);
    const newRoom = up.body.replacement_room as string;
    t.equal((await server.call(undefined, 'GET', alias('mover'))).body.room_id, newRoom);
    const canonical = await server.call(alice, 'GET', server.room(newRoom, '/state/m.room.canonical_alias/'));
    t.same(canonical.body, { alias: '#mover:test.local' });
    const listing = (roomId: string) =>
      `/_matrix/client/v3/directory/list/room/${encodeURIComponent(roomId)}`;
    t.same((await server.call(undefined, 'GET', listing(newRoom))).body, { visibility: 'public' });
    t.same((await server.call(undefined, 'GET', listing(oldRoom))).body, { visibility: 'private' });
  });
});
