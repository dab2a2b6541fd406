import t from 'tap';
import { NOT_SPAM, type SpamCheckerCallbacks } from '../../../../../core/plugins/api.js';
import { MatrixError } from '../../../../../core/errors.js';
import { createLogger } from '../../../../../core/logger.js';
import { SpamCheckerRegistry } from '../../../../../core/plugins/registry/spam-checker.js';

const ROOM = { userId: '@alice:example.org', request: {} };

function registry(timeoutMs = 100): { reg: SpamCheckerRegistry; logs: Record<string, unknown>[] } {
  const logs: Record<string, unknown>[] = [];
  const logger = createLogger('info', { write: (line: string) => void logs.push(JSON.parse(line)) });
  return { reg: new SpamCheckerRegistry({ logger, timeoutMs }), logs };
}

void t.test('with no plugin every check passes', async (t) => {
  const { reg } = registry();
  t.equal(await reg.check('userMayCreateRoom', ROOM), NOT_SPAM);
  t.equal(await reg.checkRegistrationForSpam({ username: 'a', requestInfo: [] }), 'ALLOW');
  t.equal(await reg.shouldDropFederatedEvent({ event: {} as never }), false);
  t.equal(reg.has('userMayCreateRoom'), false);
});

void t.test('plugins are asked in order; NOT_SPAM falls through and the first refusal wins', async (t) => {
  const { reg } = registry();
  const asked: string[] = [];
  reg.add('a', { userMayCreateRoom: () => (asked.push('a'), NOT_SPAM) });
  reg.add('b', { userMayInvite: () => (asked.push('b-invite'), NOT_SPAM) });
  reg.add('c', {
    userMayCreateRoom: async () => (asked.push('c'), { errcode: 'M_FORBIDDEN', error: 'c says no' }),
  });
  reg.add('d', { userMayCreateRoom: () => (asked.push('d'), { errcode: 'M_UNKNOWN' }) });
  t.same(await reg.check('userMayCreateRoom', ROOM), { errcode: 'M_FORBIDDEN', error: 'c says no' });
  t.same(asked, ['a', 'c'], 'b has no such callback and d is skipped');
  t.equal(reg.has('userMayCreateRoom'), true);
});

void t.test('callbacks receive the arguments the call site gives', async (t) => {
  const { reg } = registry();
  let seen: unknown;
  reg.add('a', {
    userMayJoinRoom(args) {
      seen = args;
      return NOT_SPAM;
    },
  });
  await reg.check('userMayJoinRoom', { userId: '@a:x', roomId: '!r:x', isInvited: true });
  t.same(seen, { userId: '@a:x', roomId: '!r:x', isInvited: true });
});

void t.test(
  'assertAllowed throws the refusal as a 403 with the errcode, message and extra fields',
  async (t) => {
    const { reg } = registry();
    reg.add('a', {
      userMayCreateRoom: () => ({
        errcode: 'M_LIMIT_EXCEEDED',
        error: 'slow down',
        extra: { retry_after_ms: 500 },
      }),
    });
    const err = await reg.assertAllowed('userMayCreateRoom', ROOM).catch((e: unknown) => e);
    t.ok(err instanceof MatrixError);
    t.equal((err as MatrixError).status, 403);
    t.same((err as MatrixError).toJSON(), {
      retry_after_ms: 500,
      errcode: 'M_LIMIT_EXCEEDED',
      error: 'slow down',
    });
  },
);

void t.test('a refusal without a message gets a generic one', async (t) => {
  const { reg } = registry();
  reg.add('a', { userMayPublishRoom: () => ({ errcode: 'M_FORBIDDEN' }) });
  const err = (await reg
    .assertAllowed('userMayPublishRoom', { userId: '@a:x', roomId: '!r:x' })
    .catch((e: unknown) => e)) as MatrixError;
  t.equal(err.message, 'This request was refused by a server policy.');
});

