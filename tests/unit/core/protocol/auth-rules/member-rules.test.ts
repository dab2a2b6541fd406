import t from 'tap';
import type { AuthEvent } from '../../../../../core/protocol/auth-rules/types.js';
import type { JsonObject } from '../../../../../core/protocol/pdu.js';
import {
  ALICE,
  BOB,
  CHARLIE,
  EVE,
  RoomFixture,
  TRUST_SIGNATURE_ENTRIES as SIGNED,
  ZARA,
  verdict,
  versions,
  withSignature,
} from './fixtures.js';

function setJoinRule(room: RoomFixture, joinRule: string, extra: JsonObject = {}): void {
  room.send({
    type: 'm.room.join_rules',
    sender: ALICE,
    stateKey: '',
    content: { join_rule: joinRule, ...extra },
  });
}

void t.test('a member event without a state_key or membership is rejected', async (t) => {
  for (const v of versions(1)) {
    const room = RoomFixture.standard(v);
    const noMembership = room.build({ type: 'm.room.member', sender: BOB, stateKey: BOB, content: {} });
    t.equal(verdict(room.check(noMembership)), 'member.malformed', `v${v}`);
    const noStateKey = room.build({ type: 'm.room.member', sender: BOB, content: { membership: 'join' } });
    t.equal(verdict(room.check(noStateKey)), 'member.malformed', `v${v}`);
  }
});

void t.test("the creator's first join straight after the create event is allowed", async (t) => {
  for (const v of versions(1)) {
    const room = RoomFixture.create(v);
    t.equal(verdict(room.check(room.member(ALICE, ALICE, 'join'))), 'allowed', `v${v}`);
    // Someone else joining at that point has no join rules to rely on (default: invite).
    t.equal(verdict(room.check(room.member(BOB, BOB, 'join'))), 'member.join.not_invited', `v${v}`);
  }
});

void t.test('v1–10 take the creator from content.creator, v11+ from the sender', async (t) => {
  for (const v of versions(1)) {
    // The create event's content names bob as creator, but alice sent it.
    const room = RoomFixture.create(v, ALICE, { creator: BOB });
    const expectBob = Number(v) <= 10 ? 'allowed' : 'member.join.not_invited';
    t.equal(verdict(room.check(room.member(BOB, BOB, 'join'))), expectBob, `v${v} bob`);
  }
});

void t.test('a join must be sent by the joining user', async (t) => {
  const room = RoomFixture.standard('10');
  t.equal(verdict(room.check(room.member(ALICE, BOB, 'join'))), 'member.join.not_self');
  t.equal(verdict(room.check(room.member(BOB, BOB, 'join'))), 'allowed');
});

void t.test('a banned user cannot join', async (t) => {
  const room = RoomFixture.standard('10', {}, [BOB]);
  room.send({ type: 'm.room.member', sender: ALICE, stateKey: BOB, content: { membership: 'ban' } });
  t.equal(verdict(room.check(room.member(BOB, BOB, 'join'))), 'member.join.banned');
});

void t.test('invite join rule: only invited or joined users may join', async (t) => {
  for (const v of versions(1)) {
    const room = RoomFixture.standard(v);
    setJoinRule(room, 'invite');
    t.equal(verdict(room.check(room.member(BOB, BOB, 'join'))), 'member.join.not_invited', `v${v}`);
    room.send({ type: 'm.room.member', sender: ALICE, stateKey: BOB, content: { membership: 'invite' } });
    t.equal(verdict(room.check(room.member(BOB, BOB, 'join'))), 'allowed', `v${v}`);
  }
});

void t.test('knock join rule: behaves like invite for joins from v7, unknown before', async (t) => {
  for (const v of versions(1)) {
    const room = RoomFixture.standard(v);
    setJoinRule(room, 'knock');
    room.send({ type: 'm.room.member', sender: ALICE, stateKey: BOB, content: { membership: 'invite' } });
    const expected = Number(v) >= 7 ? 'allowed' : 'member.join.join_rule';
    t.equal(verdict(room.check(room.member(BOB, BOB, 'join'))), expected, `v${v} invited`);
    t.not(verdict(room.check(room.member(CHARLIE, CHARLIE, 'join'))), 'allowed', `v${v} uninvited`);
  }
});

