import t from 'tap';
import type { JsonObject, PduJson } from '../../../../core/protocol/pdu.js';
import { redactEvent } from '../../../../core/protocol/redaction.js';
import { getRoomVersion } from '../../../../core/protocol/room-versions.js';

const v = (id: string) => getRoomVersion(id)!;

const TOP_LEVEL = {
  event_id: '$e:x',
  type: 'm.room.message',
  room_id: '!r:x',
  sender: '@s:x',
  state_key: '',
  content: {},
  hashes: { sha256: 'h' },
  signatures: { x: { 'ed25519:1': 's' } },
  depth: 5,
  prev_events: ['$p'],
  prev_state: [],
  auth_events: ['$a'],
  origin: 'x',
  origin_server_ts: 7,
  membership: 'join',
};
const UNPROTECTED = { unsigned: { age: 1 }, redacts: '$r', age_ts: 9, custom: 'y' };

function event(type: string, content: JsonObject): PduJson {
  return { ...TOP_LEVEL, ...UNPROTECTED, type, content };
}

void t.test('v1–v10 keep exactly the protected top-level keys', async (t) => {
  for (const id of ['1', '2', '3', '4', '5', '6', '7', '8', '9', '10']) {
    t.same(
      redactEvent(event('m.room.message', { body: 'hi' }), v(id)),
      { ...TOP_LEVEL, content: {} },
      `v${id}`,
    );
  }
});

void t.test('v11 and v12 also drop origin, membership and prev_state', async (t) => {
  const { origin: _o, membership: _m, prev_state: _p, ...kept } = TOP_LEVEL;
  for (const id of ['11', '12'])
    t.same(redactEvent(event('m.room.message', { body: 'hi' }), v(id)), { ...kept, content: {} });
});

void t.test('unknown event types keep no content', async (t) => {
  t.same(redactEvent(event('org.example', { membership: 'join', creator: '@a:x' }), v('11')).content, {});
});

void t.test('absent top-level keys stay absent', async (t) => {
  const bare = { type: 'X', content: { a: 1 }, sender: '@s:x' } as unknown as PduJson;
  t.same(redactEvent(bare, v('1')), { type: 'X', content: {}, sender: '@s:x' });
});

void t.test('the input is not modified', async (t) => {
  const e = event('m.room.message', { body: 'hi' });
  redactEvent(e, v('11'));
  t.same(e.content, { body: 'hi' });
  t.equal(e['custom'], 'y');
});

void t.test('a non-object content becomes {}', async (t) => {
  t.same(
    redactEvent({ ...event('m.room.member', {}), content: 'x' } as unknown as PduJson, v('9')).content,
    {},
  );
});

const MEMBER = {
  membership: 'join',
  displayname: 'A',
  join_authorised_via_users_server: '@b:x',
  third_party_invite: { display_name: 'd', signed: { token: 't', mxid: '@a:x' } },
};

void t.test('m.room.member: v1–v8 keep membership only', async (t) => {
  for (const id of ['1', '6', '8'])
    t.same(redactEvent(event('m.room.member', MEMBER), v(id)).content, { membership: 'join' });
});

void t.test('m.room.member: v9–v10 also keep join_authorised_via_users_server', async (t) => {
  for (const id of ['9', '10']) {
    t.same(redactEvent(event('m.room.member', MEMBER), v(id)).content, {
      membership: 'join',
      join_authorised_via_users_server: '@b:x',
    });
  }
});

void t.test('m.room.member: v11+ keep only the signed part of third_party_invite', async (t) => {
  t.same(redactEvent(event('m.room.member', MEMBER), v('11')).content, {
    membership: 'join',
    join_authorised_via_users_server: '@b:x',
    third_party_invite: { signed: { token: 't', mxid: '@a:x' } },
  });
  // Spec rooms/fragments/v11-redactions.md: the member event "allows the `signed` key of the
  // `third_party_invite` key": the key stays, pruned to `signed`, even when it has none.
  const noSigned = { membership: 'invite', third_party_invite: { display_name: 'd' } };
  t.same(redactEvent(event('m.room.member', noSigned), v('12')).content, {
    membership: 'invite',
    third_party_invite: {},
  });
  t.same(redactEvent(event('m.room.member', noSigned), v('11')).content, {
    membership: 'invite',
    third_party_invite: {},
  });
  t.same(redactEvent(event('m.room.member', noSigned), v('10')).content, { membership: 'invite' });
  const signedNull = { membership: 'invite', third_party_invite: { signed: null, x: 1 } };
  t.same(redactEvent(event('m.room.member', signedNull), v('11')).content, {
    membership: 'invite',
    third_party_invite: { signed: null },
  });
  const notObject = { membership: 'invite', third_party_invite: 'x' };
  t.same(redactEvent(event('m.room.member', notObject), v('12')).content, { membership: 'invite' });
});

