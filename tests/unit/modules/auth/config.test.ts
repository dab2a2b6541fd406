import t from 'tap';
import { checkAuthConfig, tokenLifetimes, type AuthConfig } from '../../../../modules/auth/config.js';
import { AuthConfigSchema } from '../../../../modules/auth/config.js';
import { compileSchema, configAjv } from '../../../../core/validation.js';

function withDefaults(data: Record<string, unknown>): AuthConfig {
  const validate = compileSchema(AuthConfigSchema, configAjv);
  const copy = structuredClone(data);
  if (!validate(copy)) throw new Error(JSON.stringify(validate.errors));
  return copy;
}

void t.test('defaults follow Synapse', async (t) => {
  const c = withDefaults({});
  t.equal(c.enable_registration, false);
  t.same(c.rc_login.address, { per_second: 0.003, burst_count: 5 });
  t.same(c.rc_login.failed_attempts, { per_second: 0.17, burst_count: 3 });
  t.same(c.rc_registration, { per_second: 0.17, burst_count: 3 });
  t.equal(c.password_config.enabled, true);
  t.equal(c.password_config.localdb_enabled, true);
  t.equal(c.password_config.policy.enabled, false);
  t.equal(c.login_via_existing_session.enabled, false);
  const l = tokenLifetimes(c);
  t.equal(l.refreshableAccessTokenMs, 300_000);
  t.equal(l.refreshTokenMs, null);
  t.equal(l.nonrefreshableAccessTokenMs, null);
  t.equal(l.loginTokenMs, 300_000);
});

void t.test('rejects malformed durations', async (t) => {
  t.throws(() => withDefaults({ session_lifetime: 'soon' }));
  t.equal(tokenLifetimes(withDefaults({ session_lifetime: '1d' })).sessionMs, 86_400_000);
});

void t.test('open registration without verification refuses to boot', async (t) => {
  t.throws(() => checkAuthConfig(withDefaults({ enable_registration: true })), {
    code: 'AXON_ERR_CONFIG_INVALID',
    message: /enable_registration_without_verification/,
  });
  t.doesNotThrow(() =>
    checkAuthConfig(
      withDefaults({ enable_registration: true, enable_registration_without_verification: true }),
    ),
  );
  t.doesNotThrow(
    () => checkAuthConfig(withDefaults({ enable_registration: true, registration_requires_token: true })),
    'a registration token is a verification step',
  );
  t.doesNotThrow(() => checkAuthConfig(withDefaults({})));
});