void t.test('public join rule: anyone not banned may join', async (t) => {
  for (const v of versions(1)) {
    const room = RoomFixture.standard(v);
    t.equal(verdict(room.check(room.member(BOB, BOB, 'join'))), 'allowed', `v${v}`);
  }
});

void t.test('unknown join rules reject joins', async (t) => {
  const room = RoomFixture.standard('10');
  setJoinRule(room, 'private');
  t.equal(verdict(room.check(room.member(BOB, BOB, 'join'))), 'member.join.join_rule');
});

void t.test(
  'restricted join rule (v8+): join via an authorising joined member with invite power',
  async (t) => {
    for (const v of versions(8)) {
      const room = RoomFixture.standard(v, { [CHARLIE]: 0 }, [CHARLIE]);
      setJoinRule(room, 'restricted', { allow: [] });
      const via = (authoriser: string) =>
        room.member(BOB, BOB, 'join', { join_authorised_via_users_server: authoriser });
      const signedVia = (authoriser: string) =>
        withSignature(via(authoriser), authoriser.slice(authoriser.indexOf(':') + 1));
      t.equal(verdict(room.check(signedVia(ALICE), SIGNED)), 'allowed', `v${v} via alice`);
      t.equal(
        verdict(room.check(room.member(BOB, BOB, 'join'))),
        'member.join.restricted_no_authoriser',
        `v${v}`,
      );
      t.equal(verdict(room.check(signedVia(ZARA), SIGNED)), 'member.join.authoriser_not_joined', `v${v}`);
    }
  },
);

void t.test('restricted join rule: the authoriser needs the invite level', async (t) => {
  const room = RoomFixture.standard('10', {}, [CHARLIE]);
  room.send({
    type: 'm.room.power_levels',
    sender: ALICE,
    stateKey: '',
    content: { users: { [ALICE]: 100 }, invite: 50 },
  });
  setJoinRule(room, 'restricted', { allow: [] });
  const e = room.member(BOB, BOB, 'join', { join_authorised_via_users_server: CHARLIE });
  const r = room.check(withSignature(e, 'c.test'), SIGNED);
  t.equal(verdict(r), 'member.join.authoriser_power');
  t.match(!r.allowed && r.reason, /power level 0 but inviting needs 50/);
});

void t.test('restricted join rule: invited users join without an authoriser', async (t) => {
  const room = RoomFixture.standard('9');
  setJoinRule(room, 'restricted', { allow: [] });
  room.send({ type: 'm.room.member', sender: ALICE, stateKey: BOB, content: { membership: 'invite' } });
  t.equal(verdict(room.check(room.member(BOB, BOB, 'join'))), 'allowed');
});

void t.test('restricted before v8 and knock_restricted before v10 are unknown join rules', async (t) => {
  for (const [v, rule] of [
    ['7', 'restricted'],
    ['9', 'knock_restricted'],
  ] as const) {
    const room = RoomFixture.standard(v, {}, [CHARLIE]);
    setJoinRule(room, rule, { allow: [] });
    const e = withSignature(
      room.member(BOB, BOB, 'join', { join_authorised_via_users_server: ALICE }),
      'a.test',
    );
    t.equal(verdict(room.check(e, SIGNED)), 'member.join.join_rule', `v${v} ${rule}`);
  }
});

void t.test('knock_restricted (v10+) allows restricted joins', async (t) => {
  for (const v of versions(10)) {
    const room = RoomFixture.standard(v);
    setJoinRule(room, 'knock_restricted', { allow: [] });
    const e = withSignature(
      room.member(BOB, BOB, 'join', { join_authorised_via_users_server: ALICE }),
      'a.test',
    );
    t.equal(verdict(room.check(e, SIGNED)), 'allowed', `v${v}`);
  }
});

