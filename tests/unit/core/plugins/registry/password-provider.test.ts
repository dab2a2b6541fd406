import t from 'tap';
import type { PasswordProvider } from '../../../../../core/plugins/api.js';
import { BootError, MatrixError } from '../../../../../core/errors.js';
import { createLogger } from '../../../../../core/logger.js';
import { PasswordProviderRegistry } from '../../../../../core/plugins/registry/password-provider.js';

const logger = createLogger('silent');
const registry = (timeoutMs = 100): PasswordProviderRegistry =>
  new PasswordProviderRegistry({ logger, timeoutMs });
const login = (user: string, password: unknown, loginType = 'm.login.password') => ({
  user,
  loginType,
  fields: { password },
});

void t.test('with no provider no login is recognised (the caller falls back to its database)', async (t) => {
  const reg = registry();
  t.equal(await reg.checkAuth(login('@a:x', 'pw')), null);
  t.same([...reg.loginTypes()], []);
  t.equal(reg.size, 0);
});

void t.test('checkPassword claims m.login.password and answers for local users', async (t) => {
  const reg = registry();
  reg.add('pw', { checkPassword: ({ userId, password }) => userId === '@a:x' && password === 'right' });
  t.same([...reg.loginTypes()], [['m.login.password', ['password']]]);
  t.same(await reg.checkAuth(login('@a:x', 'right')), { userId: '@a:x' });
  t.equal(await reg.checkAuth(login('@a:x', 'wrong')), null);
  t.equal(await reg.checkAuth(login('a', 'right')), null, 'not a user id: the shorthand is not asked');
  t.equal(await reg.checkAuth(login('@a:x', 42)), null, 'no password string: not asked');
});

void t.test('the first provider that accepts wins; null falls through to the next', async (t) => {
  const reg = registry();
  const asked: string[] = [];
  reg.add('first', { checkPassword: () => (asked.push('first'), false) });
  reg.add('second', {
    loginTypes: { 'm.login.password': ['password'] },
    checkAuth: async ({ user }) => (asked.push('second'), { userId: user }),
  });
  reg.add('third', { checkPassword: () => (asked.push('third'), true) });
  t.same(await reg.checkAuth(login('@a:x', 'pw')), { userId: '@a:x' });
  t.same(asked, ['first', 'second']);
});

void t.test('checkAuth handles custom login types and is asked only for its own types', async (t) => {
  const reg = registry();
  reg.add('token', {
    loginTypes: { 'com.example.login.token': ['token'] },
    checkAuth: ({ user, loginType, fields }) =>
      loginType === 'com.example.login.token' && fields['token'] === 't0k' ? { userId: user } : null,
  });
  t.same(
    await reg.checkAuth({ user: '@a:x', loginType: 'com.example.login.token', fields: { token: 't0k' } }),
    {
      userId: '@a:x',
    },
  );
  t.equal(await reg.checkAuth(login('@a:x', 't0k')), null, 'not asked for m.login.password');
});

void t.test('two providers claiming one login type with different fields stop boot', async (t) => {
  const reg = registry();
  reg.add('a', { loginTypes: { 'com.example.login.otp': ['otp'] }, checkAuth: () => null });
  const err = (() => {
    try {
      reg.add('b', { loginTypes: { 'com.example.login.otp': ['otp', 'pin'] }, checkAuth: () => null });
    } catch (e) {
      return e;
    }
    return undefined;
  })();
  t.ok(err instanceof BootError);
  t.equal((err as BootError).code, 'AXON_ERR_PLUGIN_CONFLICT');
  t.match((err as BootError).message, /"a" and "b" both handle login type com\.example\.login\.otp/);
});

void t.test('two providers claiming one login type with the same fields (in any order) chain', async (t) => {
  const reg = registry();
  reg.add('a', { loginTypes: { 'com.example.login.otp': ['otp', 'pin'] }, checkAuth: () => null });
  reg.add('b', {
    loginTypes: { 'com.example.login.otp': ['pin', 'otp'] },
    checkAuth: () => ({ userId: '@b:x' }),
  });
  reg.add('c', { checkPassword: () => true });
  reg.add('d', { checkPassword: () => true });
  t.equal(reg.size, 4);
  t.same(await reg.checkAuth({ user: '@a:x', loginType: 'com.example.login.otp', fields: {} }), {
    userId: '@b:x',
  });
});

