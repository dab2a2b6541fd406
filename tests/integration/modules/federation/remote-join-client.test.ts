/**
 * Joins, joining side: B's users join rooms on A through B's own client API (make_join → sign → send_join
 * → validate → store), by room id with `via` and by alias (`/query/directory`), in v12, v10 and v1 rooms;
 * both sides' /sync show the result. Refusals: invite-only (403), unknown room (404), unreachable server
 * (502), and a fake resident whose send_join answer is tampered with (502, nothing stored). Leaving a room
 * B is not in (rejecting an invite) with make_leave / send_leave. B's and A's messages after the join
 * reach the other side through inbound /send, driven by the test (no outbound sender yet).
 */
import { readFile } from 'node:fs/promises';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { createServer } from 'node:https';
import t from 'tap';
import { makeUser, openRegistrationConfig } from '../../../helpers/fixtures.js';
import { freshDatabase, pgUnavailableReason } from '../../../helpers/with-all-databases.js';
import { freePort, makeTestCa, startFederatedServer, type FederatedServer } from './test-federation.js';

const ca = await makeTestCa(t);
const a = await startFederatedServer(t, ca, { ...openRegistrationConfig });
const b = await startFederatedServer(t, ca, { ...openRegistrationConfig });
const alice = await makeUser(a, { localpart: 'alice' });
const enc = encodeURIComponent;

// eslint-disable-next-line @typescript-eslint/no-explicit-any
type Json = any;

async function createRoom(body: Record<string, unknown> = {}): Promise<string> {
  const res = await a.request('POST', '/_matrix/client/v3/createRoom', {
    token: alice.accessToken,
    body: { preset: 'public_chat', name: 'Lobby', ...body },
  });
  t.equal(res.status, 200, `createRoom ${JSON.stringify(body)}`);
  return res.body.room_id as string;
}

async function joinFromB(
  token: string,
  roomIdOrAlias: string,
  via: string[] = [],
): Promise<{ status: number; body: Json }> {
  const query = via.map((s) => `via=${enc(s)}`).join('&');
  return b.request('POST', `/_matrix/client/v3/join/${enc(roomIdOrAlias)}${query ? `?${query}` : ''}`, {
    token,
    body: {},
  });
}

/** Server `from` delivers a PDU it stored to `to` through inbound /send (no outbound sender yet). */
async function deliver(from: FederatedServer, to: FederatedServer, eventId: string): Promise<Json> {
  const found = await from.kernel.container.cradle.roomsFederationApi.getPdu(eventId);
  return from.kernel.container.cradle.federationClient.request({
    method: 'PUT',
    destination: to.serverName,
    path: `/_matrix/federation/v1/send/${enc(`deliver-${eventId}`)}`,
    body: { origin: from.serverName, origin_server_ts: Date.now(), pdus: [found!.pdu] },
  });
}

function stateOf(room: Json): Json[] {
  return [...(room.state?.events ?? []), ...(room.timeline?.events ?? [])];
}