void t.test('join_authorised_via_users_server must be signed by that user’s server (v8+)', async (t) => {
  const room = RoomFixture.standard('10', {}, [CHARLIE]);
  setJoinRule(room, 'restricted', { allow: [] });
  const e = room.member(BOB, BOB, 'join', { join_authorised_via_users_server: CHARLIE });
  t.equal(verdict(room.check(e)), 'member.authoriser_signature', 'no c.test signature');
  const verdictWith = (ok: boolean) =>
    verdict(room.check(e, { isSignedBy: (_ev: AuthEvent, server: string) => ok && server === 'c.test' }));
  t.equal(verdictWith(true), 'allowed', 'hook says signed');
  t.equal(verdictWith(false), 'member.authoriser_signature', 'hook says not signed');
  // A signature entry is not a valid signature: without a verifier the event is not signed.
  t.equal(verdict(room.check(withSignature(e, 'c.test'))), 'member.authoriser_signature', 'no verifier');
  // A malformed event without `signatures` fails the rule instead of throwing.
  const { signatures: _drop, ...unsigned } = e.pdu;
  const bare = { ...e, pdu: unsigned as typeof e.pdu };
  t.equal(verdict(room.check(bare)), 'member.authoriser_signature', 'no signatures, no verifier');
  t.equal(verdict(room.check(bare, SIGNED)), 'member.authoriser_signature', 'no signatures, verifier');
  // Before v8 the key means nothing.
  const v7 = RoomFixture.standard('7');
  t.equal(
    verdict(v7.check(v7.member(BOB, BOB, 'join', { join_authorised_via_users_server: CHARLIE }))),
    'allowed',
  );
});

void t.test('invite: a joined sender with the invite level may invite', async (t) => {
  for (const v of versions(1)) {
    const room = RoomFixture.standard(v, {}, [BOB]);
    t.equal(verdict(room.check(room.member(BOB, CHARLIE, 'invite'))), 'allowed', `v${v}`);
    t.equal(
      verdict(room.check(room.member(ZARA, CHARLIE, 'invite'))),
      'member.invite.sender_not_joined',
      `v${v}`,
    );
  }
});

void t.test('invite: joined or banned targets cannot be invited', async (t) => {
  const room = RoomFixture.standard('10', {}, [BOB, CHARLIE]);
  t.equal(verdict(room.check(room.member(BOB, CHARLIE, 'invite'))), 'member.invite.target_state');
  room.send({ type: 'm.room.member', sender: ALICE, stateKey: ZARA, content: { membership: 'ban' } });
  t.equal(verdict(room.check(room.member(BOB, ZARA, 'invite'))), 'member.invite.target_state');
});

void t.test('invite: the sender needs the invite level', async (t) => {
  const room = RoomFixture.standard('10', {}, [BOB]);
  room.send({
    type: 'm.room.power_levels',
    sender: ALICE,
    stateKey: '',
    content: { users: { [ALICE]: 100 }, invite: 50 },
  });
  const r = room.check(room.member(BOB, CHARLIE, 'invite'));
  t.equal(verdict(r), 'member.invite.power');
  t.match(!r.allowed && r.reason, /needs power level 50 but the sender has 0/);
  t.equal(verdict(room.check(room.member(ALICE, CHARLIE, 'invite'))), 'allowed');
});

