import t from 'tap';
import registrationGuard from '../../../../spam-checkers/registration-guard/index.js';
import { registerWithFakeApi } from '../../../helpers/plugin-fixtures/fake-plugin-api.js';

const attempt = (username: string | undefined, email?: string) => ({
  username,
  requestInfo: [{ userAgent: 'test', ip: '192.0.2.1' }],
  ...(email ? { emailThreepid: { medium: 'email', address: email } } : {}),
});

void t.test('usernames matching a blocked pattern are denied', async (t) => {
  const { spamCheckers } = await registerWithFakeApi(registrationGuard, {
    blocked_username_patterns: ['^admin', 'casino'],
  });
  t.equal(await spamCheckers.checkRegistrationForSpam(attempt('administrator')), 'DENY');
  t.equal(await spamCheckers.checkRegistrationForSpam(attempt('best-CASINO-2024')), 'DENY');
  t.equal(await spamCheckers.checkRegistrationForSpam(attempt('alice')), 'ALLOW');
});

void t.test(
  'usernames matching a shadow-ban pattern are shadow-banned; DENY wins over SHADOW_BAN',
  async (t) => {
    const { spamCheckers, logs } = await registerWithFakeApi(registrationGuard, {
      blocked_username_patterns: ['^spam$'],
      shadow_ban_username_patterns: ['^spam', 'bot\\d+$'],
    });
    t.equal(await spamCheckers.checkRegistrationForSpam(attempt('bot123')), 'SHADOW_BAN');
    t.equal(await spamCheckers.checkRegistrationForSpam(attempt('spam')), 'DENY');
    t.equal(await spamCheckers.checkRegistrationForSpam(attempt('spammy')), 'SHADOW_BAN');
    t.ok(
      logs.some(
        (l) =>
          l['verdict'] === 'SHADOW_BAN' && l['username'] === 'bot123' && l['plugin'] === 'registration-guard',
      ),
    );
  },
);

void t.test('addresses in a blocked e-mail domain are denied', async (t) => {
  const { spamCheckers } = await registerWithFakeApi(registrationGuard, {
    blocked_email_domains: ['mailinator.com', '*.disposable.example'],
  });
  t.equal(await spamCheckers.checkRegistrationForSpam(attempt('alice', 'a@Mailinator.com')), 'DENY');
  t.equal(await spamCheckers.checkRegistrationForSpam(attempt('alice', 'a@x.disposable.example')), 'DENY');
  t.equal(await spamCheckers.checkRegistrationForSpam(attempt('alice', 'a@example.org')), 'ALLOW');
});

void t.test('a registration without a username is judged by its e-mail only', async (t) => {
  const { spamCheckers } = await registerWithFakeApi(registrationGuard, {
    blocked_username_patterns: ['.*'],
    shadow_ban_username_patterns: ['.*'],
  });
  t.equal(await spamCheckers.checkRegistrationForSpam(attempt(undefined)), 'ALLOW');
});

void t.test('an invalid pattern fails register() naming the key', async (t) => {
  await t.rejects(registerWithFakeApi(registrationGuard, { shadow_ban_username_patterns: ['*x'] }), {
    message: /shadow_ban_username_patterns\[0\] is not a valid regular expression/,
  });
});
