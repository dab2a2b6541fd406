import t from 'tap';
import {
  cleanActions,
  conditionMatches,
  evaluate,
  isHighlight,
  memberCountMatches,
  type EvaluationContext,
} from '../../../../../modules/push-rules/rules/evaluator.js';
import { buildRuleset } from '../../../../../modules/push-rules/rules/ruleset.js';

const alice = '@alice:example.org';
const ctx: EvaluationContext = {
  userId: alice,
  displayName: 'Alice Liddell',
  roomMemberCount: 5,
  senderPowerLevel: 0,
  notificationPowerLevels: {},
};
const defaults = buildRuleset(alice, [], []);

const message = (content: Record<string, unknown>, extra: Record<string, unknown> = {}) => ({
  type: 'm.room.message',
  room_id: '!room:example.org',
  sender: '@bob:example.org',
  event_id: '$e',
  content,
  ...extra,
});

void t.test('event_match: the spec example on content.topic (lunc?*)', async (t) => {
  const cond = { kind: 'event_match', key: 'content.topic', pattern: 'lunc?*' };
  const topic = (topic: unknown) => ({ type: 'm.room.topic', state_key: '', content: { topic } });
  t.ok(conditionMatches(cond, topic('Lunch plans'), ctx));
  t.ok(conditionMatches(cond, topic('LUNCH'), ctx), 'case-insensitive, * may match nothing');
  t.notOk(conditionMatches(cond, topic(' lunch'), ctx), 'leading space');
  t.notOk(conditionMatches(cond, topic('lunc'), ctx), '? needs a character');
  t.notOk(conditionMatches(cond, topic(null), ctx), 'not a string');
});

void t.test('event_match: absent key never matches, even with *', async (t) => {
  t.notOk(conditionMatches({ kind: 'event_match', key: 'content.nope', pattern: '*' }, message({}), ctx));
});

void t.test('event_match on content.body matches words: the spec example (ex*ple)', async (t) => {
  const cond = { kind: 'event_match', key: 'content.body', pattern: 'ex*ple' };
  t.ok(conditionMatches(cond, message({ body: 'An example event.' }), ctx));
  t.ok(conditionMatches(cond, message({ body: 'exple' }), ctx));
  t.ok(conditionMatches(cond, message({ body: 'An exciting triple-whammy' }), ctx));
  t.notOk(conditionMatches(cond, message({ body: 'Anexample event' }), ctx), 'no word boundary before');
  t.notOk(conditionMatches(cond, message({ body: 'examples' }), ctx), 'no word boundary after');
});

void t.test('event_match treats regex characters in the pattern literally', async (t) => {
  const cond = { kind: 'event_match', key: 'content.body', pattern: 'a.b(c)' };
  t.ok(conditionMatches(cond, message({ body: 'x a.b(c) y' }), ctx));
  t.notOk(conditionMatches(cond, message({ body: 'aXb(c)' }), ctx));
});

void t.test('event_property_is: the spec example on content.m\\.federate', async (t) => {
  const cond = { kind: 'event_property_is', key: 'content.m\\.federate', value: true };
  const create = (v: unknown) => ({ type: 'm.room.create', state_key: '', content: { 'm.federate': v } });
  t.ok(conditionMatches(cond, create(true), ctx));
  t.notOk(conditionMatches(cond, create('true'), ctx), 'a string is not a boolean');
  t.notOk(conditionMatches(cond, create(1), ctx), 'no casting');
});

void t.test('event_property_is matches null and integers but never compound values', async (t) => {
  t.ok(
    conditionMatches({ kind: 'event_property_is', key: 'content.x', value: null }, message({ x: null }), ctx),
  );
  t.ok(conditionMatches({ kind: 'event_property_is', key: 'content.x', value: 3 }, message({ x: 3 }), ctx));
  t.notOk(
    conditionMatches({ kind: 'event_property_is', key: 'content.x', value: 3 }, message({ x: 3.5 }), ctx),
  );
  t.notOk(conditionMatches({ kind: 'event_property_is', key: 'content.x', value: null }, message({}), ctx));
  t.notOk(
    conditionMatches({ kind: 'event_property_is', key: 'content.x', value: [1] }, message({ x: [1] }), ctx),
  );
});

