import t from 'tap';
import { escapeFilterValue } from '../../../../plugins/ldap-provider/index.js';
import ldapProvider from '../../../../plugins/ldap-provider/index.js';
import { registerWithFakeApi } from '../../../helpers/plugin-fixtures/fake-plugin-api.js';

void t.test('filter values are escaped as RFC 4515 says', async (t) => {
  // RFC 4515 section 4 examples.
  t.equal(
    escapeFilterValue('Parens R Us (for all your parenthetical needs)'),
    'Parens R Us \\28for all your parenthetical needs\\29',
  );
  t.equal(escapeFilterValue('*'), '\\2a');
  t.equal(escapeFilterValue('C:\\MyFile'), 'C:\\5cMyFile');
  t.equal(escapeFilterValue('a\0b'), 'a\\00b');
  t.equal(escapeFilterValue('alice'), 'alice');
});

void t.test('config defaults: attributes uid/mail/displayName, 2 s timeout, users created', async (t) => {
  const { config } = await registerWithFakeApi(ldapProvider, { uri: 'ldap://127.0.0.1:1', base: 'dc=x' });
  t.match(config, {
    attributes: { uid: 'uid', mail: 'mail', name: 'displayName' },
    timeout_ms: 2000,
    create_users: true,
    start_tls: false,
  });
});

void t.test('the uri must be ldap:// or ldaps://', async (t) => {
  await t.rejects(registerWithFakeApi(ldapProvider, { uri: 'http://x', base: 'dc=x' }), { message: /uri/ });
});
