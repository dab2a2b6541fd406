/**
 * The resident side's history reads between two Axon servers over TLS (the test plays B with its real
 * key): /backfill, /get_missing_events, /event_auth, /timestamp_to_event — their answers and errors — and
 * the history visibility B is entitled to on those and on /event, /state_ids (joined, invited, shared,
 * world_readable). A runs on both engines.
 */
import t, { type Test } from 'tap';
import type { PduJson } from '../../../../core/protocol/pdu.js';
import { makeUser, openRegistrationConfig, type TestUser } from '../../../helpers/fixtures.js';
import { withAllDatabasesConcurrently } from '../../../helpers/with-all-databases.js';
import { enc, failure, residentPeer, type Json } from './resident-peer.js';
import { makeTestCa, startFederatedServer, type FederatedServer } from './test-federation.js';

const ca = await makeTestCa(t);

async function send(a: FederatedServer, user: TestUser, roomId: string, body: string): Promise<string> {
  const txn = `t${Math.random().toString(36).slice(2)}`;
  const res = await a.request('PUT', `/_matrix/client/v3/rooms/${enc(roomId)}/send/m.room.message/${txn}`, {
    token: user.accessToken,
    body: { msgtype: 'm.text', body },
  });
  if (res.status !== 200) throw new Error(`send: ${res.status} ${res.text}`);
  return res.body.event_id as string;
}