void t.test('event_property_contains: the spec example on content.alt_aliases', async (t) => {
  const cond = { kind: 'event_property_contains', key: 'content.alt_aliases', value: '#myroom:example.com' };
  const aliases = (alt_aliases: unknown) => ({
    type: 'm.room.canonical_alias',
    state_key: '',
    content: { alt_aliases },
  });
  t.ok(conditionMatches(cond, aliases(['#somewhere:example.org', '#myroom:example.com']), ctx));
  t.notOk(conditionMatches(cond, aliases([':example.com']), ctx), 'partial values do not match');
  t.notOk(conditionMatches(cond, aliases('#myroom:example.com'), ctx), 'not an array');
});

void t.test('dotted paths: escaped backslash and other escapes', async (t) => {
  const ev = { content: { 'm\\foo': 'x', 'a\\xb': 'y' } };
  t.ok(conditionMatches({ kind: 'event_property_is', key: 'content.m\\\\foo', value: 'x' }, ev, ctx));
  t.ok(conditionMatches({ kind: 'event_property_is', key: 'content.a\\xb', value: 'y' }, ev, ctx));
});

void t.test('room_member_count with every prefix', async (t) => {
  t.ok(memberCountMatches('2', 2));
  t.ok(memberCountMatches('==2', 2));
  t.notOk(memberCountMatches('2', 3));
  t.ok(memberCountMatches('<3', 2));
  t.notOk(memberCountMatches('<3', 3));
  t.ok(memberCountMatches('>3', 4));
  t.ok(memberCountMatches('<=10', 10));
  t.ok(memberCountMatches('>=10', 10));
  t.notOk(memberCountMatches('>=10', 9));
  t.notOk(memberCountMatches('about 3', 3), 'malformed never matches');
});

void t.test('sender_notification_permission uses notifications.room, default 50', async (t) => {
  const cond = { kind: 'sender_notification_permission', key: 'room' };
  t.notOk(conditionMatches(cond, message({}), { ...ctx, senderPowerLevel: 49 }));
  t.ok(conditionMatches(cond, message({}), { ...ctx, senderPowerLevel: 50 }));
  t.ok(
    conditionMatches(cond, message({}), {
      ...ctx,
      senderPowerLevel: 10,
      notificationPowerLevels: { room: 10 },
    }),
  );
});

void t.test('contains_display_name matches the display name as whole words', async (t) => {
  const cond = { kind: 'contains_display_name' };
  t.ok(conditionMatches(cond, message({ body: 'hi alice liddell!' }), ctx));
  t.notOk(conditionMatches(cond, message({ body: 'hi Alice Liddells' }), ctx));
  t.notOk(conditionMatches(cond, message({ body: 'hi' }), { ...ctx, displayName: undefined }));
});

void t.test('an unknown condition kind never matches', async (t) => {
  t.notOk(conditionMatches({ kind: 'org.example.magic' }, message({}), ctx));
});

void t.test(
  'defaults: a plain message in a group room notifies without highlight (.m.rule.message)',
  async (t) => {
    const m = evaluate(defaults, message({ msgtype: 'm.text', body: 'hello' }), ctx);
    t.equal(m?.rule.rule_id, '.m.rule.message');
    t.equal(m?.notify, true);
    t.equal(m?.highlight, false);
  },
);

void t.test('defaults: a message in a two-member room matches .m.rule.room_one_to_one', async (t) => {
  const m = evaluate(defaults, message({ msgtype: 'm.text', body: 'hi' }), { ...ctx, roomMemberCount: 2 });
  t.equal(m?.rule.rule_id, '.m.rule.room_one_to_one');
  t.same(m?.actions, ['notify', { set_tweak: 'sound', value: 'default' }]);
});

void t.test('defaults: an m.mentions user mention highlights', async (t) => {
  const m = evaluate(defaults, message({ body: 'Hello Alice!', 'm.mentions': { user_ids: [alice] } }), ctx);
  t.equal(m?.rule.rule_id, '.m.rule.is_user_mention');
  t.equal(m?.highlight, true);
});

void t.test('defaults: a room mention highlights only from a sender with enough power', async (t) => {
  const ev = message({ body: '@room hi', 'm.mentions': { room: true } });
  t.equal(evaluate(defaults, ev, ctx)?.rule.rule_id, '.m.rule.message');
  const m = evaluate(defaults, ev, { ...ctx, senderPowerLevel: 100 });
  t.equal(m?.rule.rule_id, '.m.rule.is_room_mention');
  t.equal(m?.highlight, true);
});