void t.test('B’s user joins A’s public room (v12) by id with via; both sides see it in /sync', async (t) => {
  const roomId = await createRoom();
  const bob = await makeUser(b, { localpart: 'bob' });
  const joined = await joinFromB(bob.accessToken, roomId, [a.serverName]);
  t.equal(joined.status, 200, JSON.stringify(joined.body));
  t.equal(joined.body.room_id, roomId);

  const sync = await b.request('GET', '/_matrix/client/v3/sync', { token: bob.accessToken });
  const room = sync.body.rooms?.join?.[roomId];
  t.ok(room, 'the room is joined in B’s /sync');
  const events = stateOf(room);
  t.ok(
    events.some((e: Json) => e.type === 'm.room.name' && e.content.name === 'Lobby'),
    'with its name',
  );
  const members = events.filter((e: Json) => e.type === 'm.room.member' && e.content.membership === 'join');
  t.same(members.map((e: Json) => e.state_key).sort(), [alice.userId, bob.userId].sort(), 'both members');
  t.same(
    room.timeline.events.map((e: Json) => e.type),
    ['m.room.member'],
    'the join is the timeline; the state before it is no part of it',
  );
  t.same(await b.kernel.container.cradle.roomsApi.joinedRooms(bob.userId), [roomId]);
  const bHead = (await b.kernel.container.cradle.roomsHeads.get(roomId))!;
  t.same(bHead.extremities, [room.timeline.events[0].event_id], 'the join is the head');

  const aSync = await a.request('GET', '/_matrix/client/v3/sync', { token: alice.accessToken });
  t.ok(
    aSync.body.rooms.join[roomId].timeline.events.some(
      (e: Json) =>
        e.type === 'm.room.member' && e.state_key === bob.userId && e.content.membership === 'join',
    ),
    'A’s user sees B’s join',
  );

  // After the join: B's message reaches A, A's message reaches B (each through inbound /send).
  const sent = await b.request('PUT', `/_matrix/client/v3/rooms/${enc(roomId)}/send/m.room.message/t1`, {
    token: bob.accessToken,
    body: { msgtype: 'm.text', body: 'hello from B' },
  });
  t.equal(sent.status, 200, 'B’s user can send in the joined room');
  t.same(await deliver(b, a, sent.body.event_id), { pdus: { [sent.body.event_id]: {} } });
  const aAfter = await a.request('GET', '/_matrix/client/v3/sync', { token: alice.accessToken });
  t.ok(
    aAfter.body.rooms.join[roomId].timeline.events.some((e: Json) => e.content.body === 'hello from B'),
    'A’s user reads B’s message',
  );
  const reply = await a.request('PUT', `/_matrix/client/v3/rooms/${enc(roomId)}/send/m.room.message/t2`, {
    token: alice.accessToken,
    body: { msgtype: 'm.text', body: 'hello from A' },
  });
  t.same(await deliver(a, b, reply.body.event_id), { pdus: { [reply.body.event_id]: {} } });
  const bAfter = await b.request('GET', `/_matrix/client/v3/sync?since=${enc(sync.body.next_batch)}`, {
    token: bob.accessToken,
  });
  t.same(
    bAfter.body.rooms.join[roomId].timeline.events.map((e: Json) => e.content.body),
    ['hello from B', 'hello from A'],
    'B’s user reads both in order',
  );
});

