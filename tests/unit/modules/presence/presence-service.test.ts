import t from 'tap';
import type { Test } from 'tap';
import pino from 'pino';
import type { StreamChange } from '../../../../core/notifier/notifier.js';
import { InProcessNotifier } from '../../../../core/notifier/in-process.js';
import { openDatabase } from '../../../../core/storage/database.js';
import { PresenceSyncFeed } from '../../../../modules/presence/services/presence-feed.js';
import {
  DEFAULT_PRESENCE_SETTINGS,
  PresenceService,
} from '../../../../modules/presence/services/presence-service.js';
import { presenceMigration } from '../../../../modules/presence/store/migrations/20261123110000_presence.js';
import { PresenceStore } from '../../../../modules/presence/store/presence-store.js';
import { freshDatabase, withAllDatabases, type EngineName } from '../../../helpers/with-all-databases.js';

const alice = '@alice:test';
const bob = '@bob:test';
const eve = '@eve:test';
const room = '!r:test';

async function setup(t: Test, engine: EngineName, enabled = true) {
  const db = await openDatabase(await freshDatabase(t, engine), '.');
  t.teardown(() => db.destroy());
  await presenceMigration.up(db);
  const notifier = new InProcessNotifier();
  const published: StreamChange[] = [];
  notifier.subscribe({ all: true }, (c) => published.push(c));
  const presenceRooms = {
    joinedRooms: async (u: string) => (u === eve ? [] : [room]),
    usersSharingRoomWith: async (u: string) => new Set(u === eve ? [eve] : [alice, bob]),
  };
  const presenceStore = new PresenceStore({ db });
  const presenceService = new PresenceService({
    notifier,
    logger: pino({ level: 'silent' }),
    presenceStore,
    presenceRooms,
    presenceSettings: { ...DEFAULT_PRESENCE_SETTINGS, enabled },
  });
  const feed = new PresenceSyncFeed({ presenceStore, presenceService, presenceRooms });
  const window = (from: number, to: number) => ({
    deviceId: null,
    roomIds: [room],
    newRoomIds: [],
    from,
    to,
  });
  return { presenceService, presenceStore, feed, window, published };
}

const errorOf = (p: Promise<unknown>) => p.then(() => undefined).catch((e: unknown) => e);

void t.test('presence service', async (t) => {
  await withAllDatabases(t, async (t, _database, engine) => {
    await t.test('PUT then GET: state, message, last active, currently active', async (t) => {
      const { presenceService, published } = await setup(t, engine);
      await presenceService.setStatus(alice, alice, 'online', 'at lunch');
      t.match(await presenceService.getStatus(bob, alice), {
        presence: 'online',
        status_msg: 'at lunch',
        currently_active: true,
        last_active_ago: Number,
      });
      t.same(published, [{ stream: 'presence', position: 1, roomIds: [room], userIds: [alice] }]);
    });

    await t.test('another user’s presence cannot be set; strangers cannot read it', async (t) => {
      const { presenceService } = await setup(t, engine);
      t.match(await errorOf(presenceService.setStatus(alice, bob, 'online', undefined)), { status: 403 });
      t.match(await errorOf(presenceService.getStatus(eve, alice)), { status: 403, errcode: 'M_FORBIDDEN' });
      t.same(await presenceService.getStatus(alice, alice), { presence: 'offline' }, 'unknown yet: offline');
    });

    await t.test('syncing makes an offline user online; set_presence=offline leaves them be', async (t) => {
      const { presenceService } = await setup(t, engine);
      await presenceService.syncing(alice, 'offline');
      t.same(await presenceService.getStatus(alice, alice), { presence: 'offline' });
      await presenceService.syncing(alice, 'online');
      t.match(await presenceService.getStatus(alice, alice), { presence: 'online' });
      await presenceService.syncing(alice, 'unavailable');
      t.match(await presenceService.getStatus(alice, alice), { presence: 'unavailable' });
    });

    await t.test('the idle timeout makes a user unavailable, the sync timeout offline', async (t) => {
      const { presenceService, presenceStore } = await setup(t, engine);
      const now = Date.now();
      await presenceStore.put({
        userId: alice,
        state: 'online',
        statusMsg: null,
        lastActiveTs: now - 6 * 60_000,
        lastSyncTs: now,
      });
      await presenceStore.put({
        userId: bob,
        state: 'online',
        statusMsg: null,
        lastActiveTs: now - 60_000,
        lastSyncTs: now - 60_000,
      });
      await presenceService.applyTimeouts(now);
      t.equal((await presenceStore.get(alice))?.state, 'unavailable');
      t.equal((await presenceStore.get(bob))?.state, 'offline');
    });

    await t.test('activity brings an idle user back online', async (t) => {
      const { presenceService, presenceStore } = await setup(t, engine);
      await presenceStore.put({
        userId: alice,
        state: 'unavailable',
        statusMsg: 'x',
        lastActiveTs: 0,
        lastSyncTs: Date.now(),
      });
      await presenceService.markActive(alice);
      t.match(await presenceService.getStatus(alice, alice), {
        presence: 'online',
        status_msg: 'x',
        currently_active: true,
      });
    });

    await t.test(
      'feed: initial sync shows visible users; incremental shows visible changes only',
      async (t) => {
        const { presenceService, feed, window } = await setup(t, engine);
        await presenceService.setStatus(alice, alice, 'online', undefined);
        await presenceService.setStatus(eve, eve, 'online', undefined);
        const initial = (await feed.changesFor(bob, window(0, 2))).data.events;
        t.same(
          initial.map((e) => e.sender),
          [alice],
        );
        t.match(initial[0], { type: 'm.presence', sender: alice, content: { presence: 'online' } });
        await presenceService.setStatus(alice, alice, 'unavailable', 'brb');
        const incremental = (await feed.changesFor(bob, window(2, 3))).data.events;
        t.match(incremental, [{ sender: alice, content: { presence: 'unavailable', status_msg: 'brb' } }]);
        t.same((await feed.changesFor(bob, window(3, 3))).data.events, []);
      },
    );

    await t.test('with presence.enabled false, updates are ignored and the feed is empty', async (t) => {
      const { presenceService, feed, window } = await setup(t, engine, false);
      await presenceService.setStatus(alice, alice, 'online', undefined);
      await presenceService.syncing(alice, 'online');
      t.same(await presenceService.getStatus(alice, alice), { presence: 'offline' });
      t.same((await feed.changesFor(alice, window(0, 10))).data.events, []);
    });
  });
});
