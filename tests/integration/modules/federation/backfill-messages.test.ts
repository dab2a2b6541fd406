/**
 * Backfill through /messages between two real Axon servers over TLS: B's user creates a room and writes a
 * long history (300 messages); A's user joins it (make_join/send_join against B, signed with A's key, and
 * the joining side's result written into A through rooms' services: the remote join is not built on this
 * branch). Paging A's /messages backwards then backfills from B transparently: every message in order,
 * then the room's creation (the state A held as outliers enters the timeline), and none of it shows up in
 * A's /sync as new. A runs on both engines.
 */
import t from 'tap';
import { makeUser, openRegistrationConfig } from '../../../helpers/fixtures.js';
import { withAllDatabasesConcurrently } from '../../../helpers/with-all-databases.js';
import { enc, seedRemoteJoin, type Json } from './resident-peer.js';
import { makeTestCa, startFederatedServer } from './test-federation.js';

const ca = await makeTestCa(t);
const HISTORY = 300;

await withAllDatabasesConcurrently(t, async (t, database) => {
  const a = await startFederatedServer(t, ca, { ...openRegistrationConfig, database });
  const b = await startFederatedServer(t, ca, { ...openRegistrationConfig });
  const alice = await makeUser(a, { localpart: 'alice' });
  const bob = await makeUser(b, { localpart: 'bob' });

  const created = await b.request('POST', '/_matrix/client/v3/createRoom', {
    token: bob.accessToken,
    body: { preset: 'public_chat', name: 'history' },
  });
  const roomId = created.body.room_id as string;
  const sent: string[] = [];
  for (let i = 1; i <= HISTORY; i++) {
    const res = await b.request('PUT', `/_matrix/client/v3/rooms/${enc(roomId)}/send/m.room.message/m${i}`, {
      token: bob.accessToken,
      body: { msgtype: 'm.text', body: `m${i}` },
    });
    if (res.status !== 200) throw new Error(`send: ${res.status} ${res.text}`);
    sent.push(res.body.event_id as string);
  }
  // A redaction newer than all of them: it reaches A in the first backfill batch, its target in a later one.
  const redacted = sent[149]!;
  const redaction = await b.request(
    'PUT',
    `/_matrix/client/v3/rooms/${enc(roomId)}/redact/${enc(redacted)}/r1`,
    {
      token: bob.accessToken,
      body: { reason: 'gone' },
    },
  );
  if (redaction.status !== 200) throw new Error(`redact: ${redaction.status} ${redaction.text}`);
  const joinId = await seedRemoteJoin(a, b, roomId, alice.userId);
  const since = (await a.request('GET', '/_matrix/client/v3/sync', { token: alice.accessToken })).body
    .next_batch as string;

  await t.test('/messages backfills the whole history from B, in order', async (t) => {
    const seen: Json[] = [];
    let from: string | undefined;
    const started = performance.now();
    for (let page = 0; page < 30; page++) {
      const res = await a.request(
        'GET',
        `/_matrix/client/v3/rooms/${enc(roomId)}/messages?dir=b&limit=40${from ? `&from=${enc(from)}` : ''}`,
        { token: alice.accessToken },
      );
      t.equal(res.status, 200);
      seen.push(...(res.body.chunk as Json[]));
      if (res.body.end === undefined) break;
      from = res.body.end as string;
    }
    // A figure for the README, not an assertion.
    t.comment(
      `paging back through ${seen.length} events with backfill: ${Math.round(performance.now() - started)} ms`,
    );
    const chronological = seen.reverse();
    t.equal(chronological[0]?.type, 'm.room.create', 'down to the room’s creation');
    t.equal(chronological[chronological.length - 1]?.event_id, joinId, 'up from alice’s join');
    const bodies = chronological.filter((e) => e.type === 'm.room.message').map((e) => e.content.body);
    t.same(
      bodies,
      Array.from({ length: HISTORY }, (_, i) => (i === 149 ? undefined : `m${i + 1}`)),
      `all ${HISTORY} messages, in order (m150 redacted)`,
    );
    const target = chronological.find((e) => e.event_id === redacted);
    t.same(target?.content, {}, 'the message redacted before it was backfilled comes redacted');
    const row = (await a.kernel.container.cradle.roomsEventStore.getEvent(redacted))!;
    t.equal(row.redactedBy, redaction.body.event_id, 'and is stored redacted');
    t.notOk(JSON.stringify(row.pdu).includes('m150'), 'its content never landed');
    t.equal(new Set(chronological.map((e) => e.event_id)).size, chronological.length, 'no duplicates');
    t.ok(
      chronological.some((e) => e.type === 'm.room.name' && e.content.name === 'history'),
      'the creation’s state events are in the timeline',
    );

    const again = await a.request(
      'GET',
      `/_matrix/client/v3/rooms/${enc(roomId)}/messages?dir=b&limit=1000`,
      {
        token: alice.accessToken,
      },
    );
    t.equal((again.body.chunk as Json[]).length, chronological.length, 'a second read asks nobody');
  });

  await t.test('backfilled history is not new to /sync and leaves the current state alone', async (t) => {
    const sync = await a.request('GET', `/_matrix/client/v3/sync?since=${enc(since)}&timeout=0`, {
      token: alice.accessToken,
    });
    t.notOk(sync.body.rooms?.join?.[roomId]?.timeline?.events?.length, 'nothing new in /sync');
    const head = (await a.kernel.container.cradle.roomsHeads.get(roomId))!;
    t.same(head.extremities, [joinId], 'the forward extremity is still the join');
    const name = await a.request('GET', `/_matrix/client/v3/rooms/${enc(roomId)}/state/m.room.name/`, {
      token: alice.accessToken,
    });
    t.equal(name.body.name, 'history');
  });
});
