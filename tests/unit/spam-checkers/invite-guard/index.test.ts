import t from 'tap';
import { NOT_SPAM, type PduJson } from '../../../../core/index.js';
import inviteGuard, { globs } from '../../../../spam-checkers/invite-guard/index.js';
import { registerWithFakeApi } from '../../../helpers/plugin-fixtures/fake-plugin-api.js';

const invite = (inviter: string, invitee = '@bob:example.org', roomId = '!new:example.org') => ({
  inviter,
  invitee,
  roomId,
});

void t.test('invites from a blocked server are refused, wildcards included', async (t) => {
  const { spamCheckers } = await registerWithFakeApi(inviteGuard, {
    blocked_servers: ['spam.example', '*.evil.example'],
  });
  t.same(await spamCheckers.check('userMayInvite', invite('@x:spam.example')), {
    errcode: 'M_FORBIDDEN',
    error: 'You may not invite this user.',
  });
  t.not(await spamCheckers.check('userMayInvite', invite('@x:a.b.EVIL.example')), NOT_SPAM);
  t.equal(
    await spamCheckers.check('userMayInvite', invite('@x:evil.example')),
    NOT_SPAM,
    '*. needs a subdomain',
  );
  t.equal(await spamCheckers.check('userMayInvite', invite('@x:example.org')), NOT_SPAM);
});

void t.test('invites from a blocked user are refused', async (t) => {
  const { spamCheckers } = await registerWithFakeApi(inviteGuard, {
    blocked_users: ['@spammer:example.org', '@bot*:example.org'],
  });
  t.not(await spamCheckers.check('userMayInvite', invite('@spammer:example.org')), NOT_SPAM);
  t.not(await spamCheckers.check('userMayInvite', invite('@bot42:example.org')), NOT_SPAM);
  t.equal(await spamCheckers.check('userMayInvite', invite('@alice:example.org')), NOT_SPAM);
});

void t.test('federated invites are judged by their sender', async (t) => {
  const { spamCheckers } = await registerWithFakeApi(inviteGuard, { blocked_servers: ['spam.example'] });
  const event = {
    type: 'm.room.member',
    sender: '@x:spam.example',
    state_key: '@bob:example.org',
    room_id: '!r:spam.example',
    content: { membership: 'invite' },
  } as unknown as PduJson;
  t.not(await spamCheckers.check('federatedUserMayInvite', { event }), NOT_SPAM);
  t.equal(
    await spamCheckers.check('federatedUserMayInvite', {
      event: { ...event, sender: '@x:friendly.example' },
    }),
    NOT_SPAM,
  );
});

void t.test('with require_shared_room, users sharing no room cannot invite', async (t) => {
  const { spamCheckers, backends } = await registerWithFakeApi(inviteGuard, { require_shared_room: true });
  backends.joined.set('@alice:example.org', ['!a:example.org', '!shared:example.org']);
  backends.joined.set('@bob:example.org', ['!shared:example.org']);
  backends.joined.set('@carol:example.org', ['!c:example.org']);
  t.equal(await spamCheckers.check('userMayInvite', invite('@alice:example.org')), NOT_SPAM);
  t.not(await spamCheckers.check('userMayInvite', invite('@carol:example.org')), NOT_SPAM);
  t.not(
    await spamCheckers.check('userMayInvite', invite('@alice:example.org', '@dave:example.org')),
    NOT_SPAM,
  );
});

void t.test('server admins skip the shared-room rule, but not the block lists', async (t) => {
  const { spamCheckers, backends } = await registerWithFakeApi(inviteGuard, {
    require_shared_room: true,
    blocked_users: ['@badmin:example.org'],
  });
  backends.users.set('@admin:example.org', { admin: true });
  backends.users.set('@badmin:example.org', { admin: true });
  t.equal(await spamCheckers.check('userMayInvite', invite('@admin:example.org')), NOT_SPAM);
  t.not(await spamCheckers.check('userMayInvite', invite('@badmin:example.org')), NOT_SPAM);
  const strict = await registerWithFakeApi(inviteGuard, { require_shared_room: true, exempt_admins: false });
  strict.backends.users.set('@admin:example.org', { admin: true });
  t.not(await strict.spamCheckers.check('userMayInvite', invite('@admin:example.org')), NOT_SPAM);
});

void t.test('the errcode and error are configurable', async (t) => {
  const { spamCheckers } = await registerWithFakeApi(inviteGuard, {
    blocked_servers: ['spam.example'],
    errcode: 'M_UNKNOWN',
    error: 'Nope',
  });
  t.same(await spamCheckers.check('userMayInvite', invite('@x:spam.example')), {
    errcode: 'M_UNKNOWN',
    error: 'Nope',
  });
});

void t.test('globs escape everything but *', async (t) => {
  const match = globs(['a.b', 'c*']);
  t.ok(match('A.B'));
  t.notOk(match('axb'));
  t.ok(match('cdef'));
  t.notOk(globs([])('anything'));
});