await withAllDatabasesConcurrently(t, async (t, database) => {
  const a = await startFederatedServer(t, ca, { ...openRegistrationConfig, database });
  const b = await startFederatedServer(t, ca);
  const alice = await makeUser(a, { localpart: 'alice' });
  const bob = `@bob:${b.serverName}`;
  const peer = residentPeer(a, b);
  const createRoom = async (body: Record<string, unknown> = {}): Promise<string> => {
    const res = await a.request('POST', '/_matrix/client/v3/createRoom', {
      token: alice.accessToken,
      body: { preset: 'public_chat', ...body },
    });
    return res.body.room_id as string;
  };

  await t.test('backfill, get_missing_events, event_auth and timestamp_to_event', async (t) => {
    const roomId = await createRoom();
    await peer.join(roomId, bob);
    const ids: string[] = [];
    for (let i = 0; i < 12; i++) ids.push(await send(a, alice, roomId, `m${i}`));
    const last = ids[ids.length - 1]!;

    const back = await peer.ask('GET', `/_matrix/federation/v1/backfill/${enc(roomId)}`, {
      query: { v: last, limit: '5' },
    });
    t.equal(back.origin, a.serverName);
    t.same(
      (back.pdus as PduJson[]).map((p) => p.content['body']),
      ['m11', 'm10', 'm9', 'm8', 'm7'],
      'from v included, newest first',
    );
    const all = await peer.ask('GET', `/_matrix/federation/v1/backfill/${enc(roomId)}`, {
      query: { v: last, limit: '1000' },
    });
    t.equal(
      (all.pdus as PduJson[])[(all.pdus as PduJson[]).length - 1]!.type,
      'm.room.create',
      'down to the create',
    );

    const missing = await peer.ask('POST', `/_matrix/federation/v1/get_missing_events/${enc(roomId)}`, {
      body: { earliest_events: [ids[3]], latest_events: [ids[8]], limit: 10, min_depth: 0 },
    });
    t.same(
      (missing.events as PduJson[]).map((p) => p.content['body']),
      ['m4', 'm5', 'm6', 'm7'],
      'between earliest and latest, both excluded, oldest first',
    );
    const limited = await peer.ask('POST', `/_matrix/federation/v1/get_missing_events/${enc(roomId)}`, {
      body: { earliest_events: [], latest_events: [last], limit: 2 },
    });
    t.same(
      (limited.events as PduJson[]).map((p) => p.content['body']),
      ['m9', 'm10'],
      'limit keeps the newest',
    );
    const deep = await peer.ask('POST', `/_matrix/federation/v1/get_missing_events/${enc(roomId)}`, {
      body: {
        earliest_events: [],
        latest_events: [last],
        limit: 20,
        min_depth: (missing.events as PduJson[])[0]!.depth,
      },
    });
    t.equal((deep.events as PduJson[])[0]!.content['body'], 'm4', 'nothing below min_depth');

    const auth = await peer.ask('GET', `/_matrix/federation/v1/event_auth/${enc(roomId)}/${enc(last)}`);
    const types = (auth.auth_chain as PduJson[]).map((e) => e.type).sort();
    // v12: the create event is no auth event (the room id is its hash).
    t.ok(types.includes('m.room.power_levels') && types.includes('m.room.member'), 'the auth chain');
    t.notOk(
      (auth.auth_chain as PduJson[]).some((e) => e.type === 'm.room.message'),
      'the event itself is not in it',
    );

    const now = await peer.ask('GET', `/_matrix/federation/v1/timestamp_to_event/${enc(roomId)}`, {
      query: { ts: String(Date.now() + 1000), dir: 'b' },
    });
    t.equal(now.event_id, last);
    t.type(now.origin_server_ts, 'number');
    const first = await peer.ask('GET', `/_matrix/federation/v1/timestamp_to_event/${enc(roomId)}`, {
      query: { ts: '0', dir: 'f' },
    });
    t.equal(
      first.event_id,
      (await a.kernel.container.cradle.roomsHeads.get(roomId))!.state.get('m.room.create\u0000')!.eventId,
    );
  });

  await t.test('errors: missing parameters, servers not in the room, unknown events', async (t) => {
    const roomId = await createRoom();
    const closed = await createRoom();
    await peer.join(roomId, bob);
    const msg = await send(a, alice, roomId, 'x');
    const e400 = async (p: Promise<unknown>, errcode: string, what: string): Promise<void> => {
      const err = await failure(p);
      t.equal(err.status, 400, what);
      t.equal(err.errcode, errcode, what);
    };
    const bf = `/_matrix/federation/v1/backfill/${enc(roomId)}`;
    await e400(peer.ask('GET', bf, { query: { limit: '5' } }), 'M_MISSING_PARAM', 'backfill without v');
    await e400(peer.ask('GET', bf, { query: { v: msg } }), 'M_MISSING_PARAM', 'backfill without limit');
    await e400(peer.ask('GET', bf, { query: { v: msg, limit: 'ten' } }), 'M_INVALID_PARAM', 'a bad limit');
    const ts = `/_matrix/federation/v1/timestamp_to_event/${enc(roomId)}`;
    await e400(peer.ask('GET', ts, { query: { dir: 'f' } }), 'M_MISSING_PARAM', 'no ts');
    await e400(peer.ask('GET', ts, { query: { ts: '1' } }), 'M_MISSING_PARAM', 'no dir');
    await e400(peer.ask('GET', ts, { query: { ts: '1', dir: 'x' } }), 'M_INVALID_PARAM', 'bad dir');
    const gme = `/_matrix/federation/v1/get_missing_events/${enc(roomId)}`;
    await e400(peer.ask('POST', gme, { body: { latest_events: [msg] } }), 'M_BAD_JSON', 'no earliest_events');
    await e400(
      peer.ask('POST', gme, { body: { earliest_events: [], latest_events: [msg], limit: 'x' } }),
      'M_BAD_JSON',
      'bad limit',
    );

    const notFound = await failure(
      peer.ask('GET', ts, { query: { ts: String(Date.now() + 60_000), dir: 'f' } }),
    );
    t.equal(notFound.status, 404, 'no event after ts');
    t.equal(notFound.errcode, 'M_NOT_FOUND');
    t.equal(
      (await failure(peer.ask('GET', `/_matrix/federation/v1/event_auth/${enc(roomId)}/${enc('$nope')}`)))
        .status,
      404,
    );
    t.equal(
      (await failure(peer.ask('GET', `/_matrix/federation/v1/event_auth/${enc(closed)}/${enc(msg)}`))).status,
      403,
      'another room, which B is not in',
    );
    for (const [method, path, options] of [
      ['GET', `/_matrix/federation/v1/backfill/${enc(closed)}`, { query: { v: msg, limit: '5' } }],
      [
        'POST',
        `/_matrix/federation/v1/get_missing_events/${enc(closed)}`,
        { body: { earliest_events: [], latest_events: [msg] } },
      ],
      ['GET', `/_matrix/federation/v1/timestamp_to_event/${enc(closed)}`, { query: { ts: '0', dir: 'f' } }],
      [
        'GET',
        `/_matrix/federation/v1/backfill/${enc('!unknown:nowhere')}`,
        { query: { v: msg, limit: '5' } },
      ],
    ] as const) {
      const err = await failure(peer.ask(method, path, options));
      t.equal(err.status, 403, `${method} ${path.split('/')[4]}: B is not in the room`);
      t.equal(err.errcode, 'M_FORBIDDEN');
    }

    // The server ACL denies B: every read is refused.
    await a.request('PUT', `/_matrix/client/v3/rooms/${enc(roomId)}/state/m.room.server_acl/`, {
      token: alice.accessToken,
      body: { allow: ['*'], deny: [b.serverName.split(':')[0]] },
    });
    t.equal((await failure(peer.ask('GET', bf, { query: { v: msg, limit: '5' } }))).status, 403, 'ACL');
  });

  /** A room with `visibility` where B's user joins after a first message; what B sees of that message. */
  const seenByB = async (
    t: Test,
    visibility: string,
    invite: boolean,
  ): Promise<{ before: Json; afterInvite: Json; stateIds: number }> => {
    const roomId = await createRoom({
      initial_state: [
        { type: 'm.room.history_visibility', state_key: '', content: { history_visibility: visibility } },
      ],
    });
    const secret = await send(a, alice, roomId, 'before B');
    let afterInvite: string | undefined;
    const carol = `@carol:${b.serverName}`;
    if (invite) {
      const inv = await a.request('POST', `/_matrix/client/v3/rooms/${enc(roomId)}/invite`, {
        token: alice.accessToken,
        body: { user_id: carol },
      });
      t.equal(inv.status, 200, 'invite B’s user');
      afterInvite = await send(a, alice, roomId, 'after the invite');
    }
    await peer.join(roomId, invite ? carol : bob);
    const last = await send(a, alice, roomId, 'after B joined');
    const event = await peer.ask('GET', `/_matrix/federation/v1/event/${enc(secret)}`);
    const back = await peer.ask('GET', `/_matrix/federation/v1/backfill/${enc(roomId)}`, {
      query: { v: last, limit: '50' },
    });
    const inBackfill = (back.pdus as Json[]).find(
      (p) => p.content.body === 'before B' || (p.type === 'm.room.message' && p.content.body === undefined),
    );
    t.ok(inBackfill, 'the message is in the backfill either way (redacted when hidden)');
    t.same(inBackfill.content, event.pdus[0].content, '/backfill and /event agree');
    const missing = await peer.ask('POST', `/_matrix/federation/v1/get_missing_events/${enc(roomId)}`, {
      body: { earliest_events: [], latest_events: [last], limit: 20 },
    });
    t.ok((missing.events as Json[]).some((p) => p.content.body === event.pdus[0].content.body));
    const ids = await peer
      .ask('GET', `/_matrix/federation/v1/state_ids/${enc(roomId)}`, { query: { event_id: secret } })
      .then(
        () => 200,
        (err: { status: number }) => err.status,
      );
    return {
      before: event.pdus[0],
      afterInvite:
        afterInvite && (await peer.ask('GET', `/_matrix/federation/v1/event/${enc(afterInvite)}`)).pdus[0],
      stateIds: ids,
    };
  };

  await t.test('history visibility per server', async (t) => {
    const joined = await seenByB(t, 'joined', false);
    t.same(joined.before.content, {}, 'joined: a message from before B’s user joined comes redacted');
    t.ok(joined.before.signatures, 'still signed (the redacted form)');
    t.equal(joined.stateIds, 403, 'joined: no state at a hidden event');

    const shared = await seenByB(t, 'shared', false);
    t.equal(shared.before.content.body, 'before B', 'shared: visible');
    t.equal(shared.stateIds, 200);

    const world = await seenByB(t, 'world_readable', false);
    t.equal(world.before.content.body, 'before B', 'world_readable: visible');

    const invited = await seenByB(t, 'invited', true);
    t.same(invited.before.content, {}, 'invited: hidden before the invite');
    t.equal(
      invited.afterInvite.content.body,
      'after the invite',
      'invited: visible once B’s user is invited',
    );
  });
});
