import t, { type Test } from 'tap';
import { Value } from '@sinclair/typebox/value';
import { rateLimitsConfigSchema } from '../../../../modules/rate-limits/config.js';
import {
  UserRateLimits,
  type ActionFacts,
  type LimitedAction,
} from '../../../../modules/rate-limits/services/user-rate-limits.js';
import type { Cradle } from '../../../../core/container.js';
import { MatrixError } from '../../../../core/errors.js';

/** Synapse's defaults, as the schema fills them in from an empty config. */
const defaults = Value.Default(rateLimitsConfigSchema, {}) as Cradle['rateLimitsConfig'];

function limits(admins: string[] = []) {
  let now = 1_000_000;
  const authApi = { isServerAdmin: async (u: string) => admins.includes(u) } as unknown as Cradle['authApi'];
  const service = new UserRateLimits(
    { rateLimitsConfig: defaults, serverName: 'hs.test', authApi },
    () => now,
  );
  return { service, advance: (ms: number) => void (now += ms) };
}

async function outcome(s: UserRateLimits, action: LimitedAction, facts: ActionFacts): Promise<number | 'ok'> {
  try {
    await s.limit(action, facts);
    return 'ok';
  } catch (err) {
    if (err instanceof MatrixError && err.errcode === 'M_LIMIT_EXCEEDED')
      return err.extra['retry_after_ms'] as number;
    throw err;
  }
}

/** Spends `burst` actions, then shows the next is refused, then that 1/per_second later one is allowed again. */
async function proveBucket(
  t: Test,
  action: LimitedAction,
  facts: (i: number) => ActionFacts,
  burst: number,
  perSecond: number,
): Promise<void> {
  const { service, advance } = limits();
  for (let i = 0; i < burst; i++)
    t.equal(await outcome(service, action, facts(i)), 'ok', `action ${i + 1} of the burst`);
  const retry = await outcome(service, action, facts(burst));
  t.equal(retry, Math.ceil(1000 / perSecond), 'the next one is refused with retry_after_ms = 1/per_second');
  advance(Math.ceil(1000 / perSecond));
  t.equal(await outcome(service, action, facts(burst)), 'ok', 'allowed again once a token has refilled');
  t.not(await outcome(service, action, facts(burst)), 'ok', 'and only one');
}

const alice = '@alice:hs.test';

void t.test("Synapse's defaults, key by key: burst, refill", async (t) => {
  await t.test('rc_message: 10, then 0.2/s per user', (t) =>
    proveBucket(t, 'message', () => ({ userId: alice }), 10, 0.2),
  );
  await t.test('rc_joins.local: 10, then 0.1/s per user', (t) =>
    proveBucket(t, 'join', (i) => ({ userId: alice, room: `!r${i}:hs.test` }), 10, 0.1),
  );
  await t.test('rc_joins.remote: 10, then 0.01/s per user', (t) =>
    proveBucket(t, 'join', (i) => ({ userId: alice, room: `!r${i}:elsewhere.test` }), 10, 0.01),
  );
  await t.test('rc_joins_per_room: 10, then 1/s per room, across users', (t) =>
    proveBucket(t, 'join', (i) => ({ userId: `@u${i}:hs.test`, room: '!busy:hs.test' }), 10, 1),
  );
  await t.test('rc_invites.per_room: 10, then 0.3/s', (t) =>
    proveBucket(
      t,
      'invite',
      (i) => ({ userId: `@u${i}:hs.test`, room: '!r:hs.test', target: `@t${i}:hs.test` }),
      10,
      0.3,
    ),
  );
  await t.test('rc_invites.per_user (invitee): 5, then 0.003/s', (t) =>
    proveBucket(
      t,
      'invite',
      (i) => ({ userId: `@u${i}:hs.test`, room: `!r${i}:hs.test`, target: '@bob:hs.test' }),
      5,
      0.003,
    ),
  );
  await t.test('rc_invites.per_issuer: 10, then 0.3/s', (t) =>
    proveBucket(
      t,
      'invite',
      (i) => ({ userId: alice, room: `!r${i}:hs.test`, target: `@t${i}:hs.test` }),
      10,
      0.3,
    ),
  );
  await t.test('rc_key_requests: 100, then 20/s', (t) =>
    proveBucket(t, 'key_requests', () => ({ userId: alice }), 100, 20),
  );
  await t.test('rc_media_create: 50, then 10/s', (t) =>
    proveBucket(t, 'media_create', () => ({ userId: alice }), 50, 10),
  );
  await t.test('rc_presence.per_user: 1, then 0.1/s', (t) =>
    proveBucket(t, 'presence', () => ({ userId: alice }), 1, 0.1),
  );
  await t.test('redactions count against rc_message', (t) =>
    proveBucket(t, 'redaction', () => ({ userId: alice }), 10, 0.2),
  );
});

void t.test('a cost counts several actions at once (to-device key requests to many devices)', async (t) => {
  const { service } = limits();
  t.equal(await outcome(service, 'key_requests', { userId: alice, cost: 100 }), 'ok');
  t.equal(await outcome(service, 'key_requests', { userId: alice, cost: 1 }), 50);
});

void t.test(
  'server admins are exempt, except that their redactions count against rc_admin_redaction',
  async (t) => {
    const admin = '@admin:hs.test';
    const { service, advance } = limits([admin]);
    for (let i = 0; i < 30; i++) t.equal(await outcome(service, 'message', { userId: admin }), 'ok');
    for (let i = 0; i < 20; i++)
      t.equal(await outcome(service, 'join', { userId: admin, room: '!r:elsewhere.test' }), 'ok');
    for (let i = 0; i < 10; i++)
      t.equal(
        await outcome(service, 'invite', { userId: admin, room: '!r:hs.test', target: '@bob:hs.test' }),
        'ok',
      );
    // rc_message is spent, so redactions now run on rc_admin_redaction: 50, then 1/s.
    for (let i = 0; i < 50; i++) t.equal(await outcome(service, 'redaction', { userId: admin }), 'ok');
    t.equal(await outcome(service, 'redaction', { userId: admin }), 1000);
    advance(1000);
    t.equal(await outcome(service, 'redaction', { userId: admin }), 'ok');
  },
);

void t.test('a refused action spends nothing from the other buckets', async (t) => {
  const { service } = limits();
  for (let i = 0; i < 5; i++)
    await service.limit('invite', {
      userId: `@u${i}:hs.test`,
      room: `!r${i}:hs.test`,
      target: '@bob:hs.test',
    });
  t.not(
    await outcome(service, 'invite', { userId: alice, room: '!x:hs.test', target: '@bob:hs.test' }),
    'ok',
  );
  // alice's per_issuer bucket is still full: 10 invites of other users pass.
  for (let i = 0; i < 10; i++)
    t.equal(
      await outcome(service, 'invite', { userId: alice, room: `!y${i}:hs.test`, target: `@z${i}:hs.test` }),
      'ok',
    );
});
