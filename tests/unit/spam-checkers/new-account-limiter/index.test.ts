import t from 'tap';
import { NOT_SPAM, type PduJson } from '../../../../core/index.js';
import newAccountLimiter from '../../../../spam-checkers/new-account-limiter/index.js';
import { registerWithFakeApi } from '../../../helpers/plugin-fixtures/fake-plugin-api.js';

const NEW = '@new:example.org';
const OLD = '@old:example.org';
const MINUTE = 60_000;

async function limiter(config: Record<string, unknown> = {}) {
  const plugin = await registerWithFakeApi(newAccountLimiter, { minutes: 30, ...config });
  plugin.backends.users.set(NEW, { createdAt: Date.now() - 5 * MINUTE });
  plugin.backends.users.set(OLD, { createdAt: Date.now() - 31 * MINUTE });
  return plugin;
}

const message = (sender: string, body: string, extra: Record<string, unknown> = {}) => ({
  event: {
    type: 'm.room.message',
    sender,
    room_id: '!r:example.org',
    content: { msgtype: 'm.text', body },
    ...extra,
  } as unknown as PduJson,
});

void t.test('new accounts cannot create rooms; the error says for how long', async (t) => {
  const { spamCheckers } = await limiter();
  const verdict = await spamCheckers.check('userMayCreateRoom', { userId: NEW, request: {} });
  t.same(verdict, {
    errcode: 'M_FORBIDDEN',
    error: 'New accounts cannot create rooms during their first 30 minutes (try again in 25 minutes).',
  });
  t.equal(await spamCheckers.check('userMayCreateRoom', { userId: OLD, request: {} }), NOT_SPAM);
});

void t.test('users whose creation time is unknown are not limited', async (t) => {
  const { spamCheckers } = await limiter();
  t.equal(
    await spamCheckers.check('userMayCreateRoom', { userId: '@ghost:example.org', request: {} }),
    NOT_SPAM,
  );
});

void t.test(
  'new accounts cannot join public rooms, or unknown (remote) rooms, without an invite',
  async (t) => {
    const { spamCheckers, backends } = await limiter();
    backends.state.set('!public:example.org', [
      { type: 'm.room.join_rules', state_key: '', content: { join_rule: 'public' } } as unknown as PduJson,
    ]);
    backends.state.set('!knock:example.org', [
      { type: 'm.room.join_rules', state_key: '', content: { join_rule: 'knock' } } as unknown as PduJson,
    ]);
    const join = (userId: string, roomId: string, isInvited = false) => ({ userId, roomId, isInvited });
    t.not(await spamCheckers.check('userMayJoinRoom', join(NEW, '!public:example.org')), NOT_SPAM);
    t.not(await spamCheckers.check('userMayJoinRoom', join(NEW, '!remote:elsewhere.org')), NOT_SPAM);
    t.equal(await spamCheckers.check('userMayJoinRoom', join(NEW, '!knock:example.org')), NOT_SPAM);
    t.equal(await spamCheckers.check('userMayJoinRoom', join(NEW, '!public:example.org', true)), NOT_SPAM);
    t.equal(await spamCheckers.check('userMayJoinRoom', join(OLD, '!public:example.org')), NOT_SPAM);
  },
);

void t.test('new accounts cannot send links', async (t) => {
  const { spamCheckers } = await limiter();
  for (const body of [
    'see https://spam.example/x',
    'www.spam.example',
    'go to cheap-pills.com now',
    'matrix://r/x',
  ]) {
    t.not(await spamCheckers.check('checkEventForSpam', message(NEW, body)), NOT_SPAM, body);
  }
  t.equal(
    await spamCheckers.check('checkEventForSpam', message(NEW, 'hello, e.g. node.js is nice')),
    NOT_SPAM,
  );
  t.equal(await spamCheckers.check('checkEventForSpam', message(OLD, 'https://example.org')), NOT_SPAM);
  const html = message(NEW, 'click', {
    content: { msgtype: 'm.text', body: 'click', formatted_body: '<a href="x">click</a>' },
  });
  t.not(await spamCheckers.check('checkEventForSpam', html), NOT_SPAM);
});

void t.test('invites are limited only when block_invites is set', async (t) => {
  const off = await limiter();
  t.equal(off.spamCheckers.has('userMayInvite'), false);
  const on = await limiter({ block_invites: true });
  t.not(
    await on.spamCheckers.check('userMayInvite', { inviter: NEW, invitee: OLD, roomId: '!r:example.org' }),
    NOT_SPAM,
  );
});

void t.test('each rule can be switched off', async (t) => {
  const { spamCheckers } = await limiter({
    block_room_creation: false,
    block_public_room_joins: false,
    block_links: false,
  });
  t.equal(spamCheckers.has('userMayCreateRoom'), false);
  t.equal(spamCheckers.has('userMayJoinRoom'), false);
  t.equal(spamCheckers.has('checkEventForSpam'), false);
});

void t.test('server admins are exempt unless exempt_admins is false', async (t) => {
  const { spamCheckers, backends } = await limiter();
  backends.users.set(NEW, { createdAt: Date.now(), admin: true });
  t.equal(await spamCheckers.check('userMayCreateRoom', { userId: NEW, request: {} }), NOT_SPAM);
  const strict = await limiter({ exempt_admins: false });
  strict.backends.users.set(NEW, { createdAt: Date.now(), admin: true });
  t.not(await strict.spamCheckers.check('userMayCreateRoom', { userId: NEW, request: {} }), NOT_SPAM);
});

void t.test('an invalid link_pattern fails register()', async (t) => {
  await t.rejects(registerWithFakeApi(newAccountLimiter, { link_pattern: '[' }), {
    message: /link_pattern is not a valid regular expression/,
  });
});
