import t from 'tap';
import { buildRuleset, presentRule } from '../../../../../modules/push-rules/rules/ruleset.js';

const alice = '@alice:example.org';

void t.test('the default override rules follow the spec order, master first', async (t) => {
  const rules = buildRuleset(alice, [], []);
  t.same(
    rules.override.map((r) => r.rule_id),
    [
      '.m.rule.master',
      '.m.rule.suppress_notices',
      '.m.rule.invite_for_me',
      '.m.rule.member_event',
      '.m.rule.is_user_mention',
      '.m.rule.is_room_mention',
      '.m.rule.tombstone',
      '.m.rule.reaction',
      '.m.rule.room.server_acl',
      '.m.rule.suppress_edits',
    ],
  );
  t.same(
    rules.underride.map((r) => r.rule_id),
    [
      '.m.rule.call',
      '.m.rule.encrypted_room_one_to_one',
      '.m.rule.room_one_to_one',
      '.m.rule.message',
      '.m.rule.encrypted',
    ],
  );
  t.equal(rules.override[0]?.enabled, false, 'master is disabled by default');
});

void t.test('the spec definitions are reproduced exactly (is_user_mention, invite_for_me)', async (t) => {
  const rules = buildRuleset(alice, [], []);
  t.same(
    rules.override.find((r) => r.rule_id === '.m.rule.is_user_mention'),
    {
      rule_id: '.m.rule.is_user_mention',
      default: true,
      enabled: true,
      conditions: [{ kind: 'event_property_contains', key: 'content.m\\.mentions.user_ids', value: alice }],
      actions: ['notify', { set_tweak: 'sound', value: 'default' }, { set_tweak: 'highlight' }],
    },
  );
  t.same(rules.override.find((r) => r.rule_id === '.m.rule.invite_for_me')?.conditions, [
    { kind: 'event_match', key: 'type', pattern: 'm.room.member' },
    { kind: 'event_match', key: 'content.membership', pattern: 'invite' },
    { kind: 'event_match', key: 'state_key', pattern: alice },
  ]);
});

void t.test('user rules come after master but before the other defaults', async (t) => {
  const mine = { rule_id: 'mine', default: false, enabled: true, actions: [], conditions: [] };
  const rules = buildRuleset(alice, [{ kind: 'override', rule: mine }], []);
  t.same(
    rules.override.slice(0, 3).map((r) => r.rule_id),
    ['.m.rule.master', 'mine', '.m.rule.suppress_notices'],
  );
});

void t.test('overrides change a default rule’s enabled flag and actions', async (t) => {
  const rules = buildRuleset(
    alice,
    [],
    [{ kind: 'underride', ruleId: '.m.rule.message', enabled: false, actions: [] }],
  );
  const msg = rules.underride.find((r) => r.rule_id === '.m.rule.message');
  t.equal(msg?.enabled, false);
  t.same(msg?.actions, []);
});

void t.test(
  'presentRule shows conditions only for override/underride and pattern only for content',
  async (t) => {
    const r = { rule_id: 'x', default: false, enabled: true, actions: [], pattern: 'p' };
    t.same(presentRule('content', r), {
      rule_id: 'x',
      default: false,
      enabled: true,
      actions: [],
      pattern: 'p',
    });
    t.same(presentRule('override', r), {
      rule_id: 'x',
      default: false,
      enabled: true,
      actions: [],
      conditions: [],
    });
    t.same(presentRule('room', r), { rule_id: 'x', default: false, enabled: true, actions: [] });
  },
);
