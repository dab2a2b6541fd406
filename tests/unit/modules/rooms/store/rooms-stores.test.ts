import t from 'tap';
import type { Knex } from 'knex';
import type { Test } from 'tap';
import type { DatabaseConfig } from '../../../../../core/config/schema.js';
import { createLogger } from '../../../../../core/logger.js';
import { stateKey, type StateKey } from '../../../../../core/protocol/pdu.js';
import { openDatabase } from '../../../../../core/storage/database.js';
import { migrateToLatest, rollbackAll } from '../../../../../core/storage/migrate.js';
import rooms from '../../../../../modules/rooms/index.js';
import { MembershipStore } from '../../../../../modules/rooms/store/membership-store.js';
import { RoomStore } from '../../../../../modules/rooms/store/room-store.js';
import { SNAPSHOT_INTERVAL, StateStore } from '../../../../../modules/rooms/store/state-store.js';
import { TxnStore } from '../../../../../modules/rooms/store/txn-store.js';
import { withAllDatabases } from '../../../../helpers/with-all-databases.js';

async function migrated(t: Test, database: DatabaseConfig): Promise<Knex> {
  const db = await openDatabase(database, process.cwd());
  t.teardown(() => db.destroy());
  await migrateToLatest(db, [rooms], createLogger('silent'));
  return db;
}

void t.test('migrations create and drop every rooms table', async (t) => {
  await withAllDatabases(t, async (t, database) => {
    const db = await migrated(t, database);
    for (const table of [
      'rooms_rooms',
      'rooms_events',
      'rooms_event_edges',
      'rooms_state_groups',
      'rooms_state_group_entries',
      'rooms_current_state',
      'rooms_current_state_groups',
      'rooms_memberships',
      'rooms_txns',
    ]) {
      t.ok(await db.schema.hasTable(table), table);
    }
    await rollbackAll(db, [rooms]);
    t.notOk(await db.schema.hasTable('rooms_events'));
    await migrateToLatest(db, [rooms], createLogger('silent'));
    t.ok(await db.schema.hasTable('rooms_events'), 'migrates up again after down');
  });
});

void t.test('state groups: deltas off the previous group, snapshots bound the chain', async (t) => {
  await withAllDatabases(t, async (t, database) => {
    const db = await migrated(t, database);
    const store = new StateStore({ db });
    const full = new Map<StateKey, string>();
    let group: number | null = null;
    let chain = 0;
    const groups: { id: number; expected: Map<StateKey, string> }[] = [];
    for (let i = 0; i < SNAPSHOT_INTERVAL + 20; i++) {
      const key = stateKey('m.room.member', `@u${i % 30}:x`);
      const eventId = `$e${i}`;
      full.set(key, eventId);
      const created: { id: number; chainLength: number } = await store.createStateGroup(
        '!r:x',
        group,
        chain,
        new Map([[key, eventId]]),
        () => full,
      );
      group = created.id;
      chain = created.chainLength;
      groups.push({ id: created.id, expected: new Map(full) });
    }
    const entries = (await db('rooms_state_group_entries').count('* as n').first()) as { n: number | string };
    t.ok(Number(entries.n) < (SNAPSHOT_INTERVAL + 20) * 5, 'no group stores a whole map except snapshots');
    for (const probe of [0, 5, SNAPSHOT_INTERVAL - 2, SNAPSHOT_INTERVAL - 1, SNAPSHOT_INTERVAL + 19]) {
      const g = groups[probe]!;
      t.same(
        [...(await store.stateOfGroup(g.id))].sort(),
        [...g.expected].sort(),
        `group ${probe} resolves to the full state`,
      );
    }
    const snapshots = (await db('rooms_state_groups')
      .where({ is_snapshot: true })
      .count('* as n')
      .first()) as { n: number | string };
    t.equal(Number(snapshots.n), 2, 'the first group and one after SNAPSHOT_INTERVAL deltas');
  });
});

void t.test('txn ids, room head advance, memberships', async (t) => {
  await withAllDatabases(t, async (t, database) => {
    const db = await migrated(t, database);
    const txns = new TxnStore({ db });
    const store = new RoomStore({ db });
    const memberships = new MembershipStore({ db });
    t.equal(await txns.insertTxn('@a:x', 'D', 't1', '$1'), true);
    t.equal(await txns.insertTxn('@a:x', 'D', 't1', '$2'), false, 'a reused txn id is refused');
    t.equal(await txns.getTxn('@a:x', 'D', 't1'), '$1');
    t.equal(await txns.insertTxn('@a:x', 'E', 't1', '$3'), true, 'per device');

    await store.insertRoom({
      roomId: '!r:x',
      roomVersion: '12',
      creator: '@a:x',
      visibility: 'private',
      createdTs: 1,
      lastStream: 0,
      maxDepth: 0,
      forwardExtremities: [],
      stateGroup: null,
    });
    const head = { lastStream: 5, maxDepth: 1, forwardExtremities: ['$e'], stateGroup: null };
    t.equal(await store.advanceRoomHead('!r:x', 0, head), true);
    t.equal(
      await store.advanceRoomHead('!r:x', 0, { ...head, lastStream: 6 }),
      false,
      'a stale head is refused',
    );
    t.same((await store.getRoom('!r:x'))?.forwardExtremities, ['$e']);

    await memberships.setMembership('!r:x', '@a:x', 'join', '$m1', 1);
    await memberships.setMembership('!r:x', '@b:x', 'invite', '$m2', 2);
    await memberships.setMembership('!s:x', '@b:x', 'join', '$m3', 3);
    await memberships.setMembership('!r:x', '@b:x', 'join', '$m4', 4);
    t.same((await memberships.roomsOfUser('@b:x', ['join'])).map((m) => m.roomId).sort(), ['!r:x', '!s:x']);
    t.same(
      (await memberships.membersOfRoom('!r:x', ['join'])).map((m) => m.userId),
      ['@a:x', '@b:x'],
    );
    t.same((await memberships.usersSharingRoomWith('@a:x')).sort(), ['@a:x', '@b:x']);
    t.same(Object.fromEntries(await memberships.countMembers(['!r:x', '!s:x'], 'join')), {
      '!r:x': 2,
      '!s:x': 1,
    });
  });
});