void t.test('defaults: notices, edits, reactions and member events do not notify', async (t) => {
  t.equal(evaluate(defaults, message({ msgtype: 'm.notice', body: 'x' }), ctx)?.notify, false);
  const edit = message({ body: '* x', 'm.relates_to': { rel_type: 'm.replace', event_id: '$x' } });
  t.equal(evaluate(defaults, edit, ctx)?.rule.rule_id, '.m.rule.suppress_edits');
  t.equal(evaluate(defaults, { type: 'm.reaction', content: {} }, ctx)?.notify, false);
  const join = { type: 'm.room.member', state_key: '@bob:example.org', content: { membership: 'join' } };
  t.equal(evaluate(defaults, join, ctx)?.rule.rule_id, '.m.rule.member_event');
});

void t.test('defaults: an invite for me notifies, an invite for someone else does not', async (t) => {
  const invite = (who: string) => ({
    type: 'm.room.member',
    state_key: who,
    content: { membership: 'invite' },
  });
  t.equal(evaluate(defaults, invite(alice), ctx)?.rule.rule_id, '.m.rule.invite_for_me');
  t.equal(evaluate(defaults, invite('@carol:example.org'), ctx)?.notify, false);
});

void t.test('defaults: a tombstone highlights; calls ring; encrypted events notify', async (t) => {
  const tomb = { type: 'm.room.tombstone', state_key: '', content: {} };
  t.equal(evaluate(defaults, tomb, ctx)?.highlight, true);
  t.same(evaluate(defaults, { type: 'm.call.invite', content: {} }, ctx)?.actions, [
    'notify',
    { set_tweak: 'sound', value: 'ring' },
  ]);
  t.equal(
    evaluate(defaults, { type: 'm.room.encrypted', content: {} }, ctx)?.rule.rule_id,
    '.m.rule.encrypted',
  );
  t.equal(
    evaluate(defaults, { type: 'm.room.encrypted', content: {} }, { ...ctx, roomMemberCount: 2 })?.rule
      .rule_id,
    '.m.rule.encrypted_room_one_to_one',
  );
});

void t.test('an unknown event type matches no rule', async (t) => {
  t.equal(evaluate(defaults, { type: 'org.example.custom', content: {} }, ctx), undefined);
});

void t.test('the master rule, once enabled, silences everything, even user overrides', async (t) => {
  const rules = buildRuleset(
    alice,
    [
      {
        kind: 'override',
        rule: { rule_id: 'all', default: false, enabled: true, actions: ['notify'], conditions: [] },
      },
    ],
    [{ kind: 'override', ruleId: '.m.rule.master', enabled: true }],
  );
  const m = evaluate(rules, message({ body: 'x', 'm.mentions': { user_ids: [alice] } }), ctx);
  t.equal(m?.rule.rule_id, '.m.rule.master');
  t.equal(m?.notify, false);
});

void t.test('kinds are checked in order: content before room before sender before underride', async (t) => {
  const rules = buildRuleset(
    alice,
    [
      { kind: 'sender', rule: { rule_id: '@bob:example.org', default: false, enabled: true, actions: [] } },
      {
        kind: 'content',
        rule: {
          rule_id: 'cake',
          default: false,
          enabled: true,
          pattern: 'cake',
          actions: ['notify', { set_tweak: 'highlight' }],
        },
      },
      { kind: 'room', rule: { rule_id: '!room:example.org', default: false, enabled: true, actions: [] } },
    ],
    [],
  );
  t.equal(evaluate(rules, message({ body: 'I like cake' }), ctx)?.kind, 'content');
  t.equal(evaluate(rules, message({ body: 'I like tea' }), ctx)?.kind, 'room');
  t.equal(evaluate(rules, message({ body: 'tea' }, { room_id: '!other:example.org' }), ctx)?.kind, 'sender');
});

void t.test('disabled rules never match', async (t) => {
  const rules = buildRuleset(alice, [], [{ kind: 'underride', ruleId: '.m.rule.message', enabled: false }]);
  t.equal(evaluate(rules, message({ body: 'x' }), ctx), undefined);
});

void t.test('historical actions are stripped: ["dont_notify"] is an empty list', async (t) => {
  t.same(cleanActions(['dont_notify']), []);
  t.same(cleanActions(['notify', 'coalesce']), ['notify']);
});

void t.test('highlight: a tweak without value is true, value false is false, none is false', async (t) => {
  t.equal(isHighlight([{ set_tweak: 'highlight' }]), true);
  t.equal(isHighlight([{ set_tweak: 'highlight', value: false }]), false);
  t.equal(isHighlight(['notify']), false);
});
