/**
 * Bundled aggregations over HTTP (spec "Aggregations of child events", "Event replacements", "Reference
 * relations", "Threading"): an original edited twice, the second edit redacted, checked at every endpoint
 * that serves the original — /event, /messages, /context, /relations, /threads, /sync — on both engines.
 */
import t, { type Test } from 'tap';
import { withAllDatabases } from '../../../helpers/with-all-databases.js';
import { startRoomsServer, type RoomsTestServer, type TestUser } from '../rooms/rooms-test-server.js';

// Test bodies read arbitrary JSON.
/* eslint-disable @typescript-eslint/no-explicit-any */
type Json = any;

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
let txn = 0;

async function sendContent(
  server: RoomsTestServer,
  user: TestUser,
  roomId: string,
  content: Record<string, unknown>,
  type = 'm.room.message',
): Promise<string> {
  const res = await server.call(user, 'PUT', server.room(roomId, `/send/${type}/rel${++txn}`), content);
  if (res.status !== 200) throw new Error(`send failed: ${res.status} ${res.text}`);
  // Distinct origin_server_ts, so "most recent" does not fall back to the event id tie-break.
  await sleep(3);
  return res.body.event_id as string;
}

function edit(target: string, body: string): Record<string, unknown> {
  return {
    msgtype: 'm.text',
    body: `* ${body}`,
    'm.new_content': { msgtype: 'm.text', body },
    'm.relates_to': { rel_type: 'm.replace', event_id: target },
  };
}

const relationsOf = (e: Json): Json => e?.unsigned?.['m.relations'];
const find = (chunk: Json[], id: string): Json => chunk.find((e) => e.event_id === id);

