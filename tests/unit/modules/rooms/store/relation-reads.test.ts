/**
 * RelationStore's relation reads on both engines: `bundleRows` (what bundled aggregations need, one
 * prepared read per 100 parents) and `relatedBy` (the filters' related_by_*), against rows written as the
 * persister writes them — live, redacted, rejected and ignored children, threads, and more than one chunk of
 * parents.
 */
import t, { type Test } from 'tap';
import type { Knex } from 'knex';
import type { DatabaseConfig } from '../../../../../core/config/schema.js';
import { createLogger } from '../../../../../core/logger.js';
import type { JsonObject, PduJson } from '../../../../../core/protocol/pdu.js';
import { openDatabase } from '../../../../../core/storage/database.js';
import { migrateToLatest } from '../../../../../core/storage/migrate.js';
import rooms from '../../../../../modules/rooms/index.js';
import type { NewEvent } from '../../../../../modules/rooms/store/event-rows.js';
import { EventStore } from '../../../../../modules/rooms/store/event-store.js';
import { RelationStore } from '../../../../../modules/rooms/store/relation-store.js';
import { withAllDatabases } from '../../../../helpers/with-all-databases.js';

const ROOM = '!room:x';
let depth = 0;

async function migrated(t: Test, database: DatabaseConfig): Promise<Knex> {
  const db = await openDatabase(database, process.cwd());
  t.teardown(() => db.destroy());
  await migrateToLatest(db, [rooms], createLogger('silent'));
  return db;
}

/** A message event as the persister stores it (relation columns from `m.relates_to`). */
function message(
  eventId: string,
  sender: string,
  content: JsonObject,
  options: { type?: string; rejected?: string; room?: string } = {},
): NewEvent {
  const roomId = options.room ?? ROOM;
  const rel = content['m.relates_to'] as { event_id?: string; rel_type?: string } | undefined;
  const pdu: PduJson = {
    room_id: roomId,
    sender,
    type: options.type ?? 'm.room.message',
    content,
    origin_server_ts: 1_000 + ++depth,
    depth,
    prev_events: [],
    auth_events: [],
    hashes: { sha256: 'x' },
    signatures: {},
  };
  return {
    eventId,
    roomId,
    type: pdu.type,
    stateKey: null,
    sender,
    depth,
    originServerTs: pdu.origin_server_ts,
    pdu,
    unsigned: undefined,
    rejectedReason: options.rejected ?? null,
    stateGroup: 1,
    membership: null,
    relatesTo: rel?.event_id ?? null,
    relType: rel?.rel_type ?? null,
  };
}

const child = (relType: string, parent: string, body = relType): JsonObject => ({
  body,
  ...(relType === 'm.replace' ? { 'm.new_content': { body } } : {}),
  'm.relates_to': { rel_type: relType, event_id: parent },
});

