/**
 * Filling gaps on receipt, between two real Axon servers over TLS: A's room is mirrored into B's database
 * (B has no remote join of its own yet), B's user talks on B without A hearing it, then B pushes only its
 * latest event to A through /send. A must fetch what lies between from B: with get_missing_events for a
 * gap of 3, and with the state before the oldest pulled event (/state_ids + /event, stored as outliers)
 * when the gap is larger than get_missing_events' limit. A runs on both engines.
 */
import t from 'tap';
import { makeUser, openRegistrationConfig, type TestUser } from '../../../helpers/fixtures.js';
import type { TestServer } from '../../../helpers/start-server.js';
import { withAllDatabasesConcurrently } from '../../../helpers/with-all-databases.js';
import { enc, mirrorRoom, residentPeer, type Json } from './resident-peer.js';
import { makeTestCa, startFederatedServer } from './test-federation.js';

const ca = await makeTestCa(t);

let txnCounter = 0;
async function say(server: TestServer, user: TestUser, roomId: string, body: string): Promise<string> {
  const res = await server.request(
    'PUT',
    `/_matrix/client/v3/rooms/${enc(roomId)}/send/m.room.message/t${++txnCounter}`,
    { token: user.accessToken, body: { msgtype: 'm.text', body } },
  );
  if (res.status !== 200) throw new Error(`send: ${res.status} ${res.text}`);
  return res.body.event_id as string;
}