void t.test(
  'a throwing callback refuses with M_FORBIDDEN, logged with the plugin and callback names',
  async (t) => {
    const { reg, logs } = registry();
    reg.add('boom', {
      checkEventForSpam() {
        throw new Error('kaboom');
      },
    });
    reg.add('never-asked', { checkEventForSpam: () => t.fail('the chain stops at a failure') as never });
    const verdict = await reg.check('checkEventForSpam', { event: {} as never });
    t.same(verdict, { errcode: 'M_FORBIDDEN', error: 'This request was refused by a server policy.' });
    const line = logs.find((l) => l['plugin'] === 'boom');
    t.equal(line?.['callback'], 'checkEventForSpam');
    t.match(line?.['msg'], /boom\.checkEventForSpam failed \(kaboom\)/);
  },
);

void t.test('a callback that exceeds its time limit is refused', async (t) => {
  const { reg, logs } = registry(30);
  reg.add('slow', { userMayCreateRoom: () => new Promise(() => {}) });
  const started = performance.now();
  t.same(await reg.check('userMayCreateRoom', ROOM), {
    errcode: 'M_FORBIDDEN',
    error: 'This request was refused by a server policy.',
  });
  t.ok(performance.now() - started >= 25);
  t.match(logs.find((l) => l['plugin'] === 'slow')?.['msg'], /timed out after 30 ms/);
});

void t.test('an invalid answer is refused (fail closed), as Synapse does', async (t) => {
  for (const answer of [
    true,
    'SPAM',
    null,
    undefined,
    { error: 'no errcode' },
    { errcode: 42 },
    { errcode: 'M_X', extra: 3 },
  ]) {
    const { reg } = registry();
    reg.add('odd', { userMayCreateRoom: () => answer as never });
    const verdict = await reg.check('userMayCreateRoom', ROOM);
    t.not(verdict, NOT_SPAM, `answer ${JSON.stringify(answer)} refuses`);
  }
});

void t.test(
  'checkRegistrationForSpam: ALLOW falls through, the first DENY or SHADOW_BAN wins, a failure denies',
  async (t) => {
    const attempt = { username: 'spammer', requestInfo: [] };
    const a = registry().reg;
    a.add('allow', { checkRegistrationForSpam: () => 'ALLOW' });
    a.add('shadow', { checkRegistrationForSpam: async () => 'SHADOW_BAN' as const });
    a.add('deny', { checkRegistrationForSpam: () => 'DENY' });
    t.equal(await a.checkRegistrationForSpam(attempt), 'SHADOW_BAN');
    const b = registry().reg;
    b.add('allow', { checkRegistrationForSpam: () => 'ALLOW' });
    t.equal(await b.checkRegistrationForSpam(attempt), 'ALLOW');
    const c = registry().reg;
    c.add('bad', { checkRegistrationForSpam: () => NOT_SPAM as never });
    t.equal(await c.checkRegistrationForSpam(attempt), 'DENY');
  },
);

void t.test('shouldDropFederatedEvent: any true drops; a failure drops', async (t) => {
  const a = registry().reg;
  a.add('keep', { shouldDropFederatedEvent: () => false });
  t.equal(await a.shouldDropFederatedEvent({ event: {} as never }), false);
  a.add('drop', { shouldDropFederatedEvent: () => true });
  t.equal(await a.shouldDropFederatedEvent({ event: {} as never }), true);
  const b = registry().reg;
  b.add('bad', { shouldDropFederatedEvent: () => 'yes' as never });
  t.equal(await b.shouldDropFederatedEvent({ event: {} as never }), true);
});

void t.test('an unknown callback name or a non-function is refused when registered', async (t) => {
  const { reg } = registry();
  t.throws(() => reg.add('typo', { checkEventForSapm: () => NOT_SPAM } as SpamCheckerCallbacks), {
    message: /unknown spam-checker callback "checkEventForSapm"/,
  });
  t.throws(() => reg.add('odd', { userMayInvite: 'NOT_SPAM' } as never), {
    message: /"userMayInvite" must be a function/,
  });
});

void t.test('callbacks are called with their object as this', async (t) => {
  const { reg } = registry();
  const checker = {
    word: 'casino',
    checkEventForSpam(this: { word: string }, { event }: { event: { content: unknown } }) {
      return JSON.stringify(event.content).includes(this.word) ? { errcode: 'M_FORBIDDEN' } : NOT_SPAM;
    },
  };
  reg.add('this', checker);
  t.not(await reg.check('checkEventForSpam', { event: { content: { body: 'casino' } } as never }), NOT_SPAM);
});
