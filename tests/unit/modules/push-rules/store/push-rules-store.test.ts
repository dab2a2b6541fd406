import t from 'tap';
import { openDatabase } from '../../../../../core/storage/database.js';
import { pushRulesMigration } from '../../../../../modules/push-rules/store/migrations/20261123120000_push_rules.js';
import { NotificationsStore } from '../../../../../modules/push-rules/store/notifications-store.js';
import { PushRulesStore } from '../../../../../modules/push-rules/store/push-rules-store.js';
import { withAllDatabases } from '../../../../helpers/with-all-databases.js';

const alice = '@alice:test';

void t.test('push-rules stores', async (t) => {
  await withAllDatabases(t, async (t, database) => {
    const db = await openDatabase(database, '.');
    t.teardown(() => db.destroy());
    await pushRulesMigration.up(db);
    const rules = new PushRulesStore({ db });
    const notifications = new NotificationsStore({ db });
    const ids = async () => (await rules.userRules(alice)).map((r) => r.rule.rule_id);

    await t.test('rules are placed by index and renumbered; an update keeps enabled', async (t) => {
      await rules.putRule(alice, 'override', 'a', { actions: [], conditions: [] }, () => 0);
      await rules.putRule(alice, 'override', 'b', { actions: [] }, (others) => others.length);
      await rules.putRule(alice, 'override', 'c', { actions: [] }, (others) => others.indexOf('b'));
      t.same(await ids(), ['a', 'c', 'b']);
      await rules.updateRule(alice, 'override', 'c', { enabled: false });
      await rules.putRule(alice, 'override', 'c', { actions: ['notify'] }, () => 0);
      const all = await rules.userRules(alice);
      t.same(
        all.map((r) => r.rule.rule_id),
        ['c', 'a', 'b'],
      );
      t.match(all[0]?.rule, { enabled: false, actions: ['notify'] });
      t.same(all[1]?.rule.conditions, []);
    });

    await t.test('default overrides merge field by field', async (t) => {
      await rules.updateDefault(alice, 'override', '.m.rule.master', { enabled: true });
      await rules.updateDefault(alice, 'override', '.m.rule.master', { actions: ['notify'] });
      t.same(await rules.defaultOverrides(alice), [
        { kind: 'override', ruleId: '.m.rule.master', enabled: true, actions: ['notify'] },
      ]);
    });

    await t.test('changes take stream positions; lastChange is per user', async (t) => {
      t.equal(await rules.currentPosition(), 1, 'position 1 is the server defaults');
      t.equal(await rules.recordChange(alice), 2);
      t.equal(await rules.recordChange('@bob:test'), 3);
      t.equal(await rules.recordChange(alice), 4);
      t.equal(await rules.lastChange(alice), 4);
      t.equal(await rules.lastChange('@carol:test'), 0);
      t.equal(await rules.currentPosition(), 4);
    });

    await t.test('unread counts per room and thread; markRead by position and thread', async (t) => {
      const n = (eventId: string, streamOrdering: number, threadId: string, highlight = false) => ({
        userId: alice,
        roomId: '!r:test',
        eventId,
        streamOrdering,
        threadId,
        actions: ['notify'],
        notify: true,
        highlight,
        ts: 1,
      });
      await notifications.insert([
        n('$1', 1, 'main'),
        n('$2', 2, 'main', true),
        n('$3', 3, '$root'),
        n('$4', 4, 'main'),
      ]);
      await notifications.insert([n('$1', 1, 'main')]);
      t.same(
        (await notifications.unreadCounts(alice, ['!r:test'])).sort((a, b) =>
          a.threadId.localeCompare(b.threadId),
        ),
        [
          { roomId: '!r:test', threadId: '$root', notifications: 1, highlights: 0 },
          { roomId: '!r:test', threadId: 'main', notifications: 3, highlights: 1 },
        ],
      );
      t.equal(await notifications.markRead(alice, '!r:test', 3, 'main'), 2);
      t.equal(await notifications.markRead(alice, '!r:test', 10, undefined), 2);
      t.same(await notifications.unreadCounts(alice, ['!r:test']), []);
      const listed = await notifications.list(alice, { limit: 2, onlyHighlight: false });
      t.same(
        listed.map((r) => r.eventId),
        ['$4', '$3'],
      );
      t.ok(listed.every((r) => r.read));
      t.same(
        (await notifications.list(alice, { limit: 5, onlyHighlight: true })).map((r) => r.eventId),
        ['$2'],
      );
    });

    await t.test('the migration rolls back', async (t) => {
      await pushRulesMigration.down(db);
      t.equal(await db.schema.hasTable('push_rules_notifications'), false);
      t.equal(await db.schema.hasTable('push_rules_rules'), false);
    });
  });
});
