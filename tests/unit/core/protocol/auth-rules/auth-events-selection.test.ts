import t from 'tap';
import { authEventsSelection } from '../../../../../core/protocol/auth-events-selection.js';
import { splitStateKey } from '../../../../../core/protocol/pdu.js';
import { getRoomVersion } from '../../../../../core/protocol/room-versions.js';
import { ALICE, BOB, CHARLIE } from './fixtures.js';

const select = (versionId: string, event: Parameters<typeof authEventsSelection>[0]) =>
  authEventsSelection(event, getRoomVersion(versionId)!).map((k) => splitStateKey(k).join('|'));

void t.test('the create event has no auth events', async (t) => {
  t.same(select('10', { type: 'm.room.create', sender: ALICE, state_key: '', content: {} }), []);
});

void t.test('ordinary events: create, power levels, sender membership', async (t) => {
  t.same(select('10', { type: 'm.room.message', sender: BOB, content: {} }), [
    'm.room.create|',
    'm.room.power_levels|',
    `m.room.member|${BOB}`,
  ]);
});

void t.test('v12 never selects the create event', async (t) => {
  t.same(select('12', { type: 'm.room.message', sender: BOB, content: {} }), [
    'm.room.power_levels|',
    `m.room.member|${BOB}`,
  ]);
});

void t.test('membership events add the target and, for join/invite/knock, the join rules', async (t) => {
  t.same(
    select('10', { type: 'm.room.member', sender: ALICE, state_key: BOB, content: { membership: 'ban' } }),
    ['m.room.create|', 'm.room.power_levels|', `m.room.member|${ALICE}`, `m.room.member|${BOB}`],
  );
  for (const membership of ['join', 'invite', 'knock']) {
    const keys = select('10', {
      type: 'm.room.member',
      sender: BOB,
      state_key: BOB,
      content: { membership },
    });
    t.same(
      keys,
      ['m.room.create|', 'm.room.power_levels|', `m.room.member|${BOB}`, 'm.room.join_rules|'],
      membership,
    );
  }
});

void t.test('third-party invites add the m.room.third_party_invite for the token', async (t) => {
  const content = { membership: 'invite', third_party_invite: { signed: { mxid: CHARLIE, token: 'tok' } } };
  const keys = select('10', { type: 'm.room.member', sender: ALICE, state_key: CHARLIE, content });
  t.ok(keys.includes('m.room.third_party_invite|tok'));
});

void t.test('restricted joins add the authorising member from v8', async (t) => {
  const content = { membership: 'join', join_authorised_via_users_server: CHARLIE };
  const event = { type: 'm.room.member', sender: BOB, state_key: BOB, content };
  t.ok(select('8', event).includes(`m.room.member|${CHARLIE}`));
  t.notOk(select('7', event).includes(`m.room.member|${CHARLIE}`));
});
