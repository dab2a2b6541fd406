import t from 'tap';
import type { Cradle } from '../../../../core/container.js';
import { MatrixError } from '../../../../core/errors.js';
import { RateLimiter } from '../../../../core/http/rate-limit.js';
import type { UiaSessionRow } from '../../../../modules/auth/store/uia-store.js';
import { UiaRequiredError, UiaServiceImpl } from '../../../../modules/auth/services/uia-service.js';
import { AuthExtensions } from '../../../../modules/auth/services/extensions.js';

/** An in-memory stand-in for the UIA table, and password checks that accept "right" for @alice. */
function makeService() {
  const sessions = new Map<string, UiaSessionRow>();
  const uia = {
    async create(s: Omit<UiaSessionRow, 'completed' | 'serverDict'>) {
      sessions.set(s.sessionId, { ...s, completed: {}, serverDict: {} });
    },
    async get(id: string) {
      return sessions.get(id);
    },
    async setClientDict(id: string, clientDict: Record<string, unknown>) {
      sessions.set(id, { ...sessions.get(id)!, clientDict });
    },
    async setCompleted(id: string, completed: Record<string, unknown>) {
      sessions.set(id, { ...sessions.get(id)!, completed });
    },
    async setServerDict(id: string, serverDict: Record<string, unknown>) {
      sessions.set(id, { ...sessions.get(id)!, serverDict });
    },
    async delete(id: string) {
      sessions.delete(id);
    },
  };
  const passwords = {
    passwordReauthEnabled: true,
    loginTypes: () => ['m.login.password'],
    qualify: (u: string) => (u.startsWith('@') ? u : `@${u}:hs`),
    async check(userId: string, _type: string, fields: Readonly<Record<string, unknown>>) {
      return userId === '@alice:hs' && fields['password'] === 'right' ? { userId, viaProvider: false } : null;
    },
  };
  const limit = { per_second: 1000, burst_count: 1000 };
  const service = new UiaServiceImpl({
    authStore: { uia } as unknown as Cradle['authStore'],
    authPasswords: passwords as unknown as Cradle['authPasswords'],
    authRateLimits: { failedAttempts: new RateLimiter(limit) } as unknown as Cradle['authRateLimits'],
    authRegistrationTokens: {
      claim: async (token: string) => token === 'good',
    } as unknown as Cradle['authRegistrationTokens'],
    authExtensions: new AuthExtensions(),
  });
  return { service, sessions };
}

const alice = { userId: '@alice:hs', deviceId: 'D', isGuest: false, accessTokenId: '1' };
const base = { requester: alice, description: 'test', method: 'POST', path: '/x' };

async function challenge(p: Promise<unknown>): Promise<UiaRequiredError> {
  try {
    await p;
  } catch (err) {
    if (err instanceof UiaRequiredError) return err;
    throw err;
  }
  throw new Error('expected a UIA challenge');
}

void t.test('no auth: a 401 with flows, params and a session, and no errcode', async (t) => {
  const { service } = makeService();
  const err = await challenge(service.require({ ...base, body: { a: 1 }, flows: [['m.login.password']] }));
  t.equal(err.status, 401);
  t.same(err.toJSON(), { flows: [{ stages: ['m.login.password'] }], params: {}, session: err.session });
});

void t.test('a wrong password: the same 401 plus errcode, and the session can go on', async (t) => {
  const { service } = makeService();
  const first = await challenge(service.require({ ...base, body: {}, flows: [['m.login.password']] }));
  const auth = {
    type: 'm.login.password',
    identifier: { type: 'm.id.user', user: 'alice' },
    session: first.session,
  };
  const wrong = await challenge(
    service.require({
      ...base,
      body: { auth: { ...auth, password: 'wrong' } },
      flows: [['m.login.password']],
    }),
  );
  t.match(wrong.toJSON(), {
    errcode: 'M_FORBIDDEN',
    session: first.session,
    flows: [{ stages: ['m.login.password'] }],
  });
  const ok = await service.require({
    ...base,
    body: { auth: { ...auth, password: 'right' } },
    flows: [['m.login.password']],
  });
  t.same(ok.completed, { 'm.login.password': '@alice:hs' });
});

void t.test('multi-stage flows report completed stages; the stored body is returned', async (t) => {
  const { service, sessions } = makeService();
  const flows = [['m.login.registration_token', 'm.login.dummy']];
  const req = { ...base, requester: null, flows };
  const first = await challenge(service.require({ ...req, body: { username: 'u' } }));
  const half = await challenge(
    service.require({
      ...req,
      body: { auth: { type: 'm.login.registration_token', token: 'good', session: first.session } },
    }),
  );
  t.same(half.toJSON()['completed'], ['m.login.registration_token']);
  const done = await service.require({
    ...req,
    body: { auth: { type: 'm.login.dummy', session: first.session } },
  });
  t.same(done.clientDict, { username: 'u' }, 'a request with only auth reuses the first body');
  t.equal(sessions.size, 0, 'the session is gone once used');
  await t.rejects(
    service.require({ ...req, body: { auth: { type: 'm.login.dummy', session: first.session } } }),
    { name: 'MatrixError', status: 400, message: /Unknown session/ },
    'a used session cannot authorise a second operation',
  );
});

void t.test('another user, another operation, an unoffered stage are refused', async (t) => {
  const { service } = makeService();
  const first = await challenge(service.require({ ...base, body: {}, flows: [['m.login.password']] }));
  await t.rejects(
    service.require({
      ...base,
      body: { auth: { type: 'm.login.password', user: 'bob', password: 'x', session: first.session } },
      flows: [['m.login.password']],
    }),
    { name: 'MatrixError', status: 403, message: /Invalid auth/ },
  );
  await t.rejects(
    service.require({
      ...base,
      path: '/y',
      body: { auth: { type: 'm.login.dummy', session: first.session } },
      flows: [['m.login.dummy']],
    }),
    { status: 403, message: /operation has changed/ },
  );
  const err = await service
    .require({
      ...base,
      body: { auth: { type: 'm.login.dummy', session: first.session } },
      flows: [['m.login.password']],
    })
    .catch((e: unknown) => e);
  t.ok(err instanceof MatrixError && err.errcode === 'M_UNRECOGNIZED');
});