void t.test('B’s user joins by alias (query/directory) and A serves the query', async (t) => {
  const roomId = await createRoom({ room_alias_name: 'lobby' });
  const alias = `#lobby:${a.serverName}`;
  const query = (await b.kernel.container.cradle.federationClient.request({
    method: 'GET',
    destination: a.serverName,
    path: '/_matrix/federation/v1/query/directory',
    query: { room_alias: alias },
  })) as Json;
  t.same(query, { room_id: roomId, servers: [a.serverName] });
  const missing = await b.kernel.container.cradle.federationClient
    .request({
      method: 'GET',
      destination: a.serverName,
      path: '/_matrix/federation/v1/query/directory',
      query: { room_alias: `#nope:${a.serverName}` },
    })
    .catch((err: Json) => err);
  t.match(missing, { status: 404, errcode: 'M_NOT_FOUND' });

  const viaClient = await b.request('GET', `/_matrix/client/v3/directory/room/${enc(alias)}`);
  t.same(viaClient.body, { room_id: roomId, servers: [a.serverName] }, 'B’s client API asks A');
  t.equal(
    (await b.request('GET', `/_matrix/client/v3/directory/room/${enc(`#nope:${a.serverName}`)}`)).status,
    404,
  );

  const carol = await makeUser(b, { localpart: 'carol' });
  const joined = await joinFromB(carol.accessToken, alias);
  t.equal(joined.status, 200, JSON.stringify(joined.body));
  t.equal(joined.body.room_id, roomId);
  t.ok((await a.kernel.container.cradle.roomsApi.members(roomId)).includes(carol.userId));
  const unknown = await joinFromB(carol.accessToken, `#nope:${a.serverName}`);
  t.equal(unknown.status, 404);
  t.equal(unknown.body.errcode, 'M_NOT_FOUND');
});

void t.test('older room versions (v10, v1) join the same way', async (t) => {
  for (const version of ['10', '1']) {
    const roomId = await createRoom({ room_version: version });
    const dave = await makeUser(b, { localpart: `dave${version}` });
    const joined = await joinFromB(dave.accessToken, roomId);
    t.equal(joined.status, 200, `v${version}: ${JSON.stringify(joined.body)}`);
    t.equal(await b.kernel.container.cradle.roomsApi.roomVersion(roomId), version);
    const sync = await b.request('GET', '/_matrix/client/v3/sync', { token: dave.accessToken });
    t.ok(
      stateOf(sync.body.rooms.join[roomId]).some((e: Json) => e.state_key === alice.userId),
      `v${version}: A’s member in B’s /sync`,
    );
  }
});

const pgUnavailable = await pgUnavailableReason();
void t.test(
  'a joining server on PostgreSQL (v12 and v1 rooms)',
  { skip: pgUnavailable ?? false },
  async (t) => {
    const bpg = await startFederatedServer(t, ca, {
      ...openRegistrationConfig,
      database: await freshDatabase(t, 'pg'),
    });
    for (const version of ['12', '1']) {
      const roomId = await createRoom({ room_version: version });
      const pat = await makeUser(bpg, { localpart: `pat${version}` });
      const joined = await bpg.request(
        'POST',
        `/_matrix/client/v3/join/${enc(roomId)}?via=${enc(a.serverName)}`,
        {
          token: pat.accessToken,
          body: {},
        },
      );
      t.equal(joined.status, 200, `v${version}: ${JSON.stringify(joined.body)}`);
      const sync = await bpg.request('GET', '/_matrix/client/v3/sync', { token: pat.accessToken });
      const room = sync.body.rooms.join[roomId];
      t.ok(
        stateOf(room).some((e: Json) => e.type === 'm.room.name' && e.content.name === 'Lobby'),
        `v${version}: the room's name`,
      );
      t.same(room.timeline.events.length, 1, `v${version}: the join alone in the timeline`);
      const sent = await bpg.request(
        'PUT',
        `/_matrix/client/v3/rooms/${enc(roomId)}/send/m.room.message/p${version}`,
        {
          token: pat.accessToken,
          body: { msgtype: 'm.text', body: 'from pg' },
        },
      );
      t.equal(sent.status, 200);
    }
    // Two joins of different rooms at once: their outliers' stream orderings collide, one retries.
    const rooms = [await createRoom(), await createRoom()];
    const users = [await makeUser(bpg, { localpart: 'quinn' }), await makeUser(bpg, { localpart: 'rosa' })];
    const results = await Promise.all(
      rooms.map((roomId, i) =>
        bpg.request('POST', `/_matrix/client/v3/join/${enc(roomId)}?via=${enc(a.serverName)}`, {
          token: users[i]!.accessToken,
          body: {},
        }),
      ),
    );
    t.same(
      results.map((r) => r.status),
      [200, 200],
      'concurrent joins both succeed',
    );
  },
);

void t.test('refusals: invite-only 403, unknown room 404, unreachable server 502', async (t) => {
  const erin = await makeUser(b, { localpart: 'erin' });
  const closed = await createRoom({ preset: 'private_chat' });
  const refused = await joinFromB(erin.accessToken, closed, [a.serverName]);
  t.equal(refused.status, 403);
  t.equal(refused.body.errcode, 'M_FORBIDDEN');
  const unknown = await joinFromB(erin.accessToken, `!nope:${a.serverName}`);
  t.equal(unknown.status, 404);
  const port = await freePort();
  const unreachable = await joinFromB(erin.accessToken, `!nope:localhost:${port}`);
  t.equal(unreachable.status, 502);
  const noServer = await joinFromB(erin.accessToken, `!nope:${b.serverName}`);
  t.equal(noServer.status, 404, 'a room of ours we do not know: no server to ask');
  t.same(await b.kernel.container.cradle.roomsApi.joinedRooms(erin.userId), []);
  t.notOk(await b.kernel.container.cradle.roomsHeads.get(closed), 'nothing stored');
});

void t.test('a tampered send_join answer from a fake resident is refused, nothing stored', async (t) => {
  // The fake resident F forwards make_join / send_join to A (signed as B, whose key the test holds) and
  // spoils A's answer on the way back.
  let tamper: (answer: Json) => void = () => undefined;
  const fPort = await freePort();
  const fName = `localhost:${fPort}`;
  const fake = createServer(
    { cert: await readFile(ca.certPath), key: await readFile(ca.keyPath) },
    (req: IncomingMessage, res: ServerResponse) => {
      const chunks: Buffer[] = [];
      req.on('data', (c: Buffer) => chunks.push(c));
      req.on('end', () => {
        void (async () => {
          const url = new URL(req.url ?? '/', 'https://x');
          const query: Record<string, string[]> = {};
          for (const [k, v] of url.searchParams) (query[k] ??= []).push(v);
          const method = req.method as 'GET' | 'PUT';
          try {
            const answer = (await b.kernel.container.cradle.federationClient.request({
              method,
              destination: a.serverName,
              path: url.pathname,
              query,
              ...(method === 'PUT' ? { body: JSON.parse(Buffer.concat(chunks).toString('utf8')) } : {}),
            })) as Json;
            if (url.pathname.includes('/send_join/')) tamper(answer);
            res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify(answer));
          } catch (err) {
            const e = err as Json;
            res
              .writeHead(e.status ?? 500, { 'content-type': 'application/json' })
              .end(JSON.stringify(e.body ?? {}));
          }
        })();
      });
    },
  );
  await new Promise<void>((resolve) => fake.listen(fPort, '127.0.0.1', resolve));
  t.teardown(() => new Promise<void>((resolve) => fake.close(() => resolve())));

  const cases: [string, (answer: Json) => void][] = [
    [
      'a state event whose signed field was changed',
      (answer) => {
        const pl = answer.state.find((e: Json) => e.type === 'm.room.power_levels');
        pl.origin_server_ts += 1;
      },
    ],
    [
      'no create event in the state',
      (answer) => {
        answer.state = answer.state.filter((e: Json) => e.type !== 'm.room.create');
      },
    ],
    [
      'an auth event missing from the auth chain',
      (answer) => {
        answer.auth_chain = answer.auth_chain.filter((e: Json) => e.type !== 'm.room.power_levels');
        answer.state = answer.state.filter((e: Json) => e.type !== 'm.room.power_levels');
      },
    ],
  ];
  for (const [i, [what, spoil]] of cases.entries()) {
    tamper = spoil;
    const roomId = await createRoom(); // v12: the room id names no server to fall back on
    const frank = await makeUser(b, { localpart: `frank${i}` });
    const joined = await joinFromB(frank.accessToken, roomId, [fName]);
    t.equal(joined.status, 502, `${what}: ${JSON.stringify(joined.body)}`);
    t.notOk(await b.kernel.container.cradle.roomsHeads.get(roomId), `${what}: no room stored`);
    t.same(await b.kernel.container.cradle.roomsApi.joinedRooms(frank.userId), [], `${what}: not joined`);
  }
  tamper = () => undefined;
  const roomId = await createRoom();
  const grace = await makeUser(b, { localpart: 'grace' });
  t.equal(
    (await joinFromB(grace.accessToken, roomId, [fName])).status,
    200,
    'an honest answer through F joins',
  );
});

void t.test('leaving a room B is not in (rejecting an invite): make_leave / send_leave', async (t) => {
  const roomId = await createRoom();
  const henry = await makeUser(b, { localpart: 'henry' });
  const invited = await a.request('POST', `/_matrix/client/v3/rooms/${enc(roomId)}/invite`, {
    token: alice.accessToken,
    body: { user_id: henry.userId },
  });
  t.equal(invited.status, 200);
  const left = await b.request('POST', `/_matrix/client/v3/rooms/${enc(roomId)}/leave`, {
    token: henry.accessToken,
    body: { reason: 'no thanks' },
  });
  t.equal(left.status, 200, JSON.stringify(left.body));
  const member = await a.kernel.container.cradle.roomsApi.currentStateEvent(
    roomId,
    'm.room.member',
    henry.userId,
  );
  t.match(member?.content, { membership: 'leave', reason: 'no thanks' }, 'A holds the rejection');

  // A stranger cannot "leave" (no membership to leave from): the resident's 403 is relayed.
  const stranger = await b.kernel.container.cradle.roomsHookLists
    .federationInvites!.leave({
      roomId,
      userId: `@ivan:${b.serverName}`,
      servers: [a.serverName],
      content: { membership: 'leave' },
    })
    .catch((err: unknown) => err);
  t.match(stranger, { status: 403, errcode: 'M_FORBIDDEN' });
});
