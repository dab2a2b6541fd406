import t from 'tap';
import { ALICE, BOB, CHARLIE, RoomFixture, verdict, versions } from './fixtures.js';

void t.test('m.federate false: only users of the creating server may participate', async (t) => {
  for (const v of versions(1)) {
    const room = RoomFixture.create(v, ALICE, { 'm.federate': false });
    room.join(ALICE);
    t.equal(verdict(room.check(room.member(BOB, BOB, 'join'))), 'federate', `v${v}`);
    t.equal(
      verdict(room.check(room.build({ type: 'm.room.message', sender: ALICE, content: {} }))),
      'allowed',
      `v${v}`,
    );
  }
});

void t.test('m.federate true (or absent) lets other servers in', async (t) => {
  const room = RoomFixture.standard('10');
  t.equal(verdict(room.check(room.member(BOB, BOB, 'join'))), 'allowed');
});

void t.test(
  "v1–5: m.room.aliases is allowed when the state_key is the sender's domain, even for non-members",
  async (t) => {
    for (const v of versions(1, 5)) {
      const room = RoomFixture.standard(v);
      const own = room.build({
        type: 'm.room.aliases',
        sender: BOB,
        stateKey: 'b.test',
        content: { aliases: [] },
      });
      t.equal(verdict(room.check(own)), 'allowed', `v${v}`);
      const other = room.build({
        type: 'm.room.aliases',
        sender: BOB,
        stateKey: 'a.test',
        content: { aliases: [] },
      });
      t.equal(verdict(room.check(other)), 'aliases.domain', `v${v}`);
      const none = room.build({ type: 'm.room.aliases', sender: BOB, content: { aliases: [] } });
      t.equal(verdict(room.check(none)), 'aliases.no_state_key', `v${v}`);
    }
  },
);

void t.test('v6+: m.room.aliases follows the ordinary rules', async (t) => {
  for (const v of versions(6)) {
    const room = RoomFixture.standard(v);
    const e = room.build({
      type: 'm.room.aliases',
      sender: BOB,
      stateKey: 'b.test',
      content: { aliases: [] },
    });
    t.equal(verdict(room.check(e)), 'sender.not_joined', `v${v}`);
  }
});

void t.test('the sender must be joined to send anything but membership events', async (t) => {
  for (const v of versions(1)) {
    const room = RoomFixture.standard(v, {}, [BOB]);
    t.equal(
      verdict(room.check(room.build({ type: 'm.room.message', sender: BOB, content: {} }))),
      'allowed',
      `v${v}`,
    );
    t.equal(
      verdict(room.check(room.build({ type: 'm.room.message', sender: CHARLIE, content: {} }))),
      'sender.not_joined',
      `v${v}`,
    );
  }
});

void t.test('m.room.third_party_invite needs the invite level', async (t) => {
  const room = RoomFixture.standard('10', {}, [BOB]);
  const tpi = () =>
    room.build({ type: 'm.room.third_party_invite', sender: BOB, stateKey: 'tok', content: {} });
  t.equal(verdict(room.check(tpi())), 'allowed');
  room.send({
    type: 'm.room.power_levels',
    sender: ALICE,
    stateKey: '',
    content: { users: { [ALICE]: 100 }, invite: 10 },
  });
  const r = room.check(tpi());
  t.equal(verdict(r), 'third_party_invite.power');
  t.match(!r.allowed && r.reason, /needs power level 10 but the sender has 0/);
});

void t.test(
  "the event type's required power level: events entry, else state_default / events_default",
  async (t) => {
    const room = RoomFixture.standard('10', { [BOB]: 10 }, [BOB]);
    const topic = room.check(
      room.build({ type: 'm.room.topic', sender: BOB, stateKey: '', content: { topic: 'x' } }),
    );
    t.equal(verdict(topic), 'power.event');
    t.match(
      !topic.allowed && topic.reason,
      /m\.room\.topic: sending needs power level 50 but the sender has 10/,
    );
    t.equal(verdict(room.check(room.build({ type: 'm.room.message', sender: BOB, content: {} }))), 'allowed');
    room.send({
      type: 'm.room.power_levels',
      sender: ALICE,
      stateKey: '',
      content: { users: { [ALICE]: 100, [BOB]: 10 }, events: { 'm.room.topic': 5, 'm.reaction': 20 } },
    });
    t.equal(
      verdict(room.check(room.build({ type: 'm.room.topic', sender: BOB, stateKey: '', content: {} }))),
      'allowed',
    );
    t.equal(verdict(room.check(room.build({ type: 'm.reaction', sender: BOB, content: {} }))), 'power.event');
  },
);

void t.test('with no power levels event, state needs 50 and the creator has 100', async (t) => {
  const room = RoomFixture.create('10');
  room.join(ALICE);
  t.equal(
    verdict(room.check(room.build({ type: 'm.room.name', sender: ALICE, stateKey: '', content: {} }))),
    'allowed',
  );
});

void t.test('a state_key starting with @ must be the sender', async (t) => {
  const room = RoomFixture.standard('10', { [BOB]: 50 }, [BOB]);
  const own = room.build({ type: 'org.example.state', sender: BOB, stateKey: BOB, content: {} });
  t.equal(verdict(room.check(own)), 'allowed');
  const other = room.build({ type: 'org.example.state', sender: BOB, stateKey: ALICE, content: {} });
  t.equal(verdict(room.check(other)), 'state_key.user');
});

void t.test(
  'v1–2: redactions need the redact level unless the redacted event is from the same server',
  async (t) => {
    for (const v of versions(1, 2)) {
      const room = RoomFixture.standard(v, {}, [BOB]);
      const redact = (sender: string, target: string) =>
        room.build({ type: 'm.room.redaction', sender, content: {}, extra: { redacts: target } });
      t.equal(verdict(room.check(redact(BOB, '$x:b.test'))), 'allowed', `v${v} same server`);
      const r = room.check(redact(BOB, '$x:a.test'));
      t.equal(verdict(r), 'redaction.power', `v${v} other server`);
      t.match(!r.allowed && r.reason, /needs power level 50 but the sender has 0/);
      t.equal(verdict(room.check(redact(ALICE, '$x:b.test'))), 'allowed', `v${v} moderator`);
    }
  },
);

void t.test('v3+: the auth rules ignore the redact level', async (t) => {
  for (const v of versions(3)) {
    const room = RoomFixture.standard(v, {}, [BOB]);
    const e = room.build({
      type: 'm.room.redaction',
      sender: BOB,
      content: { redacts: '$x' },
      extra: { redacts: '$x' },
    });
    t.equal(verdict(room.check(e)), 'allowed', `v${v}`);
  }
});