void t.test('third-party invites', async (t) => {
  const setup = () => {
    const room = RoomFixture.standard('10', {}, [BOB]);
    room.send({
      type: 'm.room.third_party_invite',
      sender: BOB,
      stateKey: 'tok',
      content: {
        display_name: 'c…',
        key_validity_url: 'https://id',
        public_key: 'K1',
        public_keys: [{ public_key: 'K2' }],
      },
    });
    return room;
  };
  const invite = (room: RoomFixture, sender: string, signed: Record<string, unknown> | undefined) =>
    room.member(sender, CHARLIE, 'invite', {
      third_party_invite: (signed === undefined
        ? { display_name: 'c' }
        : { display_name: 'c', signed }) as never,
    });
  const good = { mxid: CHARLIE, token: 'tok', signatures: { 'id.test': { 'ed25519:0': 'sig' } } };
  const verifyK2 = {
    verifySignature: (_s: unknown, server: string, key: string) => server === 'id.test' && key === 'K2',
  };

  let room = setup();
  t.equal(
    verdict(room.check(invite(room, BOB, good), verifyK2)),
    'allowed',
    'signature by a key in public_keys',
  );
  t.equal(
    verdict(room.check(invite(room, BOB, good), { verifySignature: () => false })),
    'member.invite.3pid_signature',
    'no matching signature',
  );
  t.equal(verdict(room.check(invite(room, BOB, good))), 'member.invite.3pid_signature', 'no verifier');
  t.equal(verdict(room.check(invite(room, BOB, undefined), verifyK2)), 'member.invite.3pid_no_signed');
  t.equal(
    verdict(room.check(invite(room, BOB, { token: 'tok' }), verifyK2)),
    'member.invite.3pid_signed_fields',
  );
  t.equal(
    verdict(room.check(invite(room, BOB, { ...good, mxid: ZARA }), verifyK2)),
    'member.invite.3pid_mxid',
  );
  t.equal(
    verdict(room.check(invite(room, BOB, { ...good, token: 'other' }), verifyK2)),
    'member.invite.3pid_no_invite_event',
  );
  t.equal(verdict(room.check(invite(room, ALICE, good), verifyK2)), 'member.invite.3pid_sender');

  room = setup();
  room.send({ type: 'm.room.member', sender: ALICE, stateKey: CHARLIE, content: { membership: 'ban' } });
  t.equal(verdict(room.check(invite(room, BOB, good), verifyK2)), 'member.invite.3pid_target_banned');
});

void t.test('leave: users may leave when invited or joined, and (v7+) retract a knock', async (t) => {
  for (const v of versions(1)) {
    const room = RoomFixture.standard(v, {}, [BOB]);
    t.equal(verdict(room.check(room.member(BOB, BOB, 'leave'))), 'allowed', `v${v} joined`);
    t.equal(
      verdict(room.check(room.member(ZARA, ZARA, 'leave'))),
      'member.leave.not_member',
      `v${v} stranger`,
    );
    // A knock membership in the state (forced for versions that cannot produce it).
    room.apply(
      room.build({
        type: 'm.room.member',
        sender: CHARLIE,
        stateKey: CHARLIE,
        content: { membership: 'knock' },
      }),
    );
    const expected = Number(v) >= 7 ? 'allowed' : 'member.leave.not_member';
    t.equal(verdict(room.check(room.member(CHARLIE, CHARLIE, 'leave'))), expected, `v${v} knocked`);
  }
});

