import t from 'tap';
import {
  checkAuthConfig,
  passwordHashingCost,
  tokenLifetimes,
  type AuthConfig,
} from '../../../../modules/auth/config.js';
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
  t.same(
    passwordHashingCost(c),
    { opslimit: 2, memlimit: 64 * 1024 * 1024 },
    "libsodium's interactive level",
  );
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

void t.test('password hashing cost: a size for memory, refused below Argon2 minimum', async (t) => {
  const c = withDefaults({ password_config: { hashing: { opslimit: 1, memlimit: '8K' } } });
  t.same(passwordHashingCost(c), { opslimit: 1, memlimit: 8192 });
  t.throws(() => checkAuthConfig(withDefaults({ password_config: { hashing: { memlimit: 4096 } } })), {
    code: 'AXON_ERR_CONFIG_INVALID',
    message: /password_config\.hashing\.memlimit/,
  });
  t.throws(() => withDefaults({ password_config: { hashing: { opslimit: 0 } } }));
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