const CREATE = { creator: '@a:x', room_version: '1', 'm.federate': false, predecessor: { room_id: '!o:x' } };

void t.test('m.room.create: v1–v10 keep creator only', async (t) => {
  for (const id of ['1', '6', '9', '10'])
    t.same(redactEvent(event('m.room.create', CREATE), v(id)).content, { creator: '@a:x' });
});

void t.test('m.room.create: v11+ keep all content', async (t) => {
  for (const id of ['11', '12']) t.same(redactEvent(event('m.room.create', CREATE), v(id)).content, CREATE);
});

const JOIN_RULES = {
  join_rule: 'restricted',
  allow: [{ type: 'm.room_membership', room_id: '!o:x' }],
  other: 1,
};

void t.test('m.room.join_rules: v1–v7 keep join_rule', async (t) => {
  for (const id of ['1', '6', '7'])
    t.same(redactEvent(event('m.room.join_rules', JOIN_RULES), v(id)).content, { join_rule: 'restricted' });
});

void t.test('m.room.join_rules: v8+ also keep allow', async (t) => {
  for (const id of ['8', '9', '11', '12']) {
    t.same(redactEvent(event('m.room.join_rules', JOIN_RULES), v(id)).content, {
      join_rule: 'restricted',
      allow: JOIN_RULES.allow,
    });
  }
});

const POWER = {
  ban: 50,
  events: { 'm.room.name': 50 },
  events_default: 0,
  invite: 0,
  kick: 50,
  redact: 50,
  state_default: 50,
  users: { '@a:x': 100 },
  users_default: 0,
  notifications: { room: 50 },
};
const { invite: _invite, notifications: _notifications, ...POWER_PRE_V11 } = POWER;

void t.test('m.room.power_levels: v1–v10 keep the listed keys, not invite or notifications', async (t) => {
  for (const id of ['1', '6', '10'])
    t.same(redactEvent(event('m.room.power_levels', POWER), v(id)).content, POWER_PRE_V11);
});

void t.test('m.room.power_levels: v11+ also keep invite', async (t) => {
  t.same(redactEvent(event('m.room.power_levels', POWER), v('11')).content, { ...POWER_PRE_V11, invite: 0 });
});

void t.test('m.room.aliases: only v1–v5 keep aliases', async (t) => {
  const aliases = { aliases: ['#a:x'], other: 1 };
  for (const id of ['1', '5'])
    t.same(redactEvent(event('m.room.aliases', aliases), v(id)).content, { aliases: ['#a:x'] });
  for (const id of ['6', '11']) t.same(redactEvent(event('m.room.aliases', aliases), v(id)).content, {});
});

void t.test('m.room.history_visibility keeps history_visibility in every version', async (t) => {
  for (const id of ['1', '6', '9', '12']) {
    t.same(
      redactEvent(event('m.room.history_visibility', { history_visibility: 'shared', x: 1 }), v(id)).content,
      {
        history_visibility: 'shared',
      },
    );
  }
});

void t.test('m.room.redaction: v11+ keep content.redacts; the top-level redacts is never kept', async (t) => {
  const e = event('m.room.redaction', { redacts: '$r', reason: 'spam' });
  t.same(redactEvent(e, v('10')).content, {});
  t.notOk('redacts' in redactEvent(e, v('10')));
  t.same(redactEvent(e, v('11')).content, { redacts: '$r' });
  t.notOk('redacts' in redactEvent(e, v('11')));
});