void t.test('kick: the sender needs the kick level and more power than the target', async (t) => {
  const room = RoomFixture.standard('10', { [BOB]: 50, [CHARLIE]: 50 }, [BOB, CHARLIE, ZARA]);
  t.equal(verdict(room.check(room.member(BOB, ZARA, 'leave'))), 'allowed');
  const peer = room.check(room.member(BOB, CHARLIE, 'leave'));
  t.equal(verdict(peer), 'member.leave.target_power');
  t.match(!peer.allowed && peer.reason, /power level 50 is not below the sender's 50/);
  const weak = room.check(room.member(ZARA, BOB, 'leave'));
  t.equal(verdict(weak), 'member.leave.kick_power');
  t.match(!weak.allowed && weak.reason, /kicking needs power level 50 but the sender has 0/);
  t.equal(verdict(room.check(room.member(EVE, ZARA, 'leave'))), 'member.leave.sender_not_joined');
});

void t.test('unban: needs the ban level as well as the kick level', async (t) => {
  const room = RoomFixture.standard('10', { [BOB]: 60 }, [BOB]);
  room.send({
    type: 'm.room.power_levels',
    sender: ALICE,
    stateKey: '',
    content: { users: { [ALICE]: 100, [BOB]: 60 }, ban: 70 },
  });
  room.send({ type: 'm.room.member', sender: ALICE, stateKey: ZARA, content: { membership: 'ban' } });
  t.equal(verdict(room.check(room.member(BOB, ZARA, 'leave'))), 'member.leave.unban_power');
  t.equal(verdict(room.check(room.member(ALICE, ZARA, 'leave'))), 'allowed');
});

void t.test('ban: the sender must be joined, have the ban level and outrank the target', async (t) => {
  for (const v of versions(1)) {
    const room = RoomFixture.standard(v, { [BOB]: 50 }, [BOB, CHARLIE]);
    t.equal(verdict(room.check(room.member(BOB, CHARLIE, 'ban'))), 'allowed', `v${v}`);
    t.equal(verdict(room.check(room.member(CHARLIE, BOB, 'ban'))), 'member.ban.power', `v${v}`);
    t.equal(verdict(room.check(room.member(BOB, ALICE, 'ban'))), 'member.ban.target_power', `v${v}`);
    t.equal(verdict(room.check(room.member(ZARA, CHARLIE, 'ban'))), 'member.ban.sender_not_joined', `v${v}`);
  }
});

void t.test('knock (v7+): only under a knock join rule, only for oneself, only as an outsider', async (t) => {
  for (const v of versions(7)) {
    const room = RoomFixture.standard(v, {}, [BOB]);
    t.equal(
      verdict(room.check(room.member(CHARLIE, CHARLIE, 'knock'))),
      'member.knock.join_rule',
      `v${v} public`,
    );
    setJoinRule(room, 'knock');
    t.equal(verdict(room.check(room.member(CHARLIE, CHARLIE, 'knock'))), 'allowed', `v${v}`);
    t.equal(verdict(room.check(room.member(BOB, CHARLIE, 'knock'))), 'member.knock.not_self', `v${v}`);
    t.equal(verdict(room.check(room.member(BOB, BOB, 'knock'))), 'member.knock.membership', `v${v} joined`);
  }
});

void t.test(
  'knock: before v7 it is an unknown membership; knock_restricted allows it from v10',
  async (t) => {
    const v6 = RoomFixture.standard('6');
    setJoinRule(v6, 'knock');
    t.equal(verdict(v6.check(v6.member(CHARLIE, CHARLIE, 'knock'))), 'member.unknown_membership');
    for (const [v, expected] of [
      ['9', 'member.knock.join_rule'],
      ['10', 'allowed'],
    ] as const) {
      const room = RoomFixture.standard(v);
      setJoinRule(room, 'knock_restricted', { allow: [] });
      t.equal(verdict(room.check(room.member(CHARLIE, CHARLIE, 'knock'))), expected, `v${v}`);
    }
  },
);

void t.test('unknown memberships are rejected', async (t) => {
  const room = RoomFixture.standard('10', {}, [BOB]);
  t.equal(verdict(room.check(room.member(BOB, BOB, 'dance'))), 'member.unknown_membership');
});

void t.test('v12: creators have infinite power and cannot be kicked or banned', async (t) => {
  const room = RoomFixture.create('12', ALICE, { additional_creators: [BOB] });
  room.join(ALICE);
  room.send({
    type: 'm.room.power_levels',
    sender: ALICE,
    stateKey: '',
    content: { users: { [CHARLIE]: 100 } },
  });
  room.send({ type: 'm.room.join_rules', sender: ALICE, stateKey: '', content: { join_rule: 'public' } });
  room.join(BOB);
  room.join(CHARLIE);
  const r = room.check(room.member(CHARLIE, BOB, 'ban'));
  t.equal(verdict(r), 'member.ban.target_power', 'a PL 100 admin cannot ban an additional creator');
  t.match(!r.allowed && r.reason, /infinite \(room creator\)/);
  t.equal(verdict(room.check(room.member(BOB, CHARLIE, 'ban'))), 'allowed', 'a creator can ban the admin');
  t.equal(
    verdict(room.check(room.member(BOB, ALICE, 'leave'))),
    'member.leave.target_power',
    'creators cannot kick creators',
  );
});
