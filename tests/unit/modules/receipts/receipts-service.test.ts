import t from 'tap';
import type { Test } from 'tap';
import type { StreamChange } from '../../../../core/notifier/notifier.js';
import { InProcessNotifier } from '../../../../core/notifier/in-process.js';
import { openDatabase } from '../../../../core/storage/database.js';
import type { ReceiptUpdate } from '../../../../modules/receipts/api.js';
import { threadIdOf } from '../../../../modules/receipts/api.js';
import { ReceiptsSyncFeed } from '../../../../modules/receipts/services/receipts-feed.js';
import { ReceiptsService } from '../../../../modules/receipts/services/receipts-service.js';
import { receiptsMigration } from '../../../../modules/receipts/store/migrations/20261123100000_receipts.js';
import { ReceiptsStore } from '../../../../modules/receipts/store/receipts-store.js';
import { freshDatabase } from '../../../helpers/with-all-databases.js';

const room = '!r:test';
const alice = '@alice:test';
const bob = '@bob:test';
const events: Record<string, { streamOrdering: number; threadId: string }> = {
  $1: { streamOrdering: 1, threadId: 'main' },
  $2: { streamOrdering: 2, threadId: 'main' },
  $t1: { streamOrdering: 3, threadId: '$1' },
};

async function setup(t: Test) {
  const db = await openDatabase(await freshDatabase(t, 'sqlite'), '.');
  t.teardown(() => db.destroy());
  await receiptsMigration.up(db);
  const notifier = new InProcessNotifier();
  const published: StreamChange[] = [];
  notifier.subscribe({ all: true }, (c) => published.push(c));
  const fullyRead: string[] = [];
  const receiptsStore = new ReceiptsStore({ db });
  const service = new ReceiptsService({
    notifier,
    receiptsStore,
    receiptRooms: {
      isJoined: async (_r, u) => u === alice || u === bob,
      eventInfo: async (_r, e) => events[e],
    },
    fullyReadMarkers: { setFullyRead: async (u, r, e) => void fullyRead.push(`${u} ${r} ${e}`) },
  });
  const updates: ReceiptUpdate[] = [];
  service.onReceipt(async (u) => void updates.push(u));
  const feed = new ReceiptsSyncFeed({ receiptsStore });
  const window = { deviceId: null, roomIds: [room], newRoomIds: [], from: 0, to: 100 };
  return { service, published, fullyRead, updates, feed, window };
}

const errorOf = (p: Promise<unknown>) => p.then(() => undefined).catch((e: unknown) => e);

void t.test('a public receipt wakes the room and runs the listeners', async (t) => {
  const { service, published, updates } = await setup(t);
  await service.postReceipt(alice, room, 'm.read', '$1', undefined);
  t.same(published, [{ stream: 'receipts', position: 1, roomIds: [room] }]);
  t.match(updates, [{ userId: alice, receiptType: 'm.read', eventId: '$1', eventStreamOrdering: 1 }]);
});

void t.test('a private receipt wakes only its owner and is hidden from others in the feed', async (t) => {
  const { service, published, feed, window } = await setup(t);
  await service.postReceipt(alice, room, 'm.read.private', '$2', undefined);
  t.same(published, [{ stream: 'receipts', position: 1, userIds: [alice] }]);
  t.same((await feed.changesFor(bob, window)).data, {});
  t.match((await feed.changesFor(alice, window)).data[room], [
    { type: 'm.receipt', content: { $2: { 'm.read.private': { [alice]: { ts: Number } } } } },
  ]);
});

void t.test('threaded receipts carry thread_id; a mismatched thread is refused', async (t) => {
  const { service, feed, window } = await setup(t);
  await service.postReceipt(alice, room, 'm.read', '$t1', '$1');
  await service.postReceipt(alice, room, 'm.read', '$2', 'main');
  const content = (await feed.changesFor(bob, window)).data[room]?.[0]?.content;
  t.match(content, {
    $t1: { 'm.read': { [alice]: { thread_id: '$1' } } },
    $2: { 'm.read': { [alice]: { thread_id: 'main' } } },
  });
  t.match(await errorOf(service.postReceipt(alice, room, 'm.read', '$t1', 'main')), {
    status: 400,
    errcode: 'M_INVALID_PARAM',
  });
  t.match(await errorOf(service.postReceipt(alice, room, 'm.read', '$1', '')), {
    status: 400,
    errcode: 'M_INVALID_PARAM',
  });
});

void t.test('errors: unknown type 400, unknown event 404, not joined 403', async (t) => {
  const { service } = await setup(t);
  t.match(await errorOf(service.postReceipt(alice, room, 'm.seen', '$1', undefined)), { status: 400 });
  t.match(await errorOf(service.postReceipt(alice, room, 'm.read', '$nope', undefined)), { status: 404 });
  t.match(await errorOf(service.postReceipt('@eve:test', room, 'm.read', '$1', undefined)), { status: 403 });
});

void t.test('m.fully_read goes to the read markers; thread_id is refused with it', async (t) => {
  const { service, fullyRead } = await setup(t);
  await service.postReceipt(alice, room, 'm.fully_read', '$2', undefined);
  t.same(fullyRead, [`${alice} ${room} $2`]);
  t.match(await errorOf(service.postReceipt(alice, room, 'm.fully_read', '$2', 'main')), { status: 400 });
});

void t.test('read_markers sets the marker and both receipts', async (t) => {
  const { service, fullyRead, updates } = await setup(t);
  await service.setReadMarkers(alice, room, { fullyRead: '$1', read: '$1', readPrivate: '$2' });
  t.same(fullyRead, [`${alice} ${room} $1`]);
  t.same(
    updates.map((u) => `${u.receiptType} ${u.eventId}`),
    ['m.read $1', 'm.read.private $2'],
  );
});

void t.test('a receipt behind the stored one changes nothing', async (t) => {
  const { service, published } = await setup(t);
  await service.postReceipt(alice, room, 'm.read', '$2', undefined);
  await service.postReceipt(alice, room, 'm.read', '$1', undefined);
  t.equal(published.length, 1);
});

void t.test('threadIdOf follows relations up to three hops', async (t) => {
  const ev = (eventId: string, relation?: Record<string, unknown>) => ({
    eventId,
    content: relation ? { 'm.relates_to': relation } : {},
  });
  const all: Record<string, ReturnType<typeof ev>> = {
    $root: ev('$root'),
    $inThread: ev('$inThread', { rel_type: 'm.thread', event_id: '$root' }),
    $reaction: ev('$reaction', { rel_type: 'm.annotation', event_id: '$inThread' }),
    $onRoot: ev('$onRoot', { rel_type: 'm.annotation', event_id: '$root' }),
  };
  const parent = async (id: string) => all[id];
  t.equal(await threadIdOf(all['$root']!, parent), 'main');
  t.equal(await threadIdOf(all['$inThread']!, parent), '$root');
  t.equal(await threadIdOf(all['$reaction']!, parent), '$root');
  t.equal(await threadIdOf(all['$onRoot']!, parent), 'main', 'relations to a root stay in the main timeline');
});