void t.test('bundleRows and relatedBy', async (t) => {
  await withAllDatabases(t, async (t, database) => {
    const db = await migrated(t, database);
    const events = new EventStore({ db });
    const timeline = new RelationStore({ db });
    const put = async (e: NewEvent) => {
      await events.insertEvent(e);
      return e.eventId;
    };

    const original = await put(message('$orig', '@a:x', { body: 'hello' }));
    const edit1 = await put(message('$edit1', '@a:x', child('m.replace', original, 'one')));
    const edit2 = await put(message('$edit2', '@a:x', child('m.replace', original, 'two')));
    await put(message('$rejected', '@a:x', child('m.replace', original, 'no'), { rejected: 'auth' }));
    const redactedRef = await put(message('$redref', '@b:x', child('m.reference', original)));
    await db('rooms_events').where({ event_id: redactedRef }).update({ redacted_by: '$r' });
    const ref = await put(message('$ref', '@b:x', child('m.reference', original)));
    await put(
      message(
        '$react',
        '@b:x',
        { 'm.relates_to': { rel_type: 'm.annotation', event_id: original, key: 'x' } },
        {
          type: 'm.reaction',
        },
      ),
    );
    const root = await put(message('$root', '@a:x', { body: 'root' }));
    await put(message('$t1', '@b:x', child('m.thread', root)));
    const t2 = await put(message('$t2', '@c:x', child('m.thread', root)));
    const lonely = await put(message('$lonely', '@a:x', { body: 'no children' }));
    // Relations do not cross rooms: children sent in another room are not read.
    await put(message('$elsewhere-edit', '@a:x', child('m.replace', original, 'x'), { room: '!other:x' }));
    await put(message('$elsewhere-reply', '@b:x', child('m.thread', root), { room: '!other:x' }));

    await t.test('edits whole, references as ids, a thread as its latest reply and count', async (t) => {
      const rows = await timeline.bundleRows(ROOM, [original, root, lonely]);
      t.same(
        rows.edits.map((e) => e.eventId).sort(),
        [edit1, edit2],
        'live edits of the same room only (not rejected, not from another room)',
      );
      const e2 = rows.edits.find((e) => e.eventId === edit2)!;
      t.equal(e2.pdu.content['body'], 'two');
      t.match(e2, {
        roomId: ROOM,
        type: 'm.room.message',
        sender: '@a:x',
        stateKey: null,
        relatesTo: original,
        relType: 'm.replace',
        redactedBy: null,
        rejectedReason: null,
      });
      t.equal(e2.originServerTs, e2.pdu.origin_server_ts, 'the rest read from the PDU');
      t.same(rows.references, [
        { eventId: ref, relatesTo: original, streamOrdering: rows.references[0]?.streamOrdering },
      ]);
      t.equal(rows.threads.length, 1);
      t.equal(rows.threads[0]?.latest.eventId, t2);
      t.equal(rows.threads[0]?.count, 2);
      t.equal(rows.threads[0]?.latest.depth, rows.threads[0]?.latest.pdu.depth);
    });

    await t.test('ignored senders leave the rows and the counts', async (t) => {
      const rows = await timeline.bundleRows(ROOM, [original, root], new Set(['@b:x']));
      t.same(rows.references, []);
      t.equal(rows.threads[0]?.count, 1);
      t.equal(rows.threads[0]?.latest.eventId, t2);
      const none = await timeline.bundleRows(ROOM, [root], new Set(['@b:x', '@c:x']));
      t.same(none.threads, [], 'a thread of ignored replies only is no thread');
    });

    await t.test('no children, no ids', async (t) => {
      t.same(await timeline.bundleRows(ROOM, [lonely]), { edits: [], references: [], threads: [] });
      t.same(await timeline.bundleRows(ROOM, []), { edits: [], references: [], threads: [] });
    });

    await t.test('more than one chunk of parents', async (t) => {
      const many: string[] = [];
      for (let i = 0; i < 230; i++) many.push(`$none${i}`);
      many.splice(150, 0, original);
      many.splice(220, 0, root);
      const rows = await timeline.bundleRows(ROOM, many);
      t.equal(rows.edits.length, 2);
      t.equal(rows.threads.length, 1);
      const related = await timeline.relatedBy([...many, ...many, ...many], { relTypes: ['m.thread'] });
      t.same([...related], [root], 'relatedBy over several batches');
    });

    await t.test('relatedBy: senders and rel_types restrict the same child', async (t) => {
      t.same([...(await timeline.relatedBy([original, root, lonely], { senders: ['@b:x'] }))].sort(), [
        original,
        root,
      ]);
      t.same(
        [...(await timeline.relatedBy([original, root], { senders: ['@c:x'], relTypes: ['m.reference'] }))],
        [],
      );
      t.same(
        [...(await timeline.relatedBy([original], { relTypes: ['m.annotation'] }))],
        [original],
        'any rel_type counts, reactions too',
      );
    });
  });
});