await withAllDatabasesConcurrently(t, async (t, database) => {
  const a = await startFederatedServer(t, ca, { ...openRegistrationConfig, database });
  const b = await startFederatedServer(t, ca, { ...openRegistrationConfig });
  const alice = await makeUser(a, { localpart: 'alice' });
  const bob = await makeUser(b, { localpart: 'bob' });
  const peer = residentPeer(a, b);

  const created = await a.request('POST', '/_matrix/client/v3/createRoom', {
    token: alice.accessToken,
    body: { preset: 'public_chat' },
  });
  const roomId = created.body.room_id as string;
  await peer.join(roomId, bob.userId);
  await say(a, alice, roomId, 'hello from A');
  await mirrorRoom(a, b, roomId);

  /** B pushes one of its events to A in a transaction; A's answer for it. */
  const push = async (eventId: string): Promise<Json> => {
    const stored = await b.kernel.container.cradle.roomsEventStore.getEvent(eventId);
    const answer = await peer.ask('PUT', `/_matrix/federation/v1/send/push-${++txnCounter}`, {
      body: { origin: b.serverName, origin_server_ts: Date.now(), pdus: [stored!.pdu] },
    });
    return answer.pdus[eventId];
  };
  const messagesAtA = async (): Promise<string[]> => {
    const res = await a.request('GET', `/_matrix/client/v3/rooms/${enc(roomId)}/messages?dir=b&limit=100`, {
      token: alice.accessToken,
    });
    return (res.body.chunk as Json[])
      .filter((e) => e.type === 'm.room.message')
      .map((e) => e.content.body as string)
      .reverse();
  };

  await t.test('a gap of 3 is filled with get_missing_events', async (t) => {
    const since = (await a.request('GET', '/_matrix/client/v3/sync', { token: alice.accessToken })).body
      .next_batch as string;
    const ids: string[] = [];
    for (const body of ['g1', 'g2', 'g3', 'g4']) ids.push(await say(b, bob, roomId, body));
    t.same(await push(ids[3]!), {}, 'the latest event is accepted');
    for (const id of ids) {
      const e = await a.kernel.container.cradle.roomsEventStore.getEvent(id);
      t.ok(e && e.rejectedReason === null, `A has ${id}`);
    }
    t.same(await messagesAtA(), ['hello from A', 'g1', 'g2', 'g3', 'g4'], 'in order in /messages');
    const sync = await a.request('GET', `/_matrix/client/v3/sync?since=${since}&timeout=0`, {
      token: alice.accessToken,
    });
    t.same(
      (sync.body.rooms.join[roomId].timeline.events as Json[]).map((e) => e.content.body),
      ['g1', 'g2', 'g3', 'g4'],
      'and in /sync',
    );
    t.same(
      (await a.kernel.container.cradle.roomsHeads.get(roomId))!.extremities,
      [ids[3]],
      'the gap is closed: one forward extremity',
    );
  });

  await t.test('a remote that cannot answer: refused, nothing stored', async (t) => {
    const first = await say(b, bob, roomId, 'lost-1');
    const second = await say(b, bob, roomId, 'lost-2');
    const pdu = (await b.kernel.container.cradle.roomsEventStore.getEvent(second))!.pdu;
    const down = (): Promise<never> => Promise.reject(new Error('connection refused'));
    const asked: string[] = [];
    const outcome = await a.kernel.container.cradle.roomsFederationApi.receivePdu({
      pdu,
      keys: a.kernel.container.cradle.federationTransactions.keys,
      origin: b.serverName,
      remote: {
        server: b.serverName,
        getMissingEvents: () => (asked.push('get_missing_events'), down()),
        stateIds: () => (asked.push('state_ids'), down()),
        state: down,
        event: down,
        eventAuth: down,
        backfill: down,
      },
    });
    t.match(outcome, { status: 'refused', code: 'missing_prev_events' });
    t.same(asked, ['get_missing_events', 'state_ids'], 'both ways were tried');
    for (const id of [first, second]) t.notOk(await a.kernel.container.cradle.roomsEventStore.getEvent(id));
    // B's real endpoints fill it afterwards (the next test starts from here).
    t.same(await push(second), {});
  });

  await t.test('a gap larger than get_missing_events gets the state from /state_ids', async (t) => {
    const ids: string[] = [];
    for (let i = 1; i <= 15; i++) {
      if (i === 3) {
        const rename = await b.request(
          'PUT',
          `/_matrix/client/v3/rooms/${enc(roomId)}/state/m.room.member/${enc(bob.userId)}`,
          {
            token: bob.accessToken,
            body: { membership: 'join', displayname: 'Bob renamed in the gap' },
          },
        );
        t.equal(rename.status, 200);
        ids.push(rename.body.event_id as string);
        continue;
      }
      ids.push(await say(b, bob, roomId, `h${i}`));
    }
    const rename = ids[2]!;
    t.same(await push(ids[14]!), {}, 'the latest event is accepted');
    const store = a.kernel.container.cradle.roomsEventStore;
    const pulled = ids.slice(4); // get_missing_events' 10 and the pushed one
    for (const id of pulled) t.ok((await store.getEvent(id))?.rejectedReason === null, `A has ${id}`);
    for (const id of ids.slice(0, 2).concat(ids[3]!)) t.notOk(await store.getEvent(id), `A lacks ${id}`);
    const outlier = (await a.kernel.container.cradle
      .db('rooms_events')
      .where({ event_id: rename })
      .first()) as { outlier: unknown; stream_ordering: unknown } | undefined;
    t.ok(outlier, 'the state event inside the gap was fetched (/event after /state_ids)');
    t.ok(outlier!.outlier === true || outlier!.outlier === 1, 'and stored as an outlier');
    t.ok(Number(outlier!.stream_ordering) < 0, 'out of the stream');

    const seen = await messagesAtA();
    t.same(
      seen.slice(-10),
      ['h6', 'h7', 'h8', 'h9', 'h10', 'h11', 'h12', 'h13', 'h14', 'h15'],
      'the pulled events in order',
    );
    t.notOk(seen.includes('h1'), 'what lies before the state is not there');
    const chunk = (
      await a.request('GET', `/_matrix/client/v3/rooms/${enc(roomId)}/messages?dir=b&limit=100`, {
        token: alice.accessToken,
      })
    ).body.chunk as Json[];
    t.notOk(
      chunk.some((e) => e.event_id === rename),
      'the outlier is in no timeline',
    );
  });
});