void t.test('checkPassword and a different m.login.password declaration conflict', async (t) => {
  const reg = registry();
  reg.add('a', { loginTypes: { 'm.login.password': ['password', 'otp'] }, checkAuth: () => null });
  t.throws(() => reg.add('b', { checkPassword: () => true }), { code: 'AXON_ERR_PLUGIN_CONFLICT' });
});

void t.test('a provider that throws, hangs or answers nonsense fails the login with 403', async (t) => {
  const failing: PasswordProvider[] = [
    {
      checkPassword() {
        throw new Error('ldap down');
      },
    },
    { checkPassword: () => new Promise<boolean>(() => {}) },
    { checkPassword: () => 'yes' as never },
    { loginTypes: { 'm.login.password': ['password'] }, checkAuth: () => ({ user: '@a:x' }) as never },
  ];
  for (const provider of failing) {
    const reg = registry(20);
    reg.add('bad', provider);
    reg.add('good', { checkPassword: () => true });
    const err = await reg.checkAuth(login('@a:x', 'pw')).catch((e: unknown) => e);
    t.ok(err instanceof MatrixError && err.status === 403 && err.errcode === 'M_FORBIDDEN');
  }
});

void t.test('malformed providers are refused when registered', async (t) => {
  const reg = registry();
  t.throws(() => reg.add('x', {} as never), { message: /needs checkAuth or checkPassword/ });
  t.throws(() => reg.add('x', { checkAuth: () => null } as never), { message: /needs loginTypes/ });
  t.throws(() => reg.add('x', { loginTypes: { t: 'password' }, checkAuth: () => null } as never), {
    message: /loginTypes\["t"\] must be a list/,
  });
  t.throws(() => reg.add('x', { checkPassword: () => true, chekAuth: () => null } as never), {
    message: /unknown password-provider callback "chekAuth"/,
  });
  t.equal(reg.size, 0);
});

void t.test('check3pidAuth: the first provider with a user wins', async (t) => {
  const reg = registry();
  reg.add('none', { checkPassword: () => false, check3pidAuth: () => null });
  reg.add('mail', {
    checkPassword: () => false,
    check3pidAuth: ({ address, password }) =>
      address === 'a@x.org' && password === 'pw' ? { userId: '@a:x' } : null,
  });
  t.same(await reg.check3pidAuth({ medium: 'email', address: 'a@x.org', password: 'pw' }), {
    userId: '@a:x',
  });
  t.equal(await reg.check3pidAuth({ medium: 'email', address: 'a@x.org', password: 'no' }), null);
});

void t.test('onLoggedOut tells every provider, and a failure does not stop the others', async (t) => {
  const reg = registry();
  const told: string[] = [];
  reg.add('a', {
    checkPassword: () => false,
    onLoggedOut() {
      throw new Error('nope');
    },
  });
  reg.add('b', { checkPassword: () => false, onLoggedOut: ({ userId }) => void told.push(userId) });
  await reg.onLoggedOut({ userId: '@a:x', deviceId: 'D', accessToken: 'tok' });
  t.same(told, ['@a:x']);
});

void t.test(
  'registration helpers: the first string wins; isThreePidAllowed is false when any provider refuses',
  async (t) => {
    const reg = registry();
    reg.add('a', {
      checkPassword: () => false,
      getUsernameForRegistration: () => null,
      isThreePidAllowed: () => true,
    });
    reg.add('b', {
      checkPassword: () => false,
      getUsernameForRegistration: () => 'from-b',
      getDisplaynameForRegistration: async () => 'B',
      isThreePidAllowed: ({ address }) => !address.endsWith('@spam.example'),
    });
    const uia = { uiaResults: {}, params: {} };
    t.equal(await reg.getUsernameForRegistration(uia), 'from-b');
    t.equal(await reg.getDisplaynameForRegistration(uia), 'B');
    t.equal(
      await reg.isThreePidAllowed({ medium: 'email', address: 'a@ok.example', registration: true }),
      true,
    );
    t.equal(
      await reg.isThreePidAllowed({ medium: 'email', address: 'a@spam.example', registration: true }),
      false,
    );
  },
);