void t.test('bundled aggregations', async (t) => {
  await withAllDatabases(t, async (t, database) => {
    const server = await startRoomsServer(t, { database });
    const alice = await server.user('alice');
    const bob = await server.user('bob');
    const roomId = await server.createRoom(alice, { preset: 'public_chat' });
    await server.call(bob, 'POST', server.room(roomId, '/join'), {});
    const v1 = `/_matrix/client/v1/rooms/${encodeURIComponent(roomId)}`;

    const before = await server.call(alice, 'GET', '/_matrix/client/v3/sync');
    const since = before.body.next_batch as string;

    const original = await server.send(alice, roomId, 'hello');
    const edit1 = await sendContent(server, alice, roomId, edit(original, 'hello one'));
    const edit2 = await sendContent(server, alice, roomId, edit(original, 'hello two'));
    // Not valid replacements: another sender; no m.new_content; an edit of an edit.
    const foreign = await sendContent(server, bob, roomId, edit(original, 'bob was here'));
    const noNewContent = await sendContent(server, alice, roomId, {
      body: 'no new content',
      'm.relates_to': { rel_type: 'm.replace', event_id: original },
    });
    const editOfEdit = await sendContent(server, alice, roomId, edit(edit1, 'nested'));
    const reference = await sendContent(server, bob, roomId, {
      body: 'see above',
      'm.relates_to': { rel_type: 'm.reference', event_id: original },
    });

    await t.test('the latest valid edit is bundled; the content is not replaced', async (t) => {
      const ev = await server.call(bob, 'GET', server.room(roomId, `/event/${original}`));
      t.equal(ev.status, 200);
      t.equal(ev.body.content.body, 'hello', 'original content left intact');
      const rel = relationsOf(ev.body);
      t.equal(rel['m.replace'].event_id, edit2);
      t.equal(rel['m.replace'].content['m.new_content'].body, 'hello two');
      t.equal(rel['m.replace'].sender, alice.userId);
      t.same(rel['m.reference'], { chunk: [{ event_id: reference }] });
      const first = await server.call(alice, 'GET', server.room(roomId, `/event/${edit1}`));
      t.notOk(relationsOf(first.body)?.['m.replace'], 'an edit of an edit is ignored');
      t.ok(editOfEdit);
      const bobs = await server.call(alice, 'GET', server.room(roomId, `/event/${foreign}`));
      t.equal(bobs.status, 200);
    });

    const redaction = await server.call(
      alice,
      'PUT',
      server.room(roomId, `/redact/${edit2}/red${++txn}`),
      {},
    );
    t.equal(redaction.status, 200);
    const later = await server.send(alice, roomId, 'later');

    const checkOriginal = (t: Test, e: Json, where: string): void => {
      t.ok(e, `${where}: the original is served`);
      t.equal(e?.content?.body, 'hello', `${where}: content intact`);
      t.equal(relationsOf(e)?.['m.replace']?.event_id, edit1, `${where}: a redacted edit falls back`);
      t.equal(
        relationsOf(e)?.['m.replace']?.content?.['m.new_content']?.body,
        'hello one',
        `${where}: the edit in full`,
      );
      t.same(relationsOf(e)?.['m.reference'], { chunk: [{ event_id: reference }] }, `${where}: references`);
    };

    await t.test('/event', async (t) => {
      const ev = await server.call(bob, 'GET', server.room(roomId, `/event/${original}`));
      checkOriginal(t, ev.body, '/event');
    });

    await t.test('/messages, both directions', async (t) => {
      const back = await server.call(bob, 'GET', server.room(roomId, '/messages?dir=b&limit=50'));
      t.equal(back.status, 200);
      checkOriginal(t, find(back.body.chunk, original), '/messages b');
      const fwd = await server.call(bob, 'GET', server.room(roomId, '/messages?dir=f&limit=50'));
      checkOriginal(t, find(fwd.body.chunk, original), '/messages f');
      const redactedEdit = find(back.body.chunk, edit2);
      t.notOk(relationsOf(redactedEdit), 'the redacted edit carries nothing');
    });

    await t.test('/context, as the event and around it', async (t) => {
      const ctx = await server.call(bob, 'GET', server.room(roomId, `/context/${original}?limit=4`));
      t.equal(ctx.status, 200);
      checkOriginal(t, ctx.body.event, '/context event');
      const around = await server.call(bob, 'GET', server.room(roomId, `/context/${later}?limit=40`));
      checkOriginal(t, find(around.body.events_before, original), '/context events_before');
      const after = await server.call(bob, 'GET', server.room(roomId, `/context/${edit1}?limit=2`));
      t.equal(after.status, 200);
      const early = await server.call(bob, 'GET', server.room(roomId, `/context/${foreign}?limit=40`));
      checkOriginal(t, find(early.body.events_before, original), '/context events_before (near)');
    });

    await t.test('/notifications', async (t) => {
      const res = await server.call(bob, 'GET', '/_matrix/client/v3/notifications?limit=100');
      t.equal(res.status, 200);
      const events = res.body.notifications.map((n: Json) => n.event);
      checkOriginal(t, find(events, original), '/notifications');
      t.notOk(find(events, original)?.room_id, 'the event without room_id, as before');
    });

    await t.test('/relations lists the children, each with its own bundle', async (t) => {
      const rel = await server.call(bob, 'GET', `${v1}/relations/${original}/m.replace?dir=f`);
      t.equal(rel.status, 200);
      t.same(
        rel.body.chunk.map((e: Json) => e.event_id),
        [edit1, foreign, noNewContent],
        'replace children, oldest first; the redacted edit is no longer a child',
      );
      const refs = await server.call(bob, 'GET', `${v1}/relations/${original}/m.reference`);
      t.same(
        refs.body.chunk.map((e: Json) => e.event_id),
        [reference],
      );
      const page1 = await server.call(bob, 'GET', `${v1}/relations/${original}?dir=b&limit=2`);
      t.equal(page1.body.chunk.length, 2);
      t.ok(page1.body.next_batch, 'more to come');
      const page2 = await server.call(
        bob,
        'GET',
        `${v1}/relations/${original}?dir=b&limit=2&from=${encodeURIComponent(page1.body.next_batch)}`,
      );
      const seen = [...page1.body.chunk, ...page2.body.chunk].map((e: Json) => e.event_id);
      t.equal(new Set(seen).size, seen.length, 'pages do not overlap');
      t.ok(seen.includes(reference));
    });

    await t.test('/relations: dir, from/to paging, recurse', async (t) => {
      const parent = await server.send(alice, roomId, 'parent');
      const kids: string[] = [];
      for (let i = 0; i < 4; i++)
        kids.push(
          await sendContent(server, bob, roomId, {
            body: `ref ${i}`,
            'm.relates_to': { rel_type: 'm.reference', event_id: parent },
          }),
        );
      const grandchild = await sendContent(
        server,
        alice,
        roomId,
        { 'm.relates_to': { rel_type: 'm.annotation', event_id: kids[0], key: '👍' } },
        'm.reaction',
      );
      const ids = (r: Json): string[] => r.body.chunk.map((e: Json) => e.event_id);
      const base = `${v1}/relations/${parent}`;
      const page1 = await server.call(bob, 'GET', `${base}?dir=f&limit=2`);
      t.same(ids(page1), kids.slice(0, 2));
      t.notOk(page1.body.prev_batch, 'the first page has no prev_batch');
      t.notOk('recursion_depth' in page1.body, 'no recursion_depth unless asked');
      const page2 = await server.call(
        bob,
        'GET',
        `${base}?dir=f&limit=2&from=${encodeURIComponent(page1.body.next_batch)}`,
      );
      t.same(ids(page2), kids.slice(2, 4));
      t.equal(page2.body.prev_batch, page1.body.next_batch);
      const backwards = await server.call(bob, 'GET', `${base}?dir=b&limit=3`);
      t.same(ids(backwards), [kids[3], kids[2], kids[1]], 'dir=b: newest first');
      const upTo = await server.call(
        bob,
        'GET',
        `${base}?dir=f&limit=10&to=${encodeURIComponent(page1.body.next_batch)}`,
      );
      t.same(ids(upTo), kids.slice(0, 2), '`to` stops the page');
      t.notOk(upTo.body.next_batch);
      const flat = await server.call(bob, 'GET', `${base}?recurse=false`);
      t.equal(flat.body.recursion_depth, 1);
      t.notOk(ids(flat).includes(grandchild));
      const deep = await server.call(bob, 'GET', `${base}?recurse=true&dir=f`);
      t.same(ids(deep), [...kids, grandchild]);
      t.equal(deep.body.recursion_depth, 2);
      const deepRefs = await server.call(bob, 'GET', `${base}/m.annotation?recurse=true`);
      t.same(ids(deepRefs), [grandchild], 'the rel_type filter applies at every level');
      const bad = await server.call(bob, 'GET', `${base}?dir=x`);
      t.equal(bad.status, 400);
      const unknown = await server.call(bob, 'GET', `${v1}/relations/$nope`);
      t.equal(unknown.status, 404);
    });

    await t.test('threads: the latest reply carries its own edit', async (t) => {
      const root = await server.send(alice, roomId, 'root');
      const reply = await sendContent(server, bob, roomId, {
        msgtype: 'm.text',
        body: 'reply',
        'm.relates_to': { rel_type: 'm.thread', event_id: root },
      });
      const replyEdit = await sendContent(server, bob, roomId, edit(reply, 'reply edited'));
      const rootEdit = await sendContent(server, alice, roomId, edit(root, 'root edited'));

      const ev = await server.call(alice, 'GET', server.room(roomId, `/event/${root}`));
      const rel = relationsOf(ev.body);
      t.equal(rel['m.thread'].count, 1);
      t.equal(rel['m.thread'].latest_event.event_id, reply);
      t.equal(rel['m.thread'].latest_event.content.body, 'reply', 'latest reply content intact');
      t.equal(relationsOf(rel['m.thread'].latest_event)['m.replace'].event_id, replyEdit);
      t.equal(rel['m.thread'].current_user_participated, true, 'the root sender took part');
      t.equal(rel['m.replace'].event_id, rootEdit, 'a thread root bundles its own edit too');

      const threads = await server.call(bob, 'GET', `${v1}/threads`);
      const thread = find(threads.body.chunk, root);
      t.equal(relationsOf(relationsOf(thread)['m.thread'].latest_event)['m.replace'].event_id, replyEdit);
      t.equal(relationsOf(thread)['m.replace'].event_id, rootEdit);

      const participated = await server.call(bob, 'GET', `${v1}/threads?include=participated`);
      t.same(
        participated.body.chunk.map((e: Json) => e.event_id),
        [root],
        'bob replied',
      );
      const carol = await server.user('carol');
      await server.call(carol, 'POST', server.room(roomId, '/join'), {});
      const none = await server.call(carol, 'GET', `${v1}/threads?include=participated`);
      t.same(none.body.chunk, [], 'carol took part in no thread');
      const all = await server.call(carol, 'GET', `${v1}/threads?include=all`);
      t.equal(all.body.chunk.length, 1);
      t.equal(relationsOf(all.body.chunk[0])['m.thread'].current_user_participated, false);

      const children = await server.call(alice, 'GET', `${v1}/relations/${root}/m.thread`);
      t.equal(
        relationsOf(find(children.body.chunk, reply))['m.replace'].event_id,
        replyEdit,
        '/relations children carry their bundles',
      );
    });

    await t.test('/sync: initial and incremental timelines', async (t) => {
      const filter = encodeURIComponent(JSON.stringify({ room: { timeline: { limit: 100 } } }));
      const initial = await server.call(bob, 'GET', `/_matrix/client/v3/sync?filter=${filter}`);
      t.equal(initial.status, 200);
      checkOriginal(t, find(initial.body.rooms.join[roomId].timeline.events, original), 'initial sync');
      const inc = await server.call(
        alice,
        'GET',
        `/_matrix/client/v3/sync?filter=${filter}&since=${encodeURIComponent(since)}`,
      );
      t.equal(inc.status, 200);
      checkOriginal(t, find(inc.body.rooms.join[roomId].timeline.events, original), 'incremental sync');
      const fed = encodeURIComponent(
        JSON.stringify({ event_format: 'federation', room: { timeline: { limit: 100 } } }),
      );
      const asPdu = await server.call(bob, 'GET', `/_matrix/client/v3/sync?filter=${fed}`);
      const pdu = find(asPdu.body.rooms.join[roomId].timeline.events, original);
      t.equal(relationsOf(pdu)?.['m.replace']?.event_id, edit1, 'federation format too');
    });

    await t.test("ignored users' children leave the aggregation", async (t) => {
      const dave = await server.user('dave');
      await server.call(dave, 'POST', server.room(roomId, '/join'), {});
      const root = await server.send(alice, roomId, 'ignore root');
      const fromBob = await sendContent(server, bob, roomId, {
        msgtype: 'm.text',
        body: 'bob replies',
        'm.relates_to': { rel_type: 'm.thread', event_id: root },
      });
      await sendContent(server, dave, roomId, {
        msgtype: 'm.text',
        body: 'dave replies',
        'm.relates_to': { rel_type: 'm.thread', event_id: root },
      });
      await sendContent(server, dave, roomId, {
        body: 'dave refers',
        'm.relates_to': { rel_type: 'm.reference', event_id: root },
      });
      const seen = async (): Promise<Json> =>
        relationsOf((await server.call(alice, 'GET', server.room(roomId, `/event/${root}`))).body);
      t.equal((await seen())['m.thread'].count, 2);
      const put = await server.call(
        alice,
        'PUT',
        `/_matrix/client/v3/user/${encodeURIComponent(alice.userId)}/account_data/m.ignored_user_list`,
        { ignored_users: { [dave.userId]: {} } },
      );
      t.equal(put.status, 200);
      const after = await seen();
      t.equal(after['m.thread'].count, 1, 'the count leaves out the ignored user');
      t.equal(after['m.thread'].latest_event.event_id, fromBob, 'the latest reply is not theirs');
      t.notOk(after['m.reference'], 'nor their references');
      const filter = encodeURIComponent(JSON.stringify({ room: { timeline: { limit: 100 } } }));
      const sync = await server.call(alice, 'GET', `/_matrix/client/v3/sync?filter=${filter}`);
      const inSync = find(sync.body.rooms.join[roomId].timeline.events, root);
      t.equal(relationsOf(inSync)['m.thread'].count, 1, 'in sync too');
      const forBob = relationsOf((await server.call(bob, 'GET', server.room(roomId, `/event/${root}`))).body);
      t.equal(forBob['m.thread'].count, 2, 'others still count them');
    });

    await t.test('a redacted original bundles no edit', async (t) => {
      const msg = await server.send(alice, roomId, 'to be removed');
      await sendContent(server, alice, roomId, edit(msg, 'edited then removed'));
      const red = await server.call(alice, 'PUT', server.room(roomId, `/redact/${msg}/red${++txn}`), {});
      t.equal(red.status, 200);
      const ev = await server.call(alice, 'GET', server.room(roomId, `/event/${msg}`));
      t.notOk(relationsOf(ev.body)?.['m.replace']);
    });
  });
});
