/** Synapse's default_identity_server: advertised as m.identity_server in /.well-known/matrix/client. */
import t from 'tap';
import { startServer } from '../../../helpers/start-server.js';

void t.test(
  'default_identity_server appears in /.well-known/matrix/client beside m.homeserver',
  async (t) => {
    const server = await startServer(t, {
      config: {
        public_baseurl: 'https://matrix.example.org/',
        default_identity_server: 'https://id.example.org',
      },
    });
    const res = await server.request('GET', '/.well-known/matrix/client');
    t.equal(res.status, 200);
    t.same(res.body, {
      'm.homeserver': { base_url: 'https://matrix.example.org/' },
      'm.identity_server': { base_url: 'https://id.example.org' },
    });
  },
);

void t.test('without public_baseurl nothing is advertised, as in Synapse', async (t) => {
  const server = await startServer(t, { config: { default_identity_server: 'https://id.example.org' } });
  t.equal((await server.request('GET', '/.well-known/matrix/client')).status, 404);
});

void t.test('default_identity_server must be an http(s) URL', async (t) => {
  await t.rejects(startServer(t, { config: { default_identity_server: 'id.example.org' } }), {
    code: 'AXON_ERR_CONFIG_INVALID',
    message: /default_identity_server/,
  });
});
